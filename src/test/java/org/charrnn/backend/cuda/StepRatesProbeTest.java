package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.charrnn.backend.Precision;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.CliRun;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link StepRatesProbe} end to end on a CUDA device (the emulated one in CI, where its times mean
 * nothing and only the launches, graphs and the file are checked): every rate the step cost model
 * reads comes out finite and in range, and {@code charrnn bench --probe} refuses the emulated device.
 */
@Tag("gpu")
class StepRatesProbeTest {
    @TempDir
    Path dir;

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    @Test
    void everyRateOfTheModelIsMeasured() {
        // a two-layer LSTM's steps at H 8, B 3, T 4: its GEMMs in fp32 and tf32, the recurrence's among them
        List<GemmShape> shapes = StepRatesProbe.shapes(
                List.of(new StepRatesProbe.Row(new ModelConfig(CellType.LSTM, 65, 8, 8, 2, 0.0), 3, 4)));
        assertTrue(shapes.contains(new GemmShape(Precision.TF32, false, true, 3, 32, 8, false)), shapes::toString);
        // the GEMMs the model puts on the side stream are timed on a handle with its workspace
        assertTrue(shapes.stream().anyMatch(GemmShape::side), shapes::toString);
        StepRatesProbe.Measured m = measure(shapes);
        assertEquals(
                List.of(StepCostModel.Rates.MEASURED), List.copyOf(m.rates().keySet()));
        for (Map.Entry<String, Double> e : m.rates().entrySet())
            assertTrue(e.getValue() >= 0 && Double.isFinite(e.getValue()), e.toString());
        for (String positive : new String[] {"kernel_us", "gemm_us", "hbm_bytes_per_us"})
            assertTrue(m.rates().get(positive) > 0, positive);
        assertEquals(
                shapes.stream().map(GemmShape::key).toList(),
                List.copyOf(m.gemms().keySet()));
        for (Map.Entry<String, Double> e : m.gemms().entrySet())
            assertTrue(e.getValue() > 0 && Double.isFinite(e.getValue()), e.toString());
        Path f = dir.resolve("rates.json");
        StepRatesProbe.writeInto(f, m);
        StepCostModel.Rates r = org.charrnn.testutil.Properties.with(
                RnnRates.PROPERTY, f.toString(), () -> StepCostModel.Rates.fromProperty(StepCostModel.h200()));
        assertEquals(m.rates().get("kernel_us"), r.kernelUs());
        assertEquals("measured on " + m.device(), r.source());
        for (GemmShape g : shapes) assertEquals(m.gemms().get(g.key()), r.gemmUs(g), g.key());
    }

    /**
     * The probe over {@code shapes} at small sizes. On a busy machine the emulated device's times are
     * noise: a GEMM's time per node (the difference of two graphs) can come out negative, which the
     * probe refuses with "rerun it on an idle device", as it should on a GPU; the test reruns it, as
     * that message says, up to three times. Any other failure fails at once.
     */
    private static StepRatesProbe.Measured measure(List<GemmShape> shapes) {
        for (int attempt = 1; ; attempt++) {
            try {
                // the emulated device reports no clock rate: its efficiencies against the H200 model's peaks
                return StepRatesProbe.measure(
                        0,
                        new StepRatesProbe.Sizes(2, 12, 2, 2, 96, 32, 4096, 3, 20),
                        shapes,
                        line -> {},
                        StepCostModel.h200());
            } catch (UserError e) {
                if (attempt == 3 || !e.getMessage().endsWith("rerun it on an idle device")) throw e;
            }
        }
    }

    /** What the probe could not write into is refused before the device is measured, not after. */
    @Test
    void aFileTheProbeCannotWriteIsRefusedFirst() throws Exception {
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("pipe.json"));
        Path bad = java.nio.file.Files.writeString(dir.resolve("bad.json"), "[1, 2]\n");
        String[][] cases = {
            {dir.toString(), "--probe " + dir + " is a directory; give a file name"},
            {pipe.toString(), "--probe " + pipe + " is not a regular file (a device, pipe or socket); give a file name"
            },
            {bad.toString(), RnnRates.PROPERTY + ": " + bad + " is not a probe_rates line: not a JSON object"},
        };
        for (String[] c : cases) {
            CliRun r = CliRun.of("bench", "--probe", c[0], "--grid", "torch-rnn", "--hidden", "128");
            assertEquals(2, r.code(), r::err);
            assertEquals("charrnn: " + c[1], r.err().strip());
        }
        assertEquals("[1, 2]\n", java.nio.file.Files.readString(bad), "the file is left as it was");
    }

    @Test
    @Tag("emulator") // skips on a GPU: gpu-check.sh's junit step leaves it out
    void theCommandRefusesTheEmulatedDevice() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CudaBackendProvider.emulatorRequested(), "the emulated device");
        CliRun r = CliRun.of("bench", "--probe", dir.resolve("rates.json").toString());
        assertEquals(2, r.code(), r::err);
        assertTrue(r.err().contains("bench refuses the emulated CUDA device"), r.err());
    }
}
