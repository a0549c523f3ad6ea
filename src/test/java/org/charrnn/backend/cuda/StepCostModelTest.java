package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The step cost model: a training step traced through the device orchestration and priced op by
 * op. These pin what the trace sees of a step (which operations, in which part) and the arithmetic
 * of each price, so the model follows the orchestration when it changes; the rates themselves are
 * assumptions that only a GPU run can check.
 */
class StepCostModelTest {
    private static final StepCostModel.Rates RATES = StepCostModel.Rates.assumed(RnnCostModel.Device.h200());

    private static ModelConfig lstm(int layers, int hidden) {
        return new ModelConfig(CellType.LSTM, 65, hidden, hidden, layers, 0.0);
    }

    @ParameterizedTest(name = "{0} L{1}: {2} GEMMs outside the recurrence")
    @CsvSource({
        // forward: one input projection a layer and the decoder; backward: the decoder's weight and
        // input gradients, and a layer's dW_ih, dW_hh and input gradient; the fused decoder
        // (decoder_xent, which auto picks at this size) takes the decoder's and its input gradient's;
        // layer by layer (the RNN's two layers as one launch drop two more: PairCostModelTest)
        "lstm, 1, 7",
        "lstm, 3, 15",
        "gru, 2, 11",
        "rnn, 2, 11",
    })
    void aStepHasTheOrchestrationsGemms(String cell, int layers, int gemms) {
        ModelConfig cfg = new ModelConfig(CellType.parse(cell), 65, 33, 33, layers, 0.0);
        for (RnnKernel k : new RnnKernel[] {RnnKernel.AUTO, RnnKernel.STEPWISE})
            for (String fused : List.of("off", "auto")) {
                StepCostModel.Prediction p = CudaTestSupport.withProperty(
                        PersistentPairs.PROPERTY,
                        "off",
                        () -> CudaTestSupport.withProperty(
                                DecoderXent.PROPERTY,
                                fused,
                                () -> StepCostModel.predict(cfg, 5, 7, Precision.FP32, k)));
                assertEquals(fused.equals("off") ? gemms : gemms - 2, p.gemmCount(), k + ", fused " + fused + ": " + p);
            }
    }

    @Test
    void aStepCopiesItsValuesOnceAsANodeOfItsGraph() {
        // the step's values (the window starts, Adam's scalars and, with dropout, the iteration: one
        // block) are copied by the step's graph (StepBlock): the host only launches the graph
        for (double dropout : new double[] {0.0, 0.25}) {
            ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 33, 33, 2, dropout);
            StepCostModel.Prediction p = StepCostModel.predict(cfg, 5, 7, Precision.FP32, RnnKernel.AUTO);
            assertEquals(RATES.graphLaunchUs() / 1e3, p.host(), 1e-12, "dropout " + dropout);
            List<String> names = StepCostModel.trace(cfg, 5, 7, Precision.FP32, RnnKernel.AUTO).ops().stream()
                    .map(StepTrace.Op::name)
                    .toList();
            assertEquals(1, names.stream().filter("copy step values"::equals).count(), names.toString());
            assertEquals(0, names.stream().filter(n -> n.startsWith("upload")).count(), names.toString());
        }
    }

    @ParameterizedTest(
            name = "{0} L{1} {2}: the window's input, the loss, the norm and a layer's bias gradients, a launch each")
    @CsvSource({
        // where a layer's dgh is its dgx (LSTM, RNN) its two bias gradients are one column sum with
        // two outputs; else (GRU, MUT1: dgh of their own) two column sums. The decoder's is one more.
        "lstm, 1, auto, 1, 1",
        "lstm, 3, stepwise, 3, 1",
        "rnn, 2, auto, 2, 1",
        "gru, 2, stepwise, 0, 5",
        "mut1, 2, stepwise, 0, 5",
    })
    void fusedLaunchesAreOneLaunchEach(String cell, int layers, String kernel, int twins, int single) {
        ModelConfig cfg = new ModelConfig(CellType.parse(cell), 65, 33, 33, layers, 0.0);
        List<String> names = StepCostModel.trace(cfg, 5, 7, Precision.FP32, RnnKernel.parse(kernel)).ops().stream()
                .map(StepTrace.Op::name)
                .toList();
        // the loss with its sum: softmax_xent, or at these sizes the fused decoder (decoder_xent)
        assertEquals(
                1,
                names.stream()
                        .filter(n -> n.equals("softmax_xent + loss sum") || n.equals("decoder_xent + loss sum"))
                        .count(),
                names::toString);
        assertEquals(1, names.stream().filter("global_norm"::equals).count(), names::toString);
        assertEquals(
                twins, names.stream().filter("column_sum (two outputs)"::equals).count(), names::toString);
        assertEquals(single, names.stream().filter("column_sum"::equals).count(), names::toString);
        assertEquals(1, names.stream().filter("gather_embed"::equals).count(), names::toString);
        // and no launch the fused ones replace: the loss's sum_final, the norm's first stage, the
        // window's gather and embedding
        assertTrue(
                names.stream()
                        .noneMatch(n -> n.equals("sum_final")
                                || n.contains("partial")
                                || n.equals("gather_window")
                                || n.equals("embedding_forward")),
                names::toString);
    }

    @Test
    void stepwiseRecurrenceIsAGemmAndACellKernelPerLayerStep() {
        int L = 2, H = 40, B = 3, T = 6;
        StepCostModel.Prediction p = StepCostModel.predict(lstm(L, H), B, T, Precision.FP32, RnnKernel.STEPWISE);
        assertEquals("stepwise", p.recurrence());
        double forwardStep = RATES.gemmUs(B, 4 * H, H, Precision.FP32) + RATES.kernelUs(4.0 * B * H * 15);
        assertEquals(L * T * forwardStep / 1e3, p.forwardRecurrence(), 1e-9);
        // backward: the cell kernel, then dh_{t-1} += dgates W_hh
        double backwardStep = RATES.kernelUs(4.0 * B * H * 15) + RATES.gemmUs(B, H, 4 * H, Precision.FP32);
        assertEquals(L * T * backwardStep / 1e3, p.backwardRecurrence(), 1e-9);
    }

    @Test
    void autoPricesEachPersistentPassAsTheRecurrenceModel() {
        int L = 2, H = 256, B = 50, T = 50;
        StepCostModel.Prediction p = StepCostModel.predict(lstm(L, H), B, T, Precision.FP32, RnnKernel.AUTO);
        PersistentChoice c =
                PersistentChoice.decide(RnnCostModel.Device.h200(), CellType.LSTM, H, B, ProductArithmetic.FP32, true);
        assertTrue(c.forward() && c.backward() && c.clusters() > 0, c.line());
        double f = RnnCostModel.forwardCluster(
                        RnnCostModel.Device.h200(), CellType.LSTM, H, B, ProductArithmetic.FP32, c.clusters())
                .persistentUs();
        double b = RnnCostModel.backwardCluster(
                        RnnCostModel.Device.h200(), CellType.LSTM, H, B, ProductArithmetic.FP32, c.clusters())
                .persistentUs();
        assertEquals(L * (RATES.kernelUs(0) + T * f) / 1e3, p.forwardRecurrence(), 1e-9);
        assertEquals(L * (RATES.kernelUs(0) + T * b) / 1e3, p.backwardRecurrence(), 1e-9);
        assertTrue(p.recurrence().startsWith("persistent both passes (" + c.clusters() + " clusters"), p.recurrence());
    }

    @Test
    void theTotalIsItsPartsAndTheFloorIsTheProductsAtPeak() {
        int L = 2, H = 64, B = 4, T = 5, V = 65;
        StepCostModel.Prediction p = StepCostModel.predict(lstm(L, H), B, T, Precision.TF32, RnnKernel.STEPWISE);
        double parts = p.forwardRecurrence() + p.backwardRecurrence() + p.gemms() + p.kernels() + p.update() + p.host();
        // less what ran beside the main stream: stepwise, no side stream, but the step's values are
        // copied beside its first work, the state's copy into the window (4 µs), which hides the copy
        StepValues values = new StepValues();
        values.resize(B);
        assertEquals(RATES.kernelUs(values.bytes()) / 1e3, p.overlapped(), 1e-12);
        assertEquals(parts - p.overlapped(), p.total(), 1e-12);
        // the step's matrix products, each 2 M N K: per layer, the input projection, T recurrent
        // products forward and T backward, dW_ih, dW_hh and the input gradient; the decoder's three
        double N = (double) T * B, G = 4.0 * H;
        double layer = 2 * N * G * H // gx = x W_ih^T
                + 2 * T * (2.0 * B * G * H) // gh = h W_hh^T, dh += dgates W_hh
                + 3 * (2 * N * G * H); // dW_ih, dW_hh, dx
        double flops = L * layer + 3 * (2 * N * V * H);
        assertEquals(flops / RATES.peakFlopsPerUs(Precision.TF32) / 1e3, p.flopFloor(), 1e-12);
        assertTrue(p.flopFloor() < p.gemms() + p.forwardRecurrence() + p.backwardRecurrence());
    }

    @Test
    void columnSumsWaitForALanesLoadsOrTheirBytes() {
        // N 12800 over 32 lanes, 8 loads in flight: 50 rounds of an L2 hit
        assertEquals(2.0 + 50 * 270 / 1980.0, RATES.columnSumUs(12800, 4.0 * 12800 * 65), 1e-9);
        // 4H = 4096 columns: the bytes (210 MB at 4 TB/s)
        assertEquals(2.0 + 4.0 * 12800 * 4096 / 4.0e6, RATES.columnSumUs(12800, 4.0 * 12800 * 4096), 1e-9);
    }

    @Test
    void aPersistentRunOfACellWithoutTheKernelsOrBf16IsAnError() {
        ModelConfig mut = new ModelConfig(CellType.MUT1, 65, 16, 16, 1, 0.0);
        UserError e = assertThrows(
                UserError.class, () -> StepCostModel.predict(mut, 2, 3, Precision.FP32, RnnKernel.PERSISTENT));
        assertTrue(e.getMessage().contains("mut1"), e.getMessage());
        assertEquals(
                "stepwise",
                StepCostModel.predict(mut, 2, 3, Precision.FP32, RnnKernel.AUTO).recurrence());
        e = assertThrows(
                UserError.class, () -> StepCostModel.predict(lstm(1, 16), 2, 3, Precision.BF16, RnnKernel.AUTO));
        assertTrue(e.getMessage().contains("fp32 and tf32"), e.getMessage());
    }

    @Test
    void theTraceAttributesStepwiseStepsToTheirPass() {
        StepTrace trace = new StepTrace(RATES, Precision.FP32, new TracedRecurrence() {
            @Override
            public PersistentChoice choose(CellType cell, int H, int B) {
                return null;
            }

            @Override
            public double forwardUs(PersistentChoice c, CellType cell, int H, int B) {
                throw new AssertionError("stepwise");
            }

            @Override
            public double backwardUs(PersistentChoice c, CellType cell, int H, int B) {
                throw new AssertionError("stepwise");
            }
        });
        WeightRows whh = new WeightRows(100, 16, 4, 0), wih = new WeightRows(20, 16, 4, 0);
        assertFalse(trace.windows().forward(CellType.RNN, whh, null, null, null, null, null, null, null, 2, 1, 4));
        trace.gemmWeight(true, 1, 4, 4, 1f, null, 4, whh, 0f, null, 4); // gh = h W_hh^T
        trace.cells().rnnForward(null, null, null, null, null, 1, 4);
        trace.gemmWeight(true, 1, 4, 4, 1f, null, 4, whh.fromRow(4), 0f, null, 4); // a block of W_hh (MUT)
        trace.gemmWeight(true, 2, 4, 4, 1f, null, 4, wih, 0f, null, 4); // the next layer's projection: steps over
        trace.cells().rnnForward(null, null, null, null, null, 1, 4);
        assertFalse(
                trace.windows().backward(CellType.RNN, whh, null, null, null, null, null, null, null, null, 2, 1, 4));
        trace.cells().rnnBackward(null, null, null, null, 1, 4);
        trace.copyRows(null, 8, null, 4, 2, 4); // not a step's: the steps are over
        trace.gemmWeight(false, 1, 4, 4, 1f, null, 4, whh, 1f, null, 4);
        trace.upload(null, new float[1]); // a host copy: not a step's either
        List<StepPart> parts = trace.ops().stream().map(StepTrace.Op::part).toList();
        assertEquals(
                List.of(
                        StepPart.FORWARD_RECURRENCE,
                        StepPart.FORWARD_RECURRENCE,
                        StepPart.FORWARD_RECURRENCE,
                        StepPart.GEMM,
                        StepPart.KERNELS,
                        StepPart.BACKWARD_RECURRENCE,
                        StepPart.KERNELS,
                        StepPart.GEMM,
                        StepPart.HOST),
                parts);
    }

    /**
     * A recurrence that runs every pass as {@code c}, at {@code forwardUs} and {@code backwardUs} a
     * layer-step, its backward holding {@code exchangePerRow} bytes of exchange a batch row.
     */
    private static TracedRecurrence fixed(
            PersistentChoice c, double forwardUs, double backwardUs, long exchangePerRow) {
        return new TracedRecurrence() {
            @Override
            public PersistentChoice choose(CellType cell, int h, int b) {
                return c;
            }

            @Override
            public double forwardUs(PersistentChoice x, CellType cell, int h, int b) {
                return forwardUs;
            }

            @Override
            public double backwardUs(PersistentChoice x, CellType cell, int h, int b) {
                return backwardUs;
            }

            @Override
            public long exchangeBytes(PersistentChoice x, CellType cell, int h, int b) {
                return exchangePerRow * b;
            }
        };
    }

    @Test
    void aGridRowsBackwardHoldsItsExchangeFromItsFirstPassOn() {
        int T = 4, H = 64;
        PersistentChoice rows = PersistentChoice.grid(true, true, true, 8, 2, "");
        StepTrace trace = new StepTrace(RATES, Precision.FP32, fixed(rows, 1.0, 1.0, 1000));
        WeightRows whh = new WeightRows(0, 4 * H, H, 0);
        long start = trace.peakBytes();
        assertTrue(start >= Gemm.WORKSPACE, "cuBLAS's workspace from the start: " + start);
        assertTrue(trace.windows().forward(CellType.LSTM, whh, null, null, null, null, null, null, null, T, 5, H));
        assertEquals(start, trace.peakBytes(), "a forward holds no exchange");
        for (int pass = 0; pass < 2; pass++) { // the buffer of B 5 once, kept for later windows
            assertTrue(trace.windows()
                    .backward(CellType.LSTM, whh, null, null, null, null, null, null, null, null, T, 5, H));
        }
        assertEquals(start + 5000, trace.peakBytes());
        assertTrue(
                trace.windows().backward(CellType.LSTM, whh, null, null, null, null, null, null, null, null, T, 7, H));
        assertEquals(start + 5000 + 7000, trace.peakBytes(), "one for each batch size, as PersistentWindows keeps");
    }

    @Test
    void sideWorkRunsInTheSMsAClusterPassLeavesAndTheJoinWaitsForTheRest() {
        int T = 50, B = 50, H = 256, clusters = 13;
        PersistentChoice cluster = new PersistentChoice(true, true, false, 32, clusters, Exchange.NONE, "");
        StepTrace trace = new StepTrace(RATES, Precision.TF32, fixed(cluster, 1.0, 2.0, 0));
        WeightRows whh = new WeightRows(0, 4 * H, H, 0);
        // a large side GEMM beside the persistent backward: it outlasts the pass, the join waits for the rest
        trace.onSide(() -> trace.gemm(false, false, 2048, 2048, 8192, 1f, null, 1, null, 1, 0f, null, 1));
        assertTrue(
                trace.windows().backward(CellType.LSTM, whh, null, null, null, null, null, null, null, null, T, B, H));
        trace.joinSide();
        double side = RATES.gemmUs(2048, 2048, 8192, Precision.TF32);
        double pass = RATES.kernelUs(0) + T * 2.0;
        double share = (132 - clusters * 8) / 132.0; // the SMs outside the 13 clusters of 8
        assertTrue(side > pass * share, "the side GEMM outlasts its share of the pass");
        assertEquals(pass + side - pass * share, trace.criticalUs(), 1e-9);
        // a small one beside another operation gets half the device and hides entirely
        double before = trace.criticalUs();
        trace.onSide(() -> trace.columnSum(null, null, 10, 4, 0f));
        trace.copyRows(null, 1 << 20, null, 1 << 20, 64, 1 << 20);
        trace.joinSide();
        List<StepTrace.Op> ops = trace.ops();
        double small = ops.get(2).us(), copy = ops.get(3).us();
        assertTrue(small <= copy / 2, small + " vs " + copy);
        assertEquals(before + copy, trace.criticalUs(), 1e-9);
        assertEquals(
                side + pass + small + copy,
                ops.stream().mapToDouble(StepTrace.Op::us).sum(),
                1e-9);
    }

    @ParameterizedTest(name = "overlap {0}")
    @CsvSource({"auto, true", "off, false"})
    void theStateCopiesAndItsGradientsZeroingRunOnTheSideStream(String overlap, boolean side) {
        System.setProperty(SideStream.PROPERTY, overlap);
        List<StepTrace.Op> ops;
        try {
            ops = StepCostModel.trace(lstm(2, 256), 50, 50, Precision.TF32, RnnKernel.AUTO)
                    .ops();
        } finally {
            System.clearProperty(SideStream.PROPERTY);
        }
        List<StepTrace.Op> moved = ops.stream()
                .filter(o -> o.name().equals("copy_rows") || o.name().equals("memset"))
                .toList();
        assertEquals(3, moved.size(), ops::toString); // the state in, its gradient zeroed, the state out
        assertTrue(moved.stream().allMatch(o -> o.side() == side), moved::toString);
        // in (and the zeroing) before the first recurrence, out after the last forward one
        List<String> names = ops.stream().map(StepTrace.Op::name).toList();
        assertTrue(names.indexOf("memset") < names.indexOf("persistent forward"), names::toString);
        assertTrue(names.lastIndexOf("copy_rows") > names.lastIndexOf("persistent forward"), names::toString);
    }

    @Test
    void theOverlappedPartIsWhatTheSecondStreamSaves() {
        ModelConfig cfg = lstm(2, 256);
        StepCostModel.Prediction auto = StepCostModel.predict(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO);
        StepCostModel.Prediction off;
        System.setProperty(SideStream.PROPERTY, "off");
        try {
            off = StepCostModel.predict(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO);
        } finally {
            System.clearProperty(SideStream.PROPERTY);
        }
        assertTrue(auto.recurrence().contains("clusters"), auto.recurrence());
        // one stream but for the step values' copy, beside the first GEMM (StepBlock): hidden
        double copy = RATES.kernelUs(8.0 * (50 + StepValues.SCALAR_WORDS)) / 1e3;
        assertEquals(copy, off.overlapped(), 1e-12);
        assertTrue(auto.overlapped() > copy, auto.toString());
        // the same operations: the parts agree, and only the second stream's overlap differs
        assertEquals(off.gemms(), auto.gemms(), 1e-12);
        assertEquals(off.kernels(), auto.kernels(), 1e-12);
        assertEquals(off.total() - (auto.overlapped() - off.overlapped()), auto.total(), 1e-12);
        // the large rows recur stepwise: auto keeps their weight gradients on one stream, and the
        // second stream runs every other layer's chunks instead (LayerPipelineTraceTest)
        System.setProperty("charrnn.layerPipeline", "off");
        try {
            assertEquals(
                    RATES.kernelUs(8.0 * (128 + StepValues.SCALAR_WORDS)) / 1e3, // the values' copy alone
                    StepCostModel.predict(lstm(2, 1024), 128, 100, Precision.TF32, RnnKernel.AUTO)
                            .overlapped(),
                    1e-12);
        } finally {
            System.clearProperty("charrnn.layerPipeline");
        }
        assertTrue(StepCostModel.predict(lstm(2, 1024), 128, 100, Precision.TF32, RnnKernel.AUTO)
                        .overlapped()
                > 0);
    }
}
