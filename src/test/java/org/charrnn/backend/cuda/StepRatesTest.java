package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Properties;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The step cost model's rates from the rates file: what {@code charrnn bench --probe} writes into
 * it (beside probe_rates' fields, or alone), read by {@link StepCostModel.Rates#fromProperty} for
 * {@code --predict}, and one-line errors for what it cannot use.
 */
class StepRatesTest {
    /** probe_rates' fields, as RnnRatesTest's line. */
    private static final String PROBE = "{\"probe\":\"probe_rates\",\"device\":\"NVIDIA H200\",\"sms\":132,"
            + "\"grid_barrier_us\":0.5,\"tile_clocks\":900,\"l2_bytes_per_us\":4.4e+06,\"mma_latency\":30,"
            + "\"mma_fmas_tf32\":480,\"mma_fmas_bf16\":960}\n";

    @TempDir
    Path dir;

    private static StepRatesProbe.Measured measured(double kernelUs) {
        Map<String, Double> r = new LinkedHashMap<>();
        double[] v = {kernelUs, 2.5, 3.5e6, 0.7, 0.5, 1.5, 0.0, 0.8};
        for (int i = 0; i < v.length; i++) r.put(StepCostModel.Rates.MEASURED[i], v[i]);
        return new StepRatesProbe.Measured("NVIDIA H200", r, Map.of());
    }

    private static <T> T withRates(Path file, java.util.function.Supplier<T> body) {
        return Properties.with(RnnRates.PROPERTY, file.toString(), body);
    }

    @Test
    void aProbeAddsItsRatesToProbeRatesLineAndThePredictionReadsThem() throws IOException {
        Path f = dir.resolve("rates.json");
        Files.writeString(f, PROBE, StandardCharsets.UTF_8);
        StepRatesProbe.writeInto(f, measured(1.0));
        String text = Files.readString(f, StandardCharsets.UTF_8);
        assertTrue(text.endsWith("}\n") && text.indexOf('\n') == text.length() - 1, "one line: " + text);
        assertEquals(0.5, RnnRates.read(f).gridBarrierUs(), "probe_rates' fields stay");
        RnnCostModel.Device d = StepCostModel.h200();
        StepCostModel.Rates r = withRates(f, () -> StepCostModel.Rates.fromProperty(d));
        assertEquals(
                new StepCostModel.Rates(
                        d, 1.0, 2.5, 3.5e6, 0.7, 0.5, 270, 1.5, 0.0, 0.8, Map.of(), "measured on NVIDIA H200"),
                r);
        // the GEMM's FLOPs at each precision's own efficiency
        double flops = 2.0 * 4096 * 4096 * 1024;
        assertEquals(
                2.5 + flops / (r.peakFlopsPerUs(Precision.FP32) * 0.7),
                r.gemmUs(4096, 4096, 1024, Precision.FP32),
                1e-9);
        assertEquals(
                2.5 + flops / (r.peakFlopsPerUs(Precision.TF32) * 0.5),
                r.gemmUs(4096, 4096, 1024, Precision.TF32),
                1e-9);

        // a second probe replaces its own fields and nothing else
        StepRatesProbe.writeInto(f, measured(1.25));
        assertEquals(
                1.25, withRates(f, () -> StepCostModel.Rates.fromProperty(d)).kernelUs());
        assertEquals(0.5, RnnRates.read(f).gridBarrierUs());
    }

    @Test
    void cheaperNodesPredictAFasterStepAndTheDeviceLineSaysWhoseRates() throws IOException {
        Path f = dir.resolve("step-only.json");
        StepRatesProbe.writeInto(f, measured(1.0)); // a file of its own: the device, the step rates
        RnnRates alone = RnnRates.read(f);
        assertEquals(RnnRates.ASSUMED.gridBarrierUs(), alone.gridBarrierUs(), "no probe_rates field: assumed");
        assertEquals(1.0 + 2.5, alone.stepwiseUs(), "but the stepwise floor is the measured GEMM's and kernel's");
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 128, 128, 1, 0.0);
        StepCostModel.Prediction assumed = StepCostModel.predict(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO);
        StepCostModel.Prediction measured =
                withRates(f, () -> StepCostModel.predict(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO));
        assertTrue(measured.total() < assumed.total(), measured.total() + " vs " + assumed.total());
        assertTrue(measured.device().endsWith("; step rates measured on NVIDIA H200)"), measured.device());
        assertTrue(!assumed.device().contains("step rates"), assumed.device());
    }

    @Test
    void autoWeighsPersistentAgainstTheMeasuredStepwiseFloor() throws IOException {
        Path f = dir.resolve("rates.json");
        Files.writeString(f, PROBE, StandardCharsets.UTF_8);
        assertEquals(RnnCostModel.STEPWISE_LAUNCHES_US, RnnRates.read(f).stepwiseUs(), "probe_rates' fields alone");
        StepRatesProbe.writeInto(f, measured(1.0));
        RnnRates r = RnnRates.read(f);
        assertEquals(3.5, r.stepwiseUs());
        assertTrue(r.toString().endsWith(", stepwise floor 3.50 µs"), r.toString());
        RnnCostModel.Device measured = new RnnCostModel.Device(132, 1.98, 227 << 10, r);
        RnnRates floorAssumed = new RnnRates(
                r.gridBarrierUs(),
                r.tileClocks(),
                r.l2BytesPerUs(),
                r.mmaLatency(),
                r.mmaFmasTf32(),
                r.mmaFmasBf16(),
                r.clusterBarrierUs(),
                r.residentClusters(),
                r.dsmemBytesPerUs(),
                r.source(),
                r.sms(),
                RnnRates.Stepwise.ASSUMED);
        RnnCostModel.Device assumed = new RnnCostModel.Device(132, 1.98, 227 << 10, floorAssumed);
        RnnCostModel.Estimate m = RnnCostModel.forward(measured, CellType.LSTM, 512, 50);
        RnnCostModel.Estimate a = RnnCostModel.forward(assumed, CellType.LSTM, 512, 50);
        assertEquals(a.stepwiseUs() - (RnnCostModel.STEPWISE_LAUNCHES_US - 3.5), m.stepwiseUs(), 1e-9);
        assertEquals(a.persistentUs(), m.persistentUs(), "the persistent estimate does not change");
    }

    @Test
    void autoWeighsPersistentAgainstTheStepwiseGemmsTheProbeTimed() throws IOException {
        // the recurrent GEMMs the model looks up are the ones the stepwise steps issue, which the probe times
        for (CellType c : List.of(CellType.LSTM, CellType.GRU, CellType.RNN))
            for (Precision p : List.of(Precision.FP32, Precision.TF32)) {
                ModelConfig cfg = new ModelConfig(c, 65, 256, 256, 1, 0.0);
                Set<GemmShape> issued =
                        StepCostModel.trace(cfg, 50, 50, p, RnnKernel.STEPWISE).gemmShapes();
                for (boolean forward : new boolean[] {true, false}) {
                    GemmShape s = RnnCostModel.stepwiseGemm(
                            c.recurrentGates(), 256, 50, ProductArithmetic.of(p, true), forward);
                    assertTrue(issued.contains(s), s.key() + " among " + issued);
                }
            }
        // the LSTM's H 512 B 128 forward runs stepwise at the assumed rates (9.0 µs, its GEMM at the
        // peak, against 19.9 µs persistent); with its GEMM timed at 30 µs, persistent
        GemmShape forward = RnnCostModel.stepwiseGemm(4, 512, 128, ProductArithmetic.FP32, true);
        Path f = dir.resolve("stepwise-gemms.json");
        StepRatesProbe.writeInto(
                f,
                new StepRatesProbe.Measured(
                        "NVIDIA H200", Map.of("kernel_us", 1.0, "gemm_us", 2.0), Map.of(forward.key(), 30.0)));
        RnnRates r = RnnRates.read(f);
        assertTrue(r.toString().endsWith(", stepwise floor 3.00 µs, 1 GEMM shape measured"), r.toString());
        RnnCostModel.Device assumed = StepCostModel.h200(), measured = withRates(f, StepCostModel::h200);
        assertEquals(
                1.0 + 30.0,
                RnnCostModel.forward(measured, CellType.LSTM, 512, 128).stepwiseUs(),
                1e-9);
        assertEquals(
                RnnCostModel.backward(assumed, CellType.LSTM, 512, 128).stepwiseUs() - 2.0,
                RnnCostModel.backward(measured, CellType.LSTM, 512, 128).stepwiseUs(),
                1e-9,
                "a shape the probe did not time: the measured floor and the FLOPs at the peak");
        ProductArithmetic fp32 = ProductArithmetic.FP32;
        PersistentChoice before = PersistentChoice.decide(assumed, CellType.LSTM, 512, 128, fp32, true);
        PersistentChoice after = PersistentChoice.decide(measured, CellType.LSTM, 512, 128, fp32, true);
        assertTrue(!before.forward() && !before.backward(), before.line());
        assertTrue(after.forward() && !after.backward(), after.line());
        assertTrue(after.line().contains("vs stepwise 31.0 µs"), after.line());
        // and the step's prediction runs that forward persistent, as auto would on the device
        ModelConfig lstm = new ModelConfig(CellType.LSTM, 65, 512, 512, 1, 0.0);
        String stepwise = StepCostModel.predict(lstm, 128, 100, Precision.FP32, RnnKernel.AUTO)
                .recurrence();
        String persistent = withRates(f, () -> StepCostModel.predict(lstm, 128, 100, Precision.FP32, RnnKernel.AUTO))
                .recurrence();
        assertEquals("stepwise", stepwise);
        assertTrue(persistent.startsWith("persistent forward"), persistent);
    }

    @Test
    void streamsThatOverlapMoreHideMoreOfAPipelinedStep() throws IOException {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 1024, 1024, 2, 0.0);
        double[] hidden = new double[2], total = new double[2];
        for (int i = 0; i < 2; i++) {
            Path f = dir.resolve("side-" + i + ".json");
            Files.writeString(f, "{\"side_rate\":" + i + "}\n", StandardCharsets.UTF_8);
            StepCostModel.Prediction p =
                    withRates(f, () -> StepCostModel.predict(cfg, 128, 100, Precision.TF32, RnnKernel.AUTO));
            hidden[i] = p.overlapped();
            total[i] = p.total();
        }
        // side work that never overlaps hides nothing: what is hidden is the step values' copy (StepBlock)
        double copy = StepCostModel.Rates.assumed(StepCostModel.h200()).kernelUs(8.0 * (128 + StepValues.SCALAR_WORDS));
        assertEquals(copy / 1e3, hidden[0], 1e-12, "side work that never overlaps hides nothing");
        assertTrue(
                hidden[1] > 1.0 && total[1] < total[0] - 1.0,
                hidden[1] + " ms hidden, " + total[1] + " vs " + total[0]);
        Path bad = dir.resolve("side-bad.json");
        Files.writeString(bad, "{\"side_rate\":1.5}\n", StandardCharsets.UTF_8);
        UserError e = assertThrows(
                UserError.class, () -> withRates(bad, () -> StepCostModel.Rates.fromProperty(StepCostModel.h200())));
        assertEquals(
                "charrnn.persistent.rates: " + bad + ": the side stream's rate must be within [0, 1], not 1.5",
                e.getMessage());
    }

    @Test
    void aGemmOfAMeasuredShapeCostsItsTimeAndTheOthersTheFormula() throws IOException {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 256, 256, 2, 0.0);
        StepTrace assumed = StepCostModel.trace(cfg, 50, 50, Precision.FP32, RnnKernel.STEPWISE);
        StepCostModel.Rates a = StepCostModel.Rates.assumed(StepCostModel.h200());
        // every shape but layer 0's W_hh gradient 10 µs dearer than the formula: the recurrent GEMMs among them
        GemmShape unmeasured = new GemmShape(Precision.FP32, true, false, 1024, 256, 2500, false);
        assertTrue(assumed.gemmShapes().contains(unmeasured), assumed.gemmShapes()::toString);
        Map<String, Double> times = new LinkedHashMap<>();
        for (GemmShape g : assumed.gemmShapes())
            if (!g.equals(unmeasured)) times.put(g.key(), a.gemmUs(g.m(), g.n(), g.k(), g.precision()) + 10);
        Path f = dir.resolve("gemms.json");
        StepRatesProbe.writeInto(f, new StepRatesProbe.Measured("NVIDIA H200", Map.of(), times));
        StepTrace measured = withRates(f, () -> StepCostModel.trace(cfg, 50, 50, Precision.FP32, RnnKernel.STEPWISE));
        List<StepTrace.Op> before = assumed.ops(), after = measured.ops();
        assertEquals(before.size(), after.size());
        int dearer = 0;
        for (int i = 0; i < before.size(); i++) {
            StepTrace.Op x = before.get(i), y = after.get(i);
            assertEquals(x.name(), y.name());
            assertEquals(x.part(), y.part(), x.name());
            double more = x.name().startsWith("gemm ") && !x.name().equals("gemm 1024x256x2500") ? 10 : 0;
            assertEquals(x.us() + more, y.us(), 1e-9, x.name());
            if (more > 0 && x.part() == StepPart.FORWARD_RECURRENCE) dearer++;
        }
        assertEquals(2 * 50, dearer, "each layer's recurrent GEMM at every step of the forward");
    }

    @Test
    void aSideStreamsGemmCostsItsOwnTimeElseTheMainHandles() throws IOException {
        // the pipelined layer 1 of this row queues its GEMMs on the side stream: shapes marked side
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 256, 256, 2, 0.0);
        StepTrace t = StepCostModel.trace(cfg, 50, 50, Precision.FP32, RnnKernel.STEPWISE);
        assertTrue(t.gemmShapes().stream().anyMatch(GemmShape::side), t.gemmShapes()::toString);
        assertTrue(t.ops().stream().anyMatch(o -> o.side() && o.name().startsWith("gemm ")));

        GemmShape main = new GemmShape(Precision.FP32, true, false, 256, 256, 2500, false);
        GemmShape side = new GemmShape(Precision.FP32, true, false, 256, 256, 2500, false, true);
        RnnCostModel.Device d = StepCostModel.h200();
        StepCostModel.Rates a = StepCostModel.Rates.assumed(d);
        assertEquals(a.gemmUs(256, 256, 2500, Precision.FP32), a.gemmUs(side), "no time: the formula");
        Path f = dir.resolve("main-only.json");
        StepRatesProbe.writeInto(f, new StepRatesProbe.Measured("NVIDIA H200", Map.of(), Map.of(main.key(), 40.0)));
        StepCostModel.Rates older = withRates(f, () -> StepCostModel.Rates.fromProperty(d));
        assertEquals(40.0, older.gemmUs(side), "a file that timed it on the main handle only");
        Path both = dir.resolve("both.json");
        StepRatesProbe.writeInto(
                both, new StepRatesProbe.Measured("NVIDIA H200", Map.of(), Map.of(main.key(), 40.0, side.key(), 55.0)));
        StepCostModel.Rates r = withRates(both, () -> StepCostModel.Rates.fromProperty(d));
        assertEquals(55.0, r.gemmUs(side));
        assertEquals(40.0, r.gemmUs(main));
    }

    @Test
    void aGemmShapeTheModelCannotReadIsAOneLineError() throws IOException {
        Path f = dir.resolve("gemms.json");
        RnnCostModel.Device d = StepCostModel.h200();
        String[][] cases = {
            {"{\"gemm_us_by_shape\":{\"fp32 NN 1x2 =\":3}}", "gemm_us_by_shape: a GEMM shape reads as"},
            {"{\"gemm_us_by_shape\":{\"fp32 NN 1x2x3 =\":0}}", "a GEMM's time must be positive and finite"},
            {"{\"gemm_us_by_shape\":{\"fp32 NN 1x2x3 =\":\"slow\"}}", "no number fp32 NN 1x2x3 ="},
            {"{\"gemm_us_by_shape\":[1]}", "gemm_us_by_shape is not an object of GEMM shapes"}
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0] + "\n", StandardCharsets.UTF_8);
            UserError e = assertThrows(UserError.class, () -> withRates(f, () -> StepCostModel.Rates.fromProperty(d)));
            assertTrue(e.getMessage().startsWith("charrnn.persistent.rates: " + f), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void whatTheModelCannotUseIsAOneLineError() throws IOException {
        Path named = dir.resolve("named.json");
        Files.writeString(named, "{\"device\":{\"name\":\"x\"},\"kernel_us\":1.0}\n", StandardCharsets.UTF_8);
        assertEquals(
                "measured on a GPU",
                withRates(named, () -> StepCostModel.Rates.fromProperty(StepCostModel.h200()))
                        .source(),
                "a device that is not a name");
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"device\":\"x\",\"kernel_us\":-1}\n", StandardCharsets.UTF_8);
        RnnCostModel.Device d = StepCostModel.h200();
        UserError e = assertThrows(UserError.class, () -> withRates(f, () -> StepCostModel.Rates.fromProperty(d)));
        assertTrue(
                e.getMessage().startsWith("charrnn.persistent.rates: " + f + ": step rates must be positive"),
                e.getMessage());
        e = assertThrows(UserError.class, () -> RnnRates.read(f)); // auto's stepwise part of the same file
        assertEquals(
                "charrnn.persistent.rates: " + f + ": a stepwise layer-step's floor (gemm_us + kernel_us) and its cell"
                        + " kernel's (kernel_us) must be positive and finite, not 5.0 and -1.0 µs",
                e.getMessage());
        Files.writeString(f, "{\"kernel_us\":\"fast\"}\n", StandardCharsets.UTF_8);
        e = assertThrows(UserError.class, () -> withRates(f, () -> StepCostModel.Rates.fromProperty(d)));
        assertEquals(
                "charrnn.persistent.rates: " + f + " is not a probe_rates line: no number kernel_us", e.getMessage());
        Files.writeString(f, "[1, 2]\n", StandardCharsets.UTF_8);
        e = assertThrows(UserError.class, () -> StepRatesProbe.writeInto(f, measured(1.0)));
        assertEquals(
                "charrnn.persistent.rates: " + f + " is not a probe_rates line: not a JSON object", e.getMessage());
        assertEquals("[1, 2]\n", Files.readString(f, StandardCharsets.UTF_8), "a file it cannot use stays as it was");
    }
}
