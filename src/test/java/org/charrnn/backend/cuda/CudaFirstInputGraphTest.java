package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.Precision;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.Properties;
import org.charrnn.verify.Tolerances;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole training steps whose windows carry a first input (new values every step, and some steps
 * without one): replayed CUDA graphs read each step's first input and equal eager launches
 * exactly, and both track the fp64 reference. V 9 < N 15: the workspace projects by token, so the
 * first two steps (no first input) run without the embedding rows, which the third allocates.
 */
@Tag("gpu")
class CudaFirstInputGraphTest {
    private static final int STEPS = 8, B = 3, T = 5;

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    private static double[] train(Backend be, ModelConfig cfg) {
        SplittableRandom rng = new SplittableRandom(11);
        int len = 400, E = cfg.embedding();
        be.setParameters(Init.initialize(new ParamLayout(cfg), 3));
        be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
        try (RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(
                        TokenSequence.of(rng.ints(len, 0, cfg.vocabSize()).toArray()))) {
            for (int it = 0; it < STEPS; it++) {
                long[] starts = new long[B];
                for (int b = 0; b < B; b++) starts[b] = (long) b * (len / B) + (long) it * T;
                Window w = new Window(tb, starts, T, it, 0);
                if (it >= 2 && it != 5)
                    w = w.withFirstInput(rng.doubles((long) B * E, -1, 1).toArray());
                st.reset();
                be.forward(st, w, true);
                be.backward();
                be.clip(ClipMode.NORM, 0.5);
                be.step(2e-3, it + 1);
            }
            return be.getParameters();
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void graphReplayReadsEachStepsFirstInput(CellType cell) {
        check(new ModelConfig(cell, 9, 6, 17, 2, 0.0));
    }

    /** The same with the layers pipelined by chunks of 2 steps (layer 0's rows read the first input). */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void pipelinedStepsReadEachStepsFirstInput(CellType cell) {
        ModelConfig cfg = new ModelConfig(cell, 9, 6, 17, 3, 0.0);
        Properties.with(
                "charrnn.layerPipeline",
                "on",
                () -> Properties.with("charrnn.pipelineChunk", "2", () -> {
                    check(cfg);
                    return null;
                }));
    }

    private static void check(ModelConfig cfg) {
        BackendOptions opt = BackendOptions.defaults().withThreads(1);
        double[] graph, eager, ref;
        try (Backend g = new CudaBackend(cfg, opt.withCudaGraph(true))) {
            graph = train(g, cfg);
        }
        try (Backend e = new CudaBackend(cfg, opt.withCudaGraph(false))) {
            eager = train(e, cfg);
        }
        try (Backend r = new ReferenceBackend(cfg, opt.withPrecision(Precision.FP64))) {
            ref = train(r, cfg);
        }
        assertArrayEquals(eager, graph, "graph replay must match eager launches exactly");
        Tolerances.Tol tol = new Tolerances.Tol(2e-5, 1e-3);
        for (int i = 0; i < ref.length; i++)
            assertTrue(
                    Math.abs(graph[i] - ref[i]) <= tol.atol() + tol.rtol() * Math.abs(ref[i]),
                    "param " + i + ": " + graph[i] + " vs reference " + ref[i]);
    }
}
