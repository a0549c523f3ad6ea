package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.charrnn.testutil.Models;
import org.charrnn.verify.Tolerances;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Multi-step training with carried state, moving windows and a changing learning rate and dropout
 * iteration: the CUDA-graph replay (captured after the warm-up steps) must give bit-identical results
 * to eager launches, and both must track the fp64 reference; TF32 must stay close to fp32.
 */
@Tag("gpu")
class CudaGraphTest {
    private static final int STEPS = 8; // > WARMUP_STEPS + 1: several replays of the captured graph

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    record Run(double[] params, double[] state, double evalLoss, double[][] slots) {}

    static Run train(Backend be, ModelConfig cfg, long seed, int B, int T) {
        ParamLayout layout = new ParamLayout(cfg);
        SplittableRandom rng = new SplittableRandom(seed);
        int len = 2000;
        int[] toks = new int[len];
        for (int i = 0; i < len; i++) toks[i] = rng.nextInt(cfg.vocabSize());
        be.setParameters(Init.initialize(layout, seed));
        be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM).withWeightDecay(1e-3));
        try (RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(TokenSequence.of(toks))) {
            for (int it = 0; it < STEPS; it++) {
                long[] starts = new long[B];
                for (int b = 0; b < B; b++) starts[b] = (long) b * (len / B) + (long) it * T;
                be.forward(st, new Window(tb, starts, T, it), true);
                be.backward();
                be.clip(ClipMode.NORM, 0.5);
                be.step(2e-3 * (1 + 0.1 * it), it + 1);
            }
            be.forward(st, new Window(tb, new long[B], T, STEPS), false);
            double evalLoss = be.loss();
            return new Run(be.getParameters(), st.read(), evalLoss, be.getOptimizerState());
        }
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void graphReplayEqualsEagerAndTracksReference(CellType cell) {
        ModelConfig cfg = Models.config(cell, 23, 9, 45, 2, 0.25);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(77).withThreads(1);
        Run graph, eager, ref;
        try (Backend g = new CudaBackend(cfg, opt.withCudaGraph(true))) {
            graph = train(g, cfg, 5, 4, 6);
        }
        try (Backend e = new CudaBackend(cfg, opt.withCudaGraph(false))) {
            eager = train(e, cfg, 5, 4, 6);
        }
        try (Backend r = new ReferenceBackend(cfg, opt.withPrecision(Precision.FP64))) {
            ref = train(r, cfg, 5, 4, 6);
        }
        assertArrayEquals(eager.params(), graph.params(), "graph replay must match eager launches exactly");
        assertArrayEquals(eager.state(), graph.state());
        assertEquals(eager.evalLoss(), graph.evalLoss());
        for (int k = 0; k < eager.slots().length; k++) assertArrayEquals(eager.slots()[k], graph.slots()[k]);
        // eight Adam steps amplify float rounding a little beyond one step's tolerance
        Tolerances.Tol tol = new Tolerances.Tol(2e-5, 1e-3);
        assertClose("params", graph.params(), ref.params(), tol);
        assertClose("state", graph.state(), ref.state(), tol);
        assertClose("eval loss", new double[] {graph.evalLoss()}, new double[] {ref.evalLoss()}, tol);
    }

    /**
     * The layers pipelined by chunks (LayerPipeline, forced on, chunks of 2 steps at T 6, L 3 with
     * dropout): the captured step forks the side stream once per side chunk and joins it back; its
     * replays must equal eager launches bit for bit and track the reference.
     */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void aPipelinedStepReplaysAsItRunsEagerly(CellType cell) {
        ModelConfig cfg = Models.config(cell, 23, 9, 20, 3, 0.25);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(71).withThreads(1);
        System.setProperty("charrnn.layerPipeline", "on");
        System.setProperty("charrnn.pipelineChunk", "2");
        Run graph, eager, ref;
        try {
            try (Backend g = new CudaBackend(cfg, opt.withCudaGraph(true))) {
                graph = train(g, cfg, 7, 3, 6);
            }
            try (Backend e = new CudaBackend(cfg, opt.withCudaGraph(false))) {
                eager = train(e, cfg, 7, 3, 6);
            }
        } finally {
            System.clearProperty("charrnn.layerPipeline");
            System.clearProperty("charrnn.pipelineChunk");
        }
        try (Backend r = new ReferenceBackend(cfg, opt.withPrecision(Precision.FP64))) {
            ref = train(r, cfg, 7, 3, 6);
        }
        assertArrayEquals(eager.params(), graph.params(), "graph replay must match eager launches exactly");
        assertArrayEquals(eager.state(), graph.state());
        assertEquals(eager.evalLoss(), graph.evalLoss());
        Tolerances.Tol tol = new Tolerances.Tol(2e-5, 1e-3);
        assertClose("params", graph.params(), ref.params(), tol);
        assertClose("state", graph.state(), ref.state(), tol);
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void tf32StaysCloseToFp32(CellType cell) {
        ModelConfig cfg = Models.config(cell, 40, 32, 96, 2, 0.0);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(3);
        Run fp32, tf32;
        try (Backend a = new CudaBackend(cfg, opt.withPrecision(Precision.FP32))) {
            fp32 = train(a, cfg, 9, 8, 10);
        }
        try (Backend b = new CudaBackend(cfg, opt.withPrecision(Precision.TF32))) {
            assertEquals(Precision.TF32, b.precision());
            tf32 = train(b, cfg, 9, 8, 10);
        }
        double l32 = fp32.evalLoss(), lt = tf32.evalLoss();
        assertTrue(
                Double.isFinite(lt) && Math.abs(lt - l32) <= 1e-4 + 2e-2 * Math.abs(l32),
                "fp32 loss " + l32 + ", tf32 " + lt);
    }

    /**
     * The event timer brackets the replayed graph of a whole step: positive device time, no more
     * than the host's wall clock around the same calls, and nothing left running after stopMillis.
     */
    @org.junit.jupiter.api.Test
    void eventTimerMeasuresTheReplayedStep() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 64, 128, 2, 0.0);
        int B = 16, T = 32;
        try (Backend be = new CudaBackend(cfg, BackendOptions.defaults().withCudaGraph(true));
                RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(TokenSequence.of(
                        new SplittableRandom(1).ints(8L * B * T, 0, 65).toArray()))) {
            be.setParameters(Init.initialize(new ParamLayout(cfg), 1));
            be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            double[] ms = new double[6], wall = new double[6];
            try (Backend.Timer timer = be.timer()) {
                for (int it = 0; it < ms.length; it++) { // steps 0-1 eager, 2 captured, 3-5 replays
                    long[] starts = new long[B];
                    for (int b = 0; b < B; b++) starts[b] = (long) b * T * 8 + (long) (it % 7) * T;
                    long t0 = System.nanoTime();
                    timer.start();
                    be.forward(st, new Window(tb, starts, T, it), true);
                    be.backward();
                    be.clip(ClipMode.NORM, 5);
                    be.step(2e-3, it + 1);
                    ms[it] = timer.stopMillis();
                    wall[it] = (System.nanoTime() - t0) / 1e6;
                }
            }
            for (int it = 0; it < ms.length; it++) {
                assertTrue(
                        ms[it] > 0 && ms[it] <= wall[it] + 0.05,
                        "step " + it + ": event " + ms[it] + " ms, wall " + wall[it] + " ms");
            }
            assertTrue(Double.isFinite(be.loss()));
        }
    }

    private static void assertClose(String what, double[] a, double[] ref, Tolerances.Tol tol) {
        assertEquals(ref.length, a.length, what + " length");
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(ref[i]) && Double.isNaN(a[i])) continue;
            int k = i;
            assertTrue(tol.ok(a[i], ref[i]), () -> what + "[" + k + "]: " + a[k] + " vs reference " + ref[k]);
        }
    }
}
