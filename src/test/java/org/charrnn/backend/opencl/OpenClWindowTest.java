package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.CliRun;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole-window recurrence kernels (window_cpu.cl) against the per-step kernels and the fp64
 * reference on one training forward and backward: loss, carried state, every gradient tensor and
 * the initial-state gradient, each element within {@code atol + rtol |ref|} of {@link
 * Tolerances#fp32()} (window vs stepwise with the stepwise value as ref). The CPU kernel variant is
 * forced so the window path runs on any OpenCL device; the backend's device name says which ran.
 */
@Tag("opencl")
class OpenClWindowTest {
    private static String oldVariant;

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
        oldVariant = System.getProperty(ClQueue.VARIANT_PROPERTY);
        System.setProperty(ClQueue.VARIANT_PROPERTY, "cpu");
    }

    @AfterAll
    static void restoreVariant() {
        if (oldVariant == null) System.clearProperty(ClQueue.VARIANT_PROPERTY);
        else System.setProperty(ClQueue.VARIANT_PROPERTY, oldVariant);
    }

    /** cell, H, B, T, L, dropout: H = 1, 33, 257; B = 1, 50 (and 3, 9 for partial row blocks); T = 1; L = 1..3. */
    static Stream<Arguments> shapes() {
        List<Arguments> s = new ArrayList<>();
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
            s.add(Arguments.of(c, 1, 1, 1, 1, 0.0));
            s.add(Arguments.of(c, 1, 50, 3, 2, 0.0));
            s.add(Arguments.of(c, 33, 50, 5, 2, 0.0));
            s.add(Arguments.of(c, 33, 1, 6, 3, 0.0));
            s.add(Arguments.of(c, 17, 9, 1, 3, 0.3));
            s.add(Arguments.of(c, 257, 3, 4, 1, 0.0));
            s.add(Arguments.of(c, 48, 50, 4, 1, 0.0));
        }
        return s.stream();
    }

    @ParameterizedTest(name = "{0} H{1} B{2} T{3} L{4} p{5}")
    @MethodSource("shapes")
    void windowMatchesStepwiseAndReference(CellType cell, int H, int B, int T, int L, double dropout) {
        ModelConfig cfg = new ModelConfig(cell, 11, 7, H, L, dropout);
        long seed = 1000L * H + 100L * B + 10L * T + L + cell.ordinal();
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(seed).withThreads(1);
        Run ref, window, stepwise;
        try (Backend r = new ReferenceBackend(cfg, opt.withPrecision(Precision.FP64));
                Backend w = new OpenClBackend(cfg, opt.withRnnKernel(RnnKernel.PERSISTENT));
                Backend s = new OpenClBackend(cfg, opt.withRnnKernel(RnnKernel.STEPWISE))) {
            assertTrue(w.deviceName().endsWith("rnn window)"), w.deviceName());
            assertTrue(s.deviceName().endsWith("rnn stepwise: --rnn-kernel stepwise)"), s.deviceName());
            ref = Run.of(r, cfg, B, T, seed);
            window = Run.of(w, cfg, B, T, seed);
            stepwise = Run.of(s, cfg, B, T, seed);
        }
        Verifier v = Verifier.againstReference(OpenClBackend::new);
        ParamLayout layout = new ParamLayout(cfg);
        List<Verifier.Check> checks = new ArrayList<>();
        checks.addAll(window.compare(v, "window vs reference: ", ref, layout));
        checks.addAll(stepwise.compare(v, "stepwise vs reference: ", ref, layout));
        checks.addAll(window.compare(v, "window vs stepwise: ", stepwise, layout));
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }

    /**
     * The queue's kernel variant decides: the GPU variant (a GPU device, or -Dcharrnn.opencl.kernels=gpu)
     * keeps the per-step kernels, which auto then says in the device name.
     */
    @Test
    void gpuVariantKeepsTheStepwiseKernels() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 11, 7, 8, 1, 0.0);
        System.setProperty(ClQueue.VARIANT_PROPERTY, "gpu");
        try (Backend b = new OpenClBackend(cfg, BackendOptions.defaults())) {
            assertTrue(
                    b.deviceName().endsWith("rnn stepwise: the window kernels are for CPU devices)"), b.deviceName());
        } finally {
            System.setProperty(ClQueue.VARIANT_PROPERTY, "cpu");
        }
        try (Backend b = new OpenClBackend(cfg, BackendOptions.defaults())) {
            assertTrue(b.deviceName().endsWith("rnn window)"), b.deviceName());
        }
    }

    /** --rnn-kernel persistent where no window kernel exists is a one-line error, not a silent fallback. */
    @Test
    void persistentWithoutAWindowKernelIsAOneLineError() {
        CliRun r = CliRun.of(
                "bench",
                "--backend",
                "opencl",
                "--model",
                "mut1",
                "--layers",
                "1",
                "--hidden",
                "8",
                "--batch",
                "1",
                "--seq",
                "2",
                "--steps",
                "1",
                "--warmup",
                "0",
                "--quiet",
                "--rnn-kernel",
                "persistent");
        r.assertOneLineError("--rnn-kernel persistent: no window kernel for mut1");
    }

    /** The results of one training forward and backward. */
    private record Run(double loss, double[] state, double[] grads, double[] stateGrad) {

        static Run of(Backend be, ModelConfig cfg, int B, int T, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            int V = cfg.vocabSize(), len = B * (T + 1) + 7;
            int[] toks = new int[len];
            for (int i = 0; i < len; i++) toks[i] = rng.nextInt(V);
            long[] starts = new long[B];
            for (int b = 0; b < B; b++) starts[b] = rng.nextInt(len - T);
            double[] s0 = new double[cfg.stateSizePerRow() * B];
            for (int i = 0; i < s0.length; i++) s0[i] = rng.nextDouble() - 0.5;
            be.setParameters(Init.initialize(be.layout(), seed));
            try (RnnState st = be.newState(B);
                    TokenBuffer tb = be.upload(TokenSequence.of(toks))) {
                st.write(s0);
                be.forward(st, new Window(tb, starts, T, 7), true);
                double loss = be.loss();
                double[] state = st.read();
                be.backward();
                return new Run(loss, state, be.getGradients(), be.getInitialStateGradient());
            }
        }

        List<Verifier.Check> compare(Verifier v, String pfx, Run ref, ParamLayout layout) {
            List<Verifier.Check> c = new ArrayList<>();
            c.add(v.compare(pfx + "loss", new double[] {loss}, new double[] {ref.loss}, Tolerances.Kind.LOSS));
            c.add(v.compare(pfx + "state after forward", state, ref.state, Tolerances.Kind.STATE));
            for (ParamLayout.Tensor t : layout.tensors())
                c.add(v.compare(
                        pfx + "grad " + t.name(), slice(grads, t), slice(ref.grads, t), Tolerances.gradKind(t.name())));
            c.add(v.compare(pfx + "initial-state grad", stateGrad, ref.stateGrad, Tolerances.Kind.STATE_GRAD));
            return c;
        }

        private static double[] slice(double[] a, ParamLayout.Tensor t) {
            double[] out = new double[t.size()];
            System.arraycopy(a, Math.toIntExact(t.offset()), out, 0, out.length);
            return out;
        }
    }
}
