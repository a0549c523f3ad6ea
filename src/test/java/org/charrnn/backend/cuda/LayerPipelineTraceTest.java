package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Properties;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The layers pipelined by chunks of the window (device.LayerPipeline, -Dcharrnn.layerPipeline and
 * -Dcharrnn.pipelineChunk) as the step trace sees it: which operations a pipelined step runs and on
 * which stream, where auto takes it (both passes stepwise) and where nothing does (one layer,
 * dropout, the MUT cells), and that the model prices the large stepwise rows cheaper with it. The
 * numbers it computes are checked against the fp64 reference by CudaLayerPipelineTest and
 * OpenClLayerPipelineTest.
 */
class LayerPipelineTraceTest {
    private static final String PROPERTY = "charrnn.layerPipeline", CHUNK = "charrnn.pipelineChunk";

    private static StepTrace trace(ModelConfig cfg, int B, int T, Precision p, String mode) {
        return with(mode, () -> StepCostModel.trace(cfg, B, T, p, RnnKernel.AUTO));
    }

    private static List<String> names(List<StepTrace.Op> ops) {
        return ops.stream().map(StepTrace.Op::name).toList();
    }

    private static <T> T with(String mode, Supplier<T> work) {
        return Properties.with(PROPERTY, mode, work);
    }

    private static final ModelConfig LARGE = new ModelConfig(CellType.LSTM, 65, 1024, 1024, 2, 0.0);

    @Test
    void autoPipelinesTheStepwiseLayersByChunksOfTenSteps() {
        for (String mode : new String[] {null, "auto", "on"}) {
            List<StepTrace.Op> ops =
                    trace(LARGE, 128, 100, Precision.TF32, mode).ops();
            List<String> names = names(ops);
            // layer 1's projection and input gradient by chunk (10 steps x 128 rows), none over the window
            assertEquals(
                    10, names.stream().filter("gemm 1280x4096x1024"::equals).count(), mode + ": " + names);
            assertEquals(
                    10, names.stream().filter("gemm 1280x1024x4096"::equals).count(), mode + ": " + names);
            assertFalse(names.contains("gemm 12800x4096x1024") || names.contains("gemm 12800x1024x4096"), mode + "");
            // layer 1's forward steps on the side stream, layer 0's (and its whole-window gradients) on the main one
            assertEquals(100, count(ops, "lstm_forward", true), mode + "");
            assertEquals(100, count(ops, "lstm_forward", false), mode + "");
            assertEquals(100, count(ops, "lstm_backward", true), mode + "");
            assertEquals(100, count(ops, "lstm_backward", false), mode + "");
        }
        List<String> off = names(trace(LARGE, 128, 100, Precision.TF32, "off").ops());
        assertTrue(off.contains("gemm 12800x4096x1024") && off.contains("gemm 12800x1024x4096"), off.toString());
        assertFalse(off.contains("gemm 1280x4096x1024"), off.toString());
    }

    private static long count(List<StepTrace.Op> ops, String name, boolean side) {
        return ops.stream()
                .filter(o -> o.name().equals(name) && o.side() == side)
                .count();
    }

    @Test
    void theChunkPropertySetsTheStepsPerChunk() {
        System.setProperty(CHUNK, "25");
        try {
            List<String> names =
                    names(trace(LARGE, 128, 100, Precision.TF32, "on").ops());
            assertEquals(4, names.stream().filter("gemm 3200x4096x1024"::equals).count(), names.toString());
        } finally {
            System.clearProperty(CHUNK);
        }
    }

    @Test
    void autoLeavesPersistentLayersAndShortWindowsUnpipelined() {
        ModelConfig small = new ModelConfig(CellType.LSTM, 65, 256, 256, 2, 0.0); // persistent at B 50
        List<String> persistent =
                names(trace(small, 50, 50, Precision.TF32, null).ops());
        assertTrue(persistent.contains("gemm 2500x1024x256"), persistent.toString());
        assertFalse(persistent.contains("gemm 500x1024x256"), persistent.toString());
        List<String> shortWindow =
                names(trace(LARGE, 128, 10, Precision.TF32, null).ops()); // one chunk
        assertTrue(shortWindow.contains("gemm 1280x4096x1024"), shortWindow.toString());
        assertEquals(
                1, shortWindow.stream().filter("gemm 1280x4096x1024"::equals).count(), shortWindow.toString());
        assertTrue(trace(LARGE, 128, 10, Precision.TF32, null).ops().stream().noneMatch(StepTrace.Op::side));
    }

    /**
     * Auto pipelines each pass where it runs stepwise: L3 H512 B128 at TF32 runs its forward
     * persistent (in batch groups, the layers one after another, each projected over the whole
     * window) and its backward stepwise by chunks, layer 1 on the side queue.
     */
    @Test
    void autoPipelinesTheStepwisePassOnly() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 512, 512, 3, 0.0);
        List<StepTrace.Op> ops = trace(cfg, 128, 100, Precision.TF32, null).ops();
        List<String> names = names(ops);
        assertEquals(3, names.stream().filter("persistent forward"::equals).count(), names.toString());
        assertEquals(2, names.stream().filter("gemm 12800x2048x512"::equals).count(), names.toString());
        assertFalse(names.contains("lstm_forward") || names.contains("gemm 1280x2048x512"), names.toString());
        assertEquals(100, count(ops, "lstm_backward", true));
        assertEquals(200, count(ops, "lstm_backward", false));
    }

    /** =forward and =backward pipeline that pass only, the other's layers one after another. */
    @ParameterizedTest
    @ValueSource(strings = {"forward", "backward"})
    void onePassPipelinesAlone(String pass) {
        List<StepTrace.Op> ops = trace(LARGE, 128, 100, Precision.TF32, pass).ops();
        boolean forward = pass.equals("forward");
        assertEquals(forward ? 100 : 0, count(ops, "lstm_forward", true), pass);
        assertEquals(forward ? 0 : 100, count(ops, "lstm_backward", true), pass);
        assertEquals(forward ? 100 : 200, count(ops, "lstm_forward", false), pass);
        assertEquals(forward ? 200 : 100, count(ops, "lstm_backward", false), pass);
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"MUT1", "MUT2", "MUT3"})
    void cellsWithPerStepScratchNeverPipeline(CellType cell) {
        assertOnRunsAsOff(new ModelConfig(cell, 65, 256, 256, 2, 0.0), 50, 50, Precision.FP32);
    }

    @Test
    void oneLayerNeverPipelines() {
        assertOnRunsAsOff(new ModelConfig(CellType.LSTM, 65, 1024, 1024, 1, 0.0), 128, 100, Precision.TF32);
    }

    /** The pipeline forced on queues the same operations as off. */
    private static void assertOnRunsAsOff(ModelConfig cfg, int B, int T, Precision p) {
        assertEquals(
                names(trace(cfg, B, T, p, "off").ops()),
                names(trace(cfg, B, T, p, "on").ops()));
    }

    @Test
    void eachChunkDropsItsShareOfTheLayersOutput() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 1024, 1024, 2, 0.5);
        List<StepTrace.Op> on = trace(cfg, 128, 100, Precision.TF32, "auto").ops();
        // two layers of 10 chunks, each chunk's dropout on its layer's stream: layer 1's on the side
        // in the forward, layer 0's in the backward
        assertEquals(10, count(on, "dropout_forward", true));
        assertEquals(10, count(on, "dropout_forward", false));
        assertEquals(10, count(on, "dropout_backward", true));
        assertEquals(10, count(on, "dropout_backward", false));
        List<String> off = names(trace(cfg, 128, 100, Precision.TF32, "off").ops());
        assertEquals(2, off.stream().filter("dropout_forward"::equals).count(), off.toString());
    }

    @ParameterizedTest
    @EnumSource(
            value = Precision.class,
            names = {"FP32", "TF32"})
    void theModelPricesTheLargeStepwiseRowsCheaperPipelined(Precision p) {
        // (L3 H512 at TF32 runs its forward persistent in batch groups: auto pipelines its backward)
        for (ModelConfig cfg : new ModelConfig[] {LARGE, new ModelConfig(CellType.LSTM, 65, 512, 512, 3, 0.0)}) {
            double on = with(
                    "auto",
                    () -> StepCostModel.predict(cfg, 128, 100, p, RnnKernel.AUTO)
                            .total());
            double off = with(
                    "off",
                    () -> StepCostModel.predict(cfg, 128, 100, p, RnnKernel.AUTO)
                            .total());
            assertTrue(on < off, cfg.describe() + " " + p + ": pipelined " + on + " ms, not " + off + " ms");
        }
    }

    @Test
    void badValuesAreOneLineErrors() {
        UserError e = assertThrows(UserError.class, () -> trace(LARGE, 128, 100, Precision.TF32, "maybe"));
        assertEquals("charrnn.layerPipeline must be auto, on, forward, backward or off, not 'maybe'", e.getMessage());
        System.setProperty(CHUNK, "0");
        try {
            e = assertThrows(UserError.class, () -> trace(LARGE, 128, 100, Precision.TF32, "on"));
            assertEquals(
                    "charrnn.pipelineChunk must be a whole number of steps of at least 1, not '0'", e.getMessage());
        } finally {
            System.clearProperty(CHUNK);
        }
    }
}
