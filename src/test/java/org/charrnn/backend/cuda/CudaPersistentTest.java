package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.CliRun;
import org.charrnn.util.UserError;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --rnn-kernel}: the persistent LSTM, GRU and RNN passes (one cooperative launch per layer,
 * forward and backward) and the stepwise ones each pass the parity suite against the fp64 reference
 * at awkward shapes (H = 1, H = 33, B = 1, T = 1, L = 3, dropout), and persistent against stepwise
 * directly; auto goes by the cost model ({@link RnnCostModelTest} checks its choices); a forced
 * persistent kernel that cannot run is a one-line error saying why; the device line says which ran.
 */
@Tag("gpu")
class CudaPersistentTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    /** The standard shapes and three more of every cell with persistent kernels. */
    static Stream<Verifier.Shape> persistentShapes() {
        List<Verifier.Shape> s = new ArrayList<>();
        for (Verifier.Shape v : Verifier.standardShapes()) if (RnnKernel.hasPersistent(v.cell())) s.add(v);
        for (CellType c : CellType.values()) {
            if (!RnnKernel.hasPersistent(c)) continue;
            s.add(new Verifier.Shape(c, 11, 7, 33, 3, 1, 1, 0.0)); // B = 1, T = 1, L = 3, H = 33
            s.add(new Verifier.Shape(c, 13, 16, 64, 3, 8, 7, 0.1)); // more (b, j) pairs than threads
            // B H past the kernels' 8192-float stage: h_{t-1} and dgates in k-tiles; H prime, B % 4 != 0
            s.add(new Verifier.Shape(c, 9, 5, 97, 1, 90, 2, 0.0));
        }
        return s.stream();
    }

    /**
     * The parity suite on {@code kernel}; the device line (read after the run, when it names each
     * batch size's choices) must say which ran, and for a persistent LSTM or GRU, on this device
     * without a clock rate, that the backward ran row-stationary unless {@code backward} says
     * otherwise ({@link PersistentKnobs#BACKWARD_PROPERTY}, set for the run).
     */
    private static void assertParity(RnnKernel kernel, Verifier.Shape shape, long seed, String backward) {
        if (backward != null) System.setProperty(PersistentKnobs.BACKWARD_PROPERTY, backward);
        try {
            String line = CudaTestSupport.parityDeviceLine(kernel, shape, seed, "backward " + backward);
            assertTrue(line.contains("rnn " + kernel.id()), line);
            if (kernel == RnnKernel.PERSISTENT && RnnCostModel.hasRows(shape.cell()))
                assertTrue(
                        line.contains("backward " + (backward == null ? "rows" : backward) + " at B " + shape.batch()),
                        line);
        } finally {
            System.clearProperty(PersistentKnobs.BACKWARD_PROPERTY);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("persistentShapes")
    void persistentTrainingStepMatchesReference(Verifier.Shape shape) {
        assertParity(RnnKernel.PERSISTENT, shape, 37 + shape.hashCode(), null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("persistentShapes")
    void stepwiseTrainingStepMatchesReference(Verifier.Shape shape) {
        assertParity(RnnKernel.STEPWISE, shape, 41 + shape.hashCode(), null);
    }

    /** The LSTM's and GRU's shapes of {@link #persistentShapes}: the cells with two persistent backward kernels. */
    static Stream<Verifier.Shape> twoBackwardShapes() {
        return persistentShapes().filter(v -> RnnCostModel.hasRows(v.cell()));
    }

    /**
     * The LSTM's and GRU's other persistent backward, the column-stationary one (chosen with {@link
     * PersistentKnobs#BACKWARD_PROPERTY}; the row-stationary one runs in {@link
     * #persistentTrainingStepMatchesReference}), passes the parity suite and says so.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("twoBackwardShapes")
    void columnStationaryBackwardMatchesReference(Verifier.Shape shape) {
        assertParity(RnnKernel.PERSISTENT, shape, 47 + shape.hashCode(), "columns");
    }

    @Test
    void anUnknownBackwardKernelIsAOneLineError() {
        System.setProperty(PersistentKnobs.BACKWARD_PROPERTY, "diagonal");
        try {
            UserError e = assertThrows(
                    UserError.class,
                    () -> device(new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0), BackendOptions.defaults()));
            assertEquals("charrnn.persistent.backward must be auto, rows or columns, not 'diagonal'", e.getMessage());
        } finally {
            System.clearProperty(PersistentKnobs.BACKWARD_PROPERTY);
        }
    }

    /**
     * Forced persistent with {@link PersistentKnobs#UNITS_PROPERTY} past H: one block for all of H,
     * more units per block than the fewest on any device of two SMs or more, through every launch.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void forcedUnitsPerBlockPassTheParitySuite(CellType cell) {
        Verifier.Shape shape = new Verifier.Shape(cell, 13, 16, 64, 2, 8, 7, 0.1);
        System.setProperty(PersistentKnobs.UNITS_PROPERTY, "1000"); // more than H: one block of all 64
        try {
            String line = CudaTestSupport.parityDeviceLine(RnnKernel.PERSISTENT, shape, 53, cell.id());
            assertTrue(line.contains("rnn persistent (1 blocks x 64 units"), line);
        } finally {
            System.clearProperty(PersistentKnobs.UNITS_PROPERTY);
        }
    }

    /**
     * The cluster layout forced ({@link PersistentKnobs#LAYOUT_PROPERTY}) through every launch of
     * each cell, forward and backward, with three clusters over B 7 (rows 3, 3 and 1: a short last
     * cluster; {@link PersistentKnobs#CLUSTERS_PROPERTY}) and a last block of 1 unit (H 33, 5 units
     * a block), two layers, dropout; the device line says the layout ran, with the exchange through
     * distributed shared memory in both passes ({@link PersistentKnobs#EXCHANGE_PROPERTY} auto: on, as
     * this device reports no clock rate; every plan here is one k-tile) or, off, without it; the
     * LSTM's and GRU's backward column-stationary or row-stationary ({@link
     * PersistentKnobs#BACKWARD_PROPERTY}: persistent_cluster_rows.cuh, which exchanges nothing).
     */
    @ParameterizedTest(name = "{0} exchange {1} backward {2}")
    @CsvSource({
        "LSTM, auto, columns",
        "GRU, auto, columns",
        "RNN, auto, auto",
        "LSTM, off, columns",
        "LSTM, auto, rows",
        "GRU, off, rows"
    })
    void clusterLayoutPassesTheParitySuite(CellType cell, String exchange, String backward) {
        Verifier.Shape shape = new Verifier.Shape(cell, 13, 16, 33, 2, 7, 4, 0.1); // T 4: each slot twice
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "cluster");
        System.setProperty(PersistentKnobs.CLUSTERS_PROPERTY, "3");
        System.setProperty(PersistentKnobs.EXCHANGE_PROPERTY, exchange);
        System.setProperty(PersistentKnobs.BACKWARD_PROPERTY, backward);
        try {
            String line = CudaTestSupport.parityDeviceLine(RnnKernel.PERSISTENT, shape, 59, cell.id());
            assertTrue(line.contains("rnn persistent (3 clusters of 8 blocks x 5 units"), line);
            boolean rows = backward.equals("rows");
            String exchanged = exchange.equals("off") ? "" : rows ? " (forward)" : " (both passes)";
            assertEquals(!exchanged.isEmpty(), line.contains("with the DSMEM exchange" + exchanged + ","), line);
            assertTrue(line.contains(rows ? "backward rows at B 7" : "backward clusters at B 7"), line);
        } finally {
            System.clearProperty(PersistentKnobs.BACKWARD_PROPERTY);
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
            System.clearProperty(PersistentKnobs.CLUSTERS_PROPERTY);
            System.clearProperty(PersistentKnobs.EXCHANGE_PROPERTY);
        }
    }

    /** A knob of the cluster layout with a value it does not take: a one-line error naming the choices. */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "charrnn.persistent.layout, rows, 'auto, grid or cluster'",
        "charrnn.persistent.layout, Cluster, 'auto, grid or cluster'",
        "charrnn.persistent.layout, '', 'auto, grid or cluster'",
        "charrnn.persistent.exchange, yes, 'auto, on or off'",
        "charrnn.persistent.exchange, ON, 'auto, on or off'",
        "charrnn.persistent.exchange, '', 'auto, on or off'",
    })
    void anUnknownLayoutOrExchangeIsAOneLineError(String property, String value, String choices) {
        System.setProperty(property, value);
        try {
            UserError e = assertThrows(
                    UserError.class,
                    () -> device(new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0), BackendOptions.defaults()));
            assertEquals(property + " must be " + choices + ", not '" + value + "'", e.getMessage());
        } finally {
            System.clearProperty(property);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "four", "-3"})
    void badUnitsPerBlockAreAOneLineError(String value) {
        System.setProperty(PersistentKnobs.UNITS_PROPERTY, value);
        try {
            UserError e = assertThrows(
                    UserError.class,
                    () -> device(new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0), BackendOptions.defaults()));
            assertTrue(
                    e.getMessage().startsWith("charrnn.persistent.units must be a whole number of at least "),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith(", not '" + value + "'"), e.getMessage());
        } finally {
            System.clearProperty(PersistentKnobs.UNITS_PROPERTY);
        }
    }

    @Test
    void aBadRatesFileIsAOneLineError(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("rates.json"), "{\"grid_barrier_us\":0.5}");
        System.setProperty(RnnRates.PROPERTY, f.toString());
        try {
            UserError e = assertThrows(
                    UserError.class,
                    () -> device(new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0), BackendOptions.defaults()));
            assertEquals(
                    "charrnn.persistent.rates: " + f + " is not a probe_rates line: no number tile_clocks",
                    e.getMessage());
        } finally {
            System.clearProperty(RnnRates.PROPERTY);
        }
    }

    /** Persistent against stepwise, both fp32 on the device: loss, every gradient and the carried state. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("persistentShapes")
    void persistentTrainingStepMatchesStepwise(Verifier.Shape shape) {
        assertPersistentMatchesStepwise(Precision.FP32, shape, 43 + shape.hashCode());
    }

    /** Persistent against stepwise, both at precision {@code p} on the device, within {@code p}'s tolerances. */
    private static void assertPersistentMatchesStepwise(Precision p, Verifier.Shape shape, long seed) {
        Verifier v = new Verifier(
                (cfg, o) -> new CudaBackend(cfg, o.withRnnKernel(RnnKernel.PERSISTENT)),
                p,
                (cfg, o) -> new CudaBackend(cfg, o.withPrecision(p).withRnnKernel(RnnKernel.STEPWISE)),
                Tolerances.forPrecision(p));
        List<Verifier.Check> checks = v.run(shape, seed);
        assertFalse(checks.isEmpty());
        assertTrue(Verifier.allPassed(checks), () -> p + "\n" + Verifier.table(checks));
    }

    private static String device(ModelConfig cfg, BackendOptions o) {
        try (CudaBackend b = new CudaBackend(cfg, o)) {
            return b.deviceName();
        }
    }

    /** Auto on this device: by the cost model, or stepwise where the device reports no clock (the emulated one). */
    private static void assertAuto(String device) {
        assertTrue(
                device.contains("rnn stepwise (" + PersistentRnn.NO_CLOCK + ")")
                        || device.contains("rnn auto (each pass by the cost model, "),
                device);
    }

    @Test
    void autoGoesByTheCostModelAndPersistentRunsWhenAsked() {
        BackendOptions o = BackendOptions.defaults();
        ModelConfig lstm = new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0);
        assertAuto(device(lstm, o));
        String forced = device(lstm, o.withRnnKernel(RnnKernel.PERSISTENT));
        assertTrue(forced.contains("rnn persistent ("), forced);
        String tf32 = device(lstm, o.withPrecision(Precision.TF32).withRnnKernel(RnnKernel.PERSISTENT));
        assertTrue(tf32.contains("rnn persistent (") && tf32.endsWith(" units, tf32 tensor-core products))"), tf32);
        String bf16 = device(lstm, o.withPrecision(Precision.BF16).withRnnKernel(RnnKernel.PERSISTENT));
        assertTrue(bf16.contains("rnn persistent (") && bf16.endsWith(" units, bf16 tensor-core products))"), bf16);
        for (CellType c : new CellType[] {CellType.GRU, CellType.RNN}) {
            ModelConfig cfg = new ModelConfig(c, 11, 7, 33, 2, 0.0);
            assertAuto(device(cfg, o));
            String forcedCell = device(cfg, o.withRnnKernel(RnnKernel.PERSISTENT));
            assertTrue(forcedCell.contains("rnn persistent ("), forcedCell);
        }
        String mut = device(new ModelConfig(CellType.MUT1, 11, 33, 33, 2, 0.0), o);
        assertTrue(
                mut.contains("rnn stepwise (only the lstm, gru and rnn cells have a persistent kernel, not mut1)"),
                mut);
        assertTrue(device(lstm, o.withRnnKernel(RnnKernel.STEPWISE)).endsWith(", rnn stepwise)"));
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"},
            mode = EnumSource.Mode.EXCLUDE)
    void forcedPersistentWithoutAKernelSaysSo(CellType cell) {
        BackendOptions o = BackendOptions.defaults().withRnnKernel(RnnKernel.PERSISTENT);
        UserError e = assertThrows(UserError.class, () -> device(new ModelConfig(cell, 11, 33, 33, 2, 0.0), o));
        assertEquals(
                "BackendOptions.rnnKernel persistent: only the lstm, gru and rnn cells have a persistent kernel, not "
                        + cell.id(),
                e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void forcedPersistentThatDoesNotFitSaysSo(CellType cell) {
        BackendOptions o = BackendOptions.defaults().withRnnKernel(RnnKernel.PERSISTENT);
        ModelConfig big = new ModelConfig(cell, 5, 3, 4096, 1, 0.0);
        UserError e = assertThrows(UserError.class, () -> device(big, o));
        String slice = "BackendOptions.rnnKernel persistent: a slice of W_hh (" + cell.recurrentGates() + " rows x ";
        assertTrue(e.getMessage().startsWith(slice), e.getMessage());
        assertTrue(e.getMessage().endsWith("KiB of shared memory per block"), e.getMessage());
    }

    /** bf16 keeps the W_hh slice in 2-byte elements: the smallest H whose fp32 slice does not fit runs in bf16. */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void bf16FitsAHiddenSizeThatFp32DoesNot(CellType cell) {
        int[] device = PersistentLimits.multiprocessorsAndSharedLimit(0);
        int h = PersistentLimits.largestSliceHidden(cell, device[0], device[1], 4) + 1;
        assertTrue(h <= PersistentLimits.largestSliceHidden(cell, device[0], device[1], 2), "H " + h);
        BackendOptions o = BackendOptions.defaults().withRnnKernel(RnnKernel.PERSISTENT);
        ModelConfig cfg = new ModelConfig(cell, 5, 3, h, 1, 0.0);
        UserError e = assertThrows(UserError.class, () -> device(cfg, o));
        assertTrue(e.getMessage().contains("a slice of W_hh"), e.getMessage());
        String bf16 = device(cfg, o.withPrecision(Precision.BF16));
        assertTrue(bf16.endsWith(" units, bf16 tensor-core products))"), bf16);
    }

    /** Shapes of the TF32 and bf16 persistent passes: one of each cell, L = 2 with dropout, and k-tiles. */
    static Stream<Verifier.Shape> precisionShapes() {
        List<Verifier.Shape> s = new ArrayList<>();
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
            s.add(new Verifier.Shape(c, 11, 7, 33, 2, 3, 5, 0.3));
            s.add(new Verifier.Shape(c, 9, 5, 97, 1, 90, 2, 0.0)); // B H past the stage: k-tiles
        }
        return s.stream();
    }

    /**
     * TF32 and bf16: the persistent passes round W_hh and h (dgates) as the stepwise path's cuBLAS
     * GEMMs read them, and pass the precision's parity tolerances against the fp64 reference.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("precisionShapes")
    void persistentTf32AndBf16MatchReferenceWithinTheirTolerances(Verifier.Shape shape) {
        for (Precision p : new Precision[] {Precision.TF32, Precision.BF16}) {
            String[] device = new String[1];
            Verifier v = new Verifier(
                    (cfg, o) -> {
                        CudaBackend b = new CudaBackend(cfg, o.withRnnKernel(RnnKernel.PERSISTENT));
                        device[0] = b.deviceName();
                        return b;
                    },
                    p,
                    org.charrnn.backend.ReferenceBackend::new,
                    Tolerances.forPrecision(p));
            List<Verifier.Check> checks = v.run(shape, 47 + shape.hashCode());
            assertTrue(Verifier.allPassed(checks), () -> p + "\n" + Verifier.table(checks));
            assertTrue(
                    device[0].contains(p.id() + " tensor-core products)"), device[0]); // the emulated device is sm_90
        }
    }

    /** TF32 persistent against TF32 stepwise: the same rounding of the same operands, within TF32's tolerances. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("precisionShapes")
    void persistentTf32MatchesStepwiseTf32(Verifier.Shape shape) {
        assertPersistentMatchesStepwise(Precision.TF32, shape, 53 + shape.hashCode());
    }

    @Test
    void forcedPersistentWhoseBlockDoesNotFitAtTheBatchSizeSaysSo() {
        // H 8: a W_hh slice of at most 1 KiB on any number of SMs, but at B 16384 the products alone
        // (at least 4 rows x 16384 floats) take more than a block's 227 KiB
        Verifier v = Verifier.againstReference((cfg, o) -> new CudaBackend(cfg, o.withRnnKernel(RnnKernel.PERSISTENT)));
        Verifier.Shape wide = new Verifier.Shape(CellType.LSTM, 5, 3, 8, 1, 16384, 1, 0.0);
        UserError e = assertThrows(UserError.class, () -> v.run(wide, 7));
        assertTrue(
                e.getMessage().startsWith("BackendOptions.rnnKernel persistent: at batch size 16384 a block needs "),
                e.getMessage());
        assertTrue(
                e.getMessage()
                        .endsWith(" KiB of shared memory (its W_hh slice, an h tile and the products),"
                                + " more than the 227 KiB per block"),
                e.getMessage());
    }

    @Test
    void verifyRunsTheParitySuiteOnThePersistentKernel() {
        CliRun r = CliRun.of("verify", "--backend", "cuda", "--rnn-kernel", "persistent");
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(r.out().contains("checks passed"), r.out());
        for (String cell : new String[] {"lstm V", "gru V", "rnn V"})
            assertTrue(r.out().contains(cell), r.out());
        assertFalse(r.out().contains("mut"), r.out()); // no persistent kernel: not verified on it
    }

    @Test
    void devicesSaysUpToWhichHiddenSizePersistentRunsAndWhatAutoPicks() {
        CliRun r = CliRun.of("devices");
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(
                r.out()
                        .matches("(?s).*device 0: --rnn-kernel persistent runs fp32 lstm H <= [1-9][0-9]*, "
                                + "gru H <= [1-9][0-9]*, rnn H <= [1-9][0-9]*; bf16 tensor-core lstm H <= [1-9][0-9]*, "
                                + "gru H <= [1-9][0-9]*, rnn H <= [1-9][0-9]* at B <= 128 "
                                + "\\(a block on each of [1-9][0-9]* SMs, 227 KiB of shared memory each\\); "
                                + "(auto runs stepwise: the device reports no clock rate for the cost model"
                                + "|auto runs each pass persistent where the cost model predicts it faster, e\\.g\\. "
                                + "rnn kernel at batch size 50 \\(cost model, [^)]*\\): ([^:]*: )?forward "
                                + "(persistent|stepwise) .*, backward (persistent|stepwise) .* per layer-step"
                                + "( \\(persistent in [^)]*\\))?); in a "
                                + "pass that runs stepwise, two layers or more run pipelined by chunks of the window on "
                                + "two streams "
                                + "\\(-Dcharrnn.layerPipeline, -Dcharrnn.pipelineChunk\\).*"),
                r.out());
    }

    @Test
    void anUnknownRnnKernelIsAOneLineError() {
        CliRun r = CliRun.of("verify", "--backend", "cuda", "--rnn-kernel", "fast");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(
                "charrnn: --rnn-kernel: unknown rnn kernel 'fast' (expected auto, persistent or stepwise)",
                r.err().strip());
    }
}
