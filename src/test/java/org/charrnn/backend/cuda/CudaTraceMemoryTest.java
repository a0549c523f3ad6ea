package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.Models;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The step cost model's memory ({@link StepTrace#peakBytes}, {@link TraceMemory}) is the CUDA
 * backend's: over the same calls the trace holds at its peak exactly the bytes the backend's
 * device buffers held at theirs ({@link DeviceBuffer#peakBytes}), the backend's own buffers (cuBLAS's
 * workspace, the side stream's once it opens, the step values, the norm's scratch) with the
 * orchestration's, for every cell, stepwise (the persistent kernels' choices on the emulated
 * device are not the H200 model's; {@code StepCostModelTest} checks the exchange buffer they add).
 */
@Tag("gpu")
class CudaTraceMemoryTest {
    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    static Stream<Arguments> cases() {
        List<Arguments> c = new ArrayList<>();
        for (CellType cell : CellType.values()) c.add(Arguments.of(cell, 1, 6, 0.0));
        c.add(Arguments.of(CellType.LSTM, 3, 6, 0.0)); // three layers
        c.add(Arguments.of(CellType.LSTM, 2, 14, 0.0)); // pipelined by chunks: the side stream opens
        c.add(Arguments.of(CellType.GRU, 2, 6, 0.25)); // dropout's masks

        return c.stream();
    }

    @ParameterizedTest(name = "{0} L{1} T{2} dropout {3}")
    @MethodSource("cases")
    void theTraceHoldsWhatTheBackendHolds(CellType cell, int layers, int T, double dropout) {
        ModelConfig cfg = Models.config(cell, 11, 7, 33, layers, dropout);
        int B = 5;
        long traced = StepCostModel.trace(cfg, B, T, Precision.FP32, RnnKernel.STEPWISE)
                .peakBytes();
        long held = held(cfg, B, T);
        assertEquals(held, traced, "bytes at the peak: the backend's (expected) against the trace's");
        boolean side = layers > 1 && T > 10; // pipelined by chunks (LayerPipeline: 10 steps) on the side stream
        assertEquals(side, traced > Gemm.WORKSPACE + SideStream.WORKSPACE, "the side stream's workspace: " + traced);
    }

    /**
     * The CUDA backend's peak over the calls of {@link StepCostModel#trace}, as bench makes them
     * (its parameters and Adam set, a window's corpus, two steps), the recurrence stepwise.
     */
    private static long held(ModelConfig cfg, int B, int T) {
        long perStream = T + 1L;
        int[] tokens = new int[(int) (B * perStream + 1)];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i % cfg.vocabSize();
        BackendOptions o = BackendOptions.defaults().withDropoutSeed(5).withRnnKernel(RnnKernel.STEPWISE);
        try (Backend b = new CudaBackend(cfg, o)) {
            b.setParameters(Init.initialize(new ParamLayout(cfg), 3)); // as BenchRunner, before the corpus
            b.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            try (TokenBuffer buf = b.upload(TokenSequence.of(tokens));
                    RnnState state = b.newState(B)) {
                long[] starts = new long[B];
                for (int i = 0; i < B; i++) starts[i] = i * perStream;
                for (int step = 1; step <= 2; step++) {
                    b.forward(state, new Window(buf, starts.clone(), T, step), true);
                    b.backward();
                    b.clip(ClipMode.NORM, 5.0);
                    b.step(2e-3, step);
                }
                b.synchronize();
                return b.peakMemoryBytes();
            }
        }
    }
}
