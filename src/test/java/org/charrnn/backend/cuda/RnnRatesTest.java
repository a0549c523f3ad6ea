package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.charrnn.model.CellType;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cost model's rates: the assumed ones, and the ones native-test/probe_rates measures on a GPU
 * and {@code -Dcharrnn.persistent.rates} hands to the model.
 */
class RnnRatesTest {
    /** A line as probe_rates writes it (its fprintf formats), with rates unlike the assumed ones. */
    private static final String LINE = "{\"probe\":\"probe_rates\",\"device\":\"NVIDIA H200\",\"sms\":132,"
            + "\"clock_ghz\":1.9800,\"grid_barrier_us\":0.5,\"tile_clocks\":900,\"l2_bytes_per_us\":4.4e+06,"
            + "\"mma_latency\":30,\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"cluster_barrier_us\":0.3,"
            + "\"resident_clusters\":14,\"dsmem_bytes_per_us\":4e+04,\"grid_barrier_half_us\":0.45}\n";

    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        Path f = dir.resolve("rates.json");
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    @Test
    void aProbeLineReadsAsMeasuredRates() throws IOException {
        RnnRates r = RnnRates.read(write(LINE));
        assertEquals(
                new RnnRates(
                        0.5,
                        900,
                        4.4e6,
                        30,
                        480,
                        960,
                        0.3,
                        14,
                        4e4,
                        "measured on NVIDIA H200",
                        132,
                        RnnRates.Stepwise.ASSUMED),
                r);
        assertEquals(null, r.mismatch(132));
        assertEquals(
                "charrnn.persistent.rates: the rates were measured on 132 SMs, this device has 108: the cost model"
                        + " may misjudge",
                r.mismatch(108));
        assertEquals(null, RnnRates.ASSUMED.mismatch(108));
        assertEquals(960, r.mmaFmas(2));
        assertEquals(480, r.mmaFmas(4));
        RnnCostModel.Device d = new RnnCostModel.Device(132, 1.98, 227 << 10, r);
        assertEquals(
                "132 SMs at 1.98 GHz, 227 KiB, rates measured on NVIDIA H200: grid barrier 0.50 µs, k-tile 900"
                        + " clocks, L2 4.40 TB/s, mma 30 clocks, 480/960 FMAs per SM-clock, cluster barrier 0.30 µs,"
                        + " DSMEM 40 GB/s per SM, 14 clusters resident",
                d.toString());
        assertEquals("132 SMs at 1.98 GHz, 227 KiB", new RnnCostModel.Device(132, 1.98, 227 << 10).toString());
    }

    @Test
    void everyRateTheProbeWritesIsOneTheModelReads() throws IOException {
        // the names probe_rates.cu writes (its names[] table) against the keys of LINE, which read() requires
        String probe = Files.readString(
                Path.of(System.getProperty("charrnn.basedir"), "native-test", "probe_rates.cu"),
                StandardCharsets.UTF_8);
        // (and its cluster_names[], written where it ran on sm_90, which read() takes where present)
        Set<String> written = new LinkedHashSet<>();
        for (String table : new String[] {"names", "cluster_names"}) {
            Matcher m = Pattern.compile("const char \\*" + table + "\\[\\] = \\{([^}]*)\\}")
                    .matcher(probe);
            assertTrue(m.find(), "probe_rates.cu has a " + table + "[] table");
            Matcher name = Pattern.compile("\"(\\w+)\"").matcher(m.group(1));
            while (name.find()) written.add(name.group(1));
        }
        Set<String> read = new LinkedHashSet<>();
        Matcher key = Pattern.compile("\"(\\w+)\":[0-9]").matcher(LINE);
        while (key.find()) read.add(key.group(1));
        read.removeAll(Set.of("sms", "clock_ghz", "grid_barrier_half_us")); // the half barrier: beside the rates
        assertEquals(read, written);
    }

    @Test
    void theRatesPriceTheTermsTheyName() {
        RnnRates a = RnnRates.ASSUMED;
        RnnCostModel.Device base = new RnnCostModel.Device(132, 1.98, 227 << 10);
        RnnCostModel.Device slowBarrier = new RnnCostModel.Device(
                132, 1.98, 227 << 10, new RnnRates(a.gridBarrierUs() + 1, 600, 5.5e6, 32, 512, 1024, "x", 0));
        RnnCostModel.Device slowTiles = new RnnCostModel.Device(
                132, 1.98, 227 << 10, new RnnRates(1.5, 600 + 198, 5.5e6, 32, 512, 1024, "x", 0));
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
            RnnCostModel.Estimate f = RnnCostModel.forward(base, c, 256, 50);
            // one barrier per step, forward and backward; stepwise does not have one
            assertEquals(
                    f.persistentUs() + 1,
                    RnnCostModel.forward(slowBarrier, c, 256, 50).persistentUs(),
                    1e-9);
            assertEquals(
                    f.stepwiseUs(),
                    RnnCostModel.forward(slowBarrier, c, 256, 50).stepwiseUs(),
                    1e-12);
            RnnCostModel.Estimate b = RnnCostModel.backward(base, c, 256, 50);
            assertEquals(
                    b.persistentUs() + 1,
                    RnnCostModel.backward(slowBarrier, c, 256, 50).persistentUs(),
                    1e-9);
            // 198 clocks more a tile is 0.1 µs a tile at 1.98 GHz: the small rows' forward stages
            // h in 2 k-tiles (the doc's table)
            assertEquals(
                    f.persistentUs() + 0.2,
                    RnnCostModel.forward(slowTiles, c, 256, 50).persistentUs(),
                    1e-9);
        }
    }

    @Test
    void measuredRatesCanTurnAutosChoice() {
        // a 0.5 µs barrier runs the RNN's B 128 row persistent (4 groups of 32 blocks), which at the
        // assumed 1.5 µs stays stepwise; a 3 µs one sends the small LSTM row's backward, and the LSTM
        // B 128 row's forward, stepwise, persistent at the assumed rates
        RnnCostModel.Device fast =
                new RnnCostModel.Device(132, 1.98, 227 << 10, new RnnRates(0.5, 600, 5.5e6, 32, 512, 1024, "x", 0));
        RnnCostModel.Device slow =
                new RnnCostModel.Device(132, 1.98, 227 << 10, new RnnRates(3.0, 600, 5.5e6, 32, 512, 1024, "x", 0));
        RnnCostModel.Device assumed = new RnnCostModel.Device(132, 1.98, 227 << 10);
        assertFalse(PersistentChoice.decide(assumed, CellType.RNN, 512, 128).forward());
        assertTrue(PersistentChoice.decide(fast, CellType.RNN, 512, 128).forward());
        assertTrue(PersistentChoice.decide(fast, CellType.RNN, 512, 128).backward());
        assertTrue(PersistentChoice.decide(assumed, CellType.LSTM, 256, 50).backward());
        assertFalse(PersistentChoice.decide(slow, CellType.LSTM, 256, 50).backward());
        assertTrue(PersistentChoice.decide(assumed, CellType.LSTM, 256, 128).forward());
        assertFalse(PersistentChoice.decide(slow, CellType.LSTM, 256, 128).forward());
        // a much slower tensor core (a 32nd of the assumed rate, 32 times the latency) binds the mma
        // product, and stepwise's GEMM, which the model runs at the same rate
        RnnCostModel.Device slowMma =
                new RnnCostModel.Device(132, 1.98, 227 << 10, new RnnRates(1.5, 600, 5.5e6, 1024, 16, 32, "x", 0));
        for (ProductArithmetic m : new ProductArithmetic[] {ProductArithmetic.TF32_MMA, ProductArithmetic.BF16_MMA}) {
            RnnCostModel.Estimate before = RnnCostModel.forward(assumed, CellType.LSTM, 1024, 128, m);
            RnnCostModel.Estimate after = RnnCostModel.forward(slowMma, CellType.LSTM, 1024, 128, m);
            assertTrue(after.persistentUs() > before.persistentUs(), m + " " + after.describe());
            assertTrue(after.stepwiseUs() > before.stepwiseUs(), m + " " + after.describe());
        }
    }

    @Test
    void forcedPersistentLogsWhatTheModelPredicts() throws IOException {
        RnnCostModel.Device d = new RnnCostModel.Device(132, 1.98, 227 << 10, RnnRates.read(write(LINE)));
        PersistentChoice auto = PersistentChoice.decide(d, CellType.LSTM, 256, 50);
        // at these rates too auto takes 4 batch groups of 32 blocks of 8 units
        assertEquals(8, auto.units(), auto.line());
        assertEquals(4, auto.groups(), auto.line());
        String line = PersistentChoice.forcedLine(
                d, CellType.LSTM, 256, 50, ProductArithmetic.FP32, auto.units(), auto.groups(), 0);
        assertTrue(
                line.startsWith("rnn kernel at batch size 50: persistent, forced (cost model, 132 SMs at 1.98 GHz,"
                        + " 227 KiB, rates measured on NVIDIA H200: "),
                line);
        assertTrue(
                line.endsWith(": 8 units a block in 4 batch groups (128 blocks): "
                        + auto.line().replaceFirst(".*\\): ", "") + ")"),
                line);
    }

    @Test
    void aLineWithoutTheClusterRatesAssumesThem() throws IOException {
        String before = LINE.replaceAll(
                ",\"cluster_barrier_us\":[0-9.]+,\"resident_clusters\":[0-9]+,\"dsmem_bytes_per_us\":[0-9.e+]+", "");
        assertFalse(before.contains("cluster") || before.contains("dsmem"), before);
        RnnRates r = RnnRates.read(write(before));
        assertEquals(RnnRates.ASSUMED.clusterBarrierUs(), r.clusterBarrierUs());
        assertEquals(0, r.residentClusters());
        assertEquals(RnnRates.ASSUMED.dsmemBytesPerUs(), r.dsmemBytesPerUs());
        assertEquals(0.5, r.gridBarrierUs());
    }

    @Test
    void withoutThePropertyTheModelAssumes() {
        String before = System.clearProperty(RnnRates.PROPERTY);
        try {
            assertSame(RnnRates.ASSUMED, RnnRates.fromProperty());
        } finally {
            if (before != null) System.setProperty(RnnRates.PROPERTY, before);
        }
    }

    @Test
    void thePropertyNamesTheFile() throws IOException {
        Path f = write(LINE);
        String before = System.setProperty(RnnRates.PROPERTY, f.toString());
        try {
            assertEquals(0.5, RnnRates.fromProperty().gridBarrierUs());
        } finally {
            if (before == null) System.clearProperty(RnnRates.PROPERTY);
            else System.setProperty(RnnRates.PROPERTY, before);
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "", // empty
                "not json {",
                "[1, 2]",
                "{\"grid_barrier_us\":0.5}", // the other rates missing
                "{\"grid_barrier_us\":0.5,\"tile_clocks\":\"many\",\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960}",
                "{\"grid_barrier_us\":-1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960}",
                "{\"grid_barrier_us\":0,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960}",
                "{\"grid_barrier_us\":1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"cluster_barrier_us\":0}",
                "{\"grid_barrier_us\":1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"resident_clusters\":-2}",
                "{\"grid_barrier_us\":1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"resident_clusters\":2.5}",
                "{\"grid_barrier_us\":1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"resident_clusters\":1e20}",
                "{\"grid_barrier_us\":1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"sms\":-132}",
                "{\"grid_barrier_us\":1,\"tile_clocks\":900,\"l2_bytes_per_us\":4e6,\"mma_latency\":30,"
                        + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960,\"sms\":131.5}",
            })
    void aBadFileIsAOneLineError(String text) throws IOException {
        Path f = write(text);
        UserError e = assertThrows(UserError.class, () -> RnnRates.read(f));
        assertTrue(
                e.getMessage().startsWith(RnnRates.PROPERTY + ": " + f + " is not a probe_rates line: "),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aMissingFileIsAOneLineError() {
        Path f = dir.resolve("absent.json");
        UserError e = assertThrows(UserError.class, () -> RnnRates.read(f));
        assertTrue(e.getMessage().startsWith(RnnRates.PROPERTY + ": cannot read " + f), e.getMessage());
    }
}
