package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
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
import org.charrnn.testutil.Properties;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --precision bf16} on CUDA: whole training steps against the fp64 reference with the bf16
 * tolerance table; training that tracks fp32; bf16 really rounds (differs from fp32, slightly);
 * CUDA-graph replay equal to eager launches, also after the operand scratch has grown; the tiled
 * fallback computes in fp32.
 */
@Tag("gpu")
class CudaBf16Test {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    /**
     * The standard shapes and, for every cell, odd leading dimensions and V > 256; the tensor-core
     * sized GEMMs for RNN, LSTM, GRU and MUT1, whose gate rows a unit (1, 4, 3 and 2, input and
     * recurrent alike) give every GEMM shape that MUT2 (2 input, 3 recurrent) and MUT3 (3 and 3)
     * have, MUT1 also their product of r h before W_hh: each of those two rows took 13-18 s of the
     * emulated device's CI time.
     */
    static Stream<Verifier.Shape> shapes() {
        List<Verifier.Shape> s = new ArrayList<>(Verifier.standardShapes());
        for (CellType c : CellType.values()) {
            s.add(new Verifier.Shape(c, 13, 6, 257, 1, 2, 2, 0.2)); // H = 257: odd leading dimensions
            s.add(new Verifier.Shape(c, 300, 8, 20, 1, 5, 3, 0.0)); // V > 256
            if (c != CellType.MUT2 && c != CellType.MUT3)
                s.add(new Verifier.Shape(c, 65, 32, 128, 2, 16, 20, 0.0)); // tensor-core sized GEMMs
        }
        return s.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void bf16TrainingStepMatchesReferenceWithinBf16Tolerances(Verifier.Shape shape) {
        Verifier v = new Verifier(CudaBackend::new, Precision.BF16, ReferenceBackend::new, Tolerances.bf16());
        List<Verifier.Check> checks = v.run(shape, 41 + shape.hashCode());
        assertFalse(checks.isEmpty());
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }

    /**
     * The layers pipelined by chunks in bf16: the side stream's GEMMs read the main GEMM's bf16 copy
     * of the weights (Gemm.readWeightsOf), which must be the current one.
     */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void bf16PipelinedStepMatchesReferenceWithinBf16Tolerances(CellType cell) {
        Verifier.Shape shape = new Verifier.Shape(cell, 13, 6, 24, 3, 3, 7, 0.2);
        Verifier v = new Verifier(CudaBackend::new, Precision.BF16, ReferenceBackend::new, Tolerances.bf16());
        List<Verifier.Check> checks = Properties.with(
                "charrnn.layerPipeline",
                "on",
                () -> Properties.with("charrnn.pipelineChunk", "3", () -> v.run(shape, 43 + shape.hashCode())));
        assertFalse(checks.isEmpty());
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }

    @Test
    void reportsBf16AndRoundsItsGemmOperands() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 40, 32, 96, 2, 0.0);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(3);
        double l32, l16;
        try (Backend a = new CudaBackend(cfg, opt.withPrecision(Precision.FP32))) {
            l32 = firstLoss(a, cfg);
        }
        try (Backend b = new CudaBackend(cfg, opt.withPrecision(Precision.BF16))) {
            assertEquals(Precision.BF16, b.precision());
            assertTrue(b.deviceName().contains("cuBLAS BF16"), b.deviceName());
            l16 = firstLoss(b, cfg);
        }
        // bf16 operands change the loss (else nothing was converted), by far less than 1%
        assertNotEquals(l32, l16, "bf16 loss is bit-identical to fp32: operands were not rounded");
        assertTrue(Math.abs(l16 - l32) <= 1e-4 + 1e-2 * Math.abs(l32), "fp32 loss " + l32 + ", bf16 " + l16);
    }

    private static double firstLoss(Backend be, ModelConfig cfg) {
        SplittableRandom rng = new SplittableRandom(11);
        int B = 8, T = 10, len = 500;
        int[] toks = new int[len];
        for (int i = 0; i < len; i++) toks[i] = rng.nextInt(cfg.vocabSize());
        be.setParameters(Init.initialize(new ParamLayout(cfg), 11));
        try (RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(TokenSequence.of(toks))) {
            long[] starts = new long[B];
            for (int b = 0; b < B; b++) starts[b] = 37L * b;
            be.forward(st, new Window(tb, starts, T, 0), false);
            return be.loss();
        }
    }

    private record Run(double firstLoss, double lastLoss, double[] params, double[] state, double[][] slots) {}

    /**
     * Adam on a learnable corpus (a period-29 pattern, a quarter of the tokens random), norm-clipped,
     * with a changing lr and dropout iteration; in the middle an evaluation forward on a larger batch
     * (grows the bf16 operand scratch after a graph was captured) and stepLogits. Eval losses on a
     * fixed window before and after.
     */
    private static Run train(Backend be, ModelConfig cfg, int steps) {
        int V = cfg.vocabSize(), B = 16, T = 24, len = 6000;
        SplittableRandom rng = new SplittableRandom(5);
        int[] pattern = new int[29];
        for (int i = 0; i < pattern.length; i++) pattern[i] = rng.nextInt(V);
        int[] toks = new int[len];
        for (int i = 0; i < len; i++) toks[i] = rng.nextInt(4) == 0 ? rng.nextInt(V) : pattern[i % pattern.length];
        be.setParameters(Init.initialize(new ParamLayout(cfg), 5));
        be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
        try (RnnState st = be.newState(B);
                RnnState ev = be.newState(B);
                RnnState big = be.newState(4 * B);
                TokenBuffer tb = be.upload(TokenSequence.of(toks))) {
            long[] evalStarts = new long[B];
            for (int b = 0; b < B; b++) evalStarts[b] = 5000L + 61L * b;
            be.forward(ev, new Window(tb, evalStarts, T, 0), false);
            double first = be.loss();
            for (int it = 0; it < steps; it++) {
                long[] starts = new long[B];
                for (int b = 0; b < B; b++) starts[b] = ((long) b * 300 + (long) it * T) % (4800 - T);
                be.forward(st, new Window(tb, starts, T, it), true);
                be.backward();
                be.clip(ClipMode.NORM, 5.0);
                be.step(1e-2 * (1 - 0.3 * it / steps), it + 1);
                if (it == steps / 2) {
                    long[] s4 = new long[4 * B];
                    for (int b = 0; b < 4 * B; b++) s4[b] = 20L * b;
                    be.forward(big, new Window(tb, s4, 2 * T, it), false);
                    int[] next = new int[B];
                    for (int b = 0; b < B; b++) next[b] = toks[b];
                    be.stepLogits(ev, next);
                    ev.reset();
                }
            }
            ev.reset();
            be.forward(ev, new Window(tb, evalStarts, T, steps), false);
            double last = be.loss();
            return new Run(first, last, be.getParameters(), st.read(), be.getOptimizerState());
        }
    }

    /**
     * 60 steps in fp32 and in bf16: it learns, and like fp32 does. bf16 rounds the GEMMs' operands
     * only (the cells compute in fp32), so three cells stand for all (LSTM; GRU, whose recurrent
     * and input projections differ; a MUT cell, which feeds its input directly): the per-cell parity
     * is bf16TrainingStepMatchesReferenceWithinBf16Tolerances' (CI time).
     */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "MUT1"})
    void bf16TrainingTracksFp32(CellType cell) {
        ModelConfig cfg = Models.config(cell, 20, 16, 64, 2, 0.1);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(9);
        Run fp32, bf16;
        try (Backend a = new CudaBackend(cfg, opt.withPrecision(Precision.FP32))) {
            fp32 = train(a, cfg, 60);
        }
        try (Backend b = new CudaBackend(cfg, opt.withPrecision(Precision.BF16))) {
            bf16 = train(b, cfg, 60);
        }
        String msg = "fp32 loss " + fp32.firstLoss() + " -> " + fp32.lastLoss() + ", bf16 " + bf16.firstLoss() + " -> "
                + bf16.lastLoss();
        // it learns (the GEMMs see the updated weights), and like fp32 does
        assertTrue(fp32.lastLoss() < 0.8 * fp32.firstLoss(), msg);
        assertTrue(bf16.lastLoss() < 0.8 * bf16.firstLoss(), msg);
        assertTrue(Math.abs(bf16.firstLoss() - fp32.firstLoss()) <= 1e-4 + 1e-2 * Math.abs(fp32.firstLoss()), msg);
        assertTrue(Math.abs(bf16.lastLoss() - fp32.lastLoss()) <= 1e-4 + 3e-2 * Math.abs(fp32.lastLoss()), msg);
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void bf16GraphReplayEqualsEagerLaunches(CellType cell) {
        ModelConfig cfg = Models.config(cell, 23, 9, 45, 2, 0.25);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(77).withPrecision(Precision.BF16);
        Run graph, eager;
        try (Backend g = new CudaBackend(cfg, opt.withCudaGraph(true))) {
            graph = train(g, cfg, 12);
        }
        try (Backend e = new CudaBackend(cfg, opt.withCudaGraph(false))) {
            eager = train(e, cfg, 12);
        }
        assertArrayEquals(eager.params(), graph.params(), "bf16 graph replay must match eager launches exactly");
        assertArrayEquals(eager.state(), graph.state());
        assertEquals(eager.lastLoss(), graph.lastLoss());
        for (int k = 0; k < eager.slots().length; k++) assertArrayEquals(eager.slots()[k], graph.slots()[k]);
    }

    @Test
    void tiledFallbackComputesBf16InFp32() {
        ModelConfig cfg = new ModelConfig(CellType.GRU, 23, 9, 45, 2, 0.0);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(1);
        String old = System.setProperty(Gemm.FORCE_TILED, "true");
        try {
            Run fp32, bf16;
            try (Backend a = new CudaBackend(cfg, opt.withPrecision(Precision.FP32))) {
                fp32 = train(a, cfg, 6);
            }
            try (Backend b = new CudaBackend(cfg, opt.withPrecision(Precision.BF16))) {
                assertEquals(Precision.BF16, b.precision());
                assertTrue(b.deviceName().contains("gemm_tiled"), b.deviceName());
                bf16 = train(b, cfg, 6);
            }
            assertArrayEquals(fp32.params(), bf16.params(), "without cuBLAS bf16 runs the fp32 tiled GEMM");
            assertEquals(fp32.lastLoss(), bf16.lastLoss());
        } finally {
            if (old == null) System.clearProperty(Gemm.FORCE_TILED);
            else System.setProperty(Gemm.FORCE_TILED, old);
        }
    }
}
