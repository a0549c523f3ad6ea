package org.charrnn.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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

/**
 * Backend-agnostic parity harness: runs a backend under test and the fp64 reference on the same
 * seeded random model, state and window, and compares loss, every gradient tensor, the
 * initial-state gradient, the gradient norm, the carried state, parameters and optimizer state after
 * a clipped step (every optimizer, both clip modes), a window with uncounted targets, and stepLogits. Each element must satisfy
 * {@code |a - ref| <= atol + rtol * |ref|} with the {@link Tolerances} row of its kind.
 */
public final class Verifier {

    /** Creates a backend for a model; the verifier chooses the options (dropout seed, precision). */
    @FunctionalInterface
    public interface Factory {
        Backend create(ModelConfig config, BackendOptions options);
    }

    /** One comparison: the largest absolute and relative error over its elements and the verdict. */
    public record Check(String name, double maxAbsErr, double maxRelErr, boolean passed) {}

    /**
     * One verified configuration. Cells that add the layer input itself into the cell (MUT1, MUT2)
     * need E = H, so their shapes take the embedding width from {@code hidden}.
     */
    public record Shape(
            CellType cell, int vocab, int embedding, int hidden, int layers, int batch, int seqLen, double dropout) {
        public Shape {
            if (cell.feedsInputDirectly()) embedding = hidden;
        }

        public ModelConfig config() {
            return new ModelConfig(cell, vocab, embedding, hidden, layers, dropout);
        }

        public String label() {
            return String.format(
                    Locale.ROOT,
                    "%s V%d E%d H%d L%d B%d T%d%s",
                    cell.id(),
                    vocab,
                    embedding,
                    hidden,
                    layers,
                    batch,
                    seqLen,
                    dropout > 0 ? " p" + dropout : "");
        }
    }

    private final Factory underTest;
    private final Factory reference;
    private final Precision precision;
    private final Tolerances tol;

    /**
     * @param underTest backend to verify, created with {@code precision}
     * @param reference source of truth (created with FP64)
     */
    public Verifier(Factory underTest, Precision precision, Factory reference, Tolerances tol) {
        this.underTest = underTest;
        this.precision = precision;
        this.reference = reference;
        this.tol = tol;
    }

    /** Verifies {@code underTest} in fp32 against {@link ReferenceBackend}. */
    public static Verifier againstReference(Factory underTest) {
        return new Verifier(underTest, Precision.FP32, ReferenceBackend::new, Tolerances.fp32());
    }

    /**
     * Awkward shapes: H not a multiple of 32, H = 1, B = 1, T = 1, L = 3, every cell, dropout on
     * and off.
     */
    public static List<Shape> standardShapes() {
        List<Shape> s = new ArrayList<>();
        for (CellType c : CellType.values()) {
            s.add(new Shape(c, 11, 7, 33, 2, 3, 5, 0.0));
            s.add(new Shape(c, 11, 7, 33, 2, 3, 5, 0.3));
            s.add(new Shape(c, 5, 3, 1, 1, 1, 1, 0.0));
            s.add(new Shape(c, 9, 4, 17, 3, 1, 4, 0.25));
        }
        return s;
    }

    /** Runs every shape; check names are prefixed with the shape label. */
    public List<Check> run(List<Shape> shapes, long seed) {
        List<Check> out = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) out.addAll(run(shapes.get(i), seed + 1000L * i));
        return out;
    }

    /** All checks of one shape. */
    public List<Check> run(Shape shape, long seed) {
        ModelConfig cfg = shape.config();
        ParamLayout layout = new ParamLayout(cfg);
        SplittableRandom rng = new SplittableRandom(seed);
        int B = shape.batch(), T = shape.seqLen(), V = shape.vocab();
        double[] p0 = Init.initialize(layout, seed);
        int len = B * (T + 1) + 7;
        int[] toks = new int[len];
        for (int i = 0; i < len; i++) toks[i] = rng.nextInt(V);
        long[] starts = new long[B];
        for (int b = 0; b < B; b++) starts[b] = rng.nextInt(len - T - 1 + 1);
        double[] s0 = new double[cfg.stateSizePerRow() * B];
        for (int i = 0; i < s0.length; i++) s0[i] = rng.nextDouble() - 0.5;
        long iteration = 1L + rng.nextInt(1000);
        int[] stepTokens = new int[B];
        for (int b = 0; b < B; b++) stepTokens[b] = rng.nextInt(V);
        // the masked windows leave out every target equal to stream 0's first (so at least one)
        int ignore = toks[(int) starts[0] + 1];
        BackendOptions opt =
                BackendOptions.defaults().withDropoutSeed(seed ^ 0x5DEECE66DL).withThreads(1);
        TokenSequence seq = TokenSequence.of(toks);

        try (Backend a = underTest.create(cfg, opt.withPrecision(precision));
                Backend r = reference.create(cfg, opt.withPrecision(Precision.FP64));
                RnnState sa = a.newState(B);
                RnnState sr = r.newState(B);
                TokenBuffer ta = a.upload(seq);
                TokenBuffer tr = r.upload(seq)) {
            Pair p = new Pair(layout, a, r, sa, sr, p0, s0);
            Window wa = new Window(ta, starts, T, iteration), wr = new Window(tr, starts, T, iteration);
            Window ma = new Window(ta, starts, T, iteration, ignore), mr = new Window(tr, starts, T, iteration, ignore);
            String pfx = shape.label() + ": ";
            List<Check> checks = new ArrayList<>();

            a.setParameters(p0);
            r.setParameters(p0);
            gradientChecks(pfx, p, wa, wr, true, checks);
            double[] gr = r.getGradients();
            optimizerChecks(pfx, p, wa, wr, norm(gr), maxAbs(gr), checks);

            a.setParameters(p0);
            r.setParameters(p0);
            gradientChecks(pfx + "masked ", p, ma, mr, false, checks);
            checks.add(evalLoss(pfx + "masked eval loss", p, ma, mr));

            // inference: eval forward loss, then two stepLogits calls (the second uses the carried state)
            a.setParameters(p0);
            r.setParameters(p0);
            checks.add(evalLoss(pfx + "eval loss", p, wa, wr));
            sa.write(s0);
            sr.write(s0);
            for (int k = 1; k <= 2; k++) {
                checks.add(compare(
                        pfx + "stepLogits #" + k,
                        a.stepLogits(sa, stepTokens),
                        r.stepLogits(sr, stepTokens),
                        Tolerances.Kind.LOGITS));
            }
            checks.add(compare(pfx + "state after stepLogits", sa.read(), sr.read(), Tolerances.Kind.STATE));
            return checks;
        }
    }

    /**
     * The backend under test (a) and the reference (r) on one shape, their states (sa, sr), and the
     * parameters p0 [P] and initial state s0 [B * state per row] every check starts from.
     */
    private record Pair(ParamLayout layout, Backend a, Backend r, RnnState sa, RnnState sr, double[] p0, double[] s0) {}

    /**
     * A training forward and backward pass of both from s0 over windows wa, wr, with the parameters
     * set: loss, (withState) the carried state after the forward, every gradient tensor and the
     * initial-state gradient.
     */
    private void gradientChecks(String tag, Pair p, Window wa, Window wr, boolean withState, List<Check> checks) {
        Backend a = p.a(), r = p.r();
        p.sa().write(p.s0());
        p.sr().write(p.s0());
        a.forward(p.sa(), wa, true);
        r.forward(p.sr(), wr, true);
        checks.add(compare(tag + "loss", new double[] {a.loss()}, new double[] {r.loss()}, Tolerances.Kind.LOSS));
        if (withState)
            checks.add(compare(tag + "state after forward", p.sa().read(), p.sr().read(), Tolerances.Kind.STATE));
        a.backward();
        r.backward();
        double[] ga = a.getGradients(), gr = r.getGradients();
        for (ParamLayout.Tensor t : p.layout().tensors())
            checks.add(compare(tag + "grad " + t.name(), slice(ga, t), slice(gr, t), Tolerances.gradKind(t.name())));
        checks.add(compare(
                tag + "initial-state grad",
                a.getInitialStateGradient(),
                r.getInitialStateGradient(),
                Tolerances.Kind.STATE_GRAD));
    }

    /**
     * Two clipped steps of every optimizer in both clip modes from p0, the clip at half the
     * reference's gradient norm (normRef) or largest gradient (maxAbs): the gradient norm and the
     * clipped gradients of the first, the parameters and optimizer state after the second.
     */
    private void optimizerChecks(
            String pfx, Pair p, Window wa, Window wr, double normRef, double maxAbs, List<Check> checks) {
        Backend a = p.a(), r = p.r();
        for (OptimizerKind kind : OptimizerKind.values()) {
            for (ClipMode mode : ClipMode.values()) {
                double max = mode == ClipMode.NORM ? 0.5 * normRef : 0.5 * maxAbs;
                // eps 1e-4 instead of 1e-8: Adam, RMSprop and Adagrad divide by sqrt(moment) + eps,
                // which maps a gradient at the fp32 noise floor to an O(lr) update of arbitrary
                // sign; a larger eps keeps the update Lipschitz (lr/eps) so the comparison tests
                // the formula rather than the sign of rounding noise. Gradients here are ~1e-3.
                OptimizerConfig d = OptimizerConfig.defaults(kind);
                OptimizerConfig oc =
                        new OptimizerConfig(kind, d.beta1(), d.beta2(), 1e-4, d.decay(), d.momentum(), 1e-2);
                for (Backend be : new Backend[] {a, r}) {
                    be.setParameters(p.p0());
                    be.setOptimizer(oc);
                }
                String tag = pfx + kind.id() + "/" + mode.id() + " ";
                // two steps so the optimizer state is used, not just initialised
                for (int step = 1; step <= 2; step++) {
                    p.sa().write(p.s0());
                    p.sr().write(p.s0());
                    a.forward(p.sa(), wa, true);
                    r.forward(p.sr(), wr, true);
                    a.backward();
                    r.backward();
                    a.clip(mode, max);
                    r.clip(mode, max);
                    if (step == 1) {
                        checks.add(compare(
                                tag + "grad norm",
                                new double[] {a.gradNorm()},
                                new double[] {r.gradNorm()},
                                Tolerances.Kind.GRAD_NORM));
                        checks.add(
                                compareKinded(tag + "clipped grads", a.getGradients(), r.getGradients(), p.layout()));
                    }
                    a.step(1e-3, step);
                    r.step(1e-3, step);
                }
                checks.add(compare(
                        tag + "params after 2 steps",
                        a.getParameters(),
                        r.getParameters(),
                        Tolerances.Kind.PARAMS_AFTER_STEP));
                double[][] oa = a.getOptimizerState(), or = r.getOptimizerState();
                for (int k = 0; k < or.length; k++)
                    checks.add(compare(
                            tag + "state " + kind.slots().get(k), oa[k], or[k], Tolerances.Kind.OPTIMIZER_STATE));
            }
        }
    }

    /** The loss of an evaluation forward pass of both from s0 over windows wa, wr. */
    private Check evalLoss(String name, Pair p, Window wa, Window wr) {
        p.sa().write(p.s0());
        p.sr().write(p.s0());
        p.a().forward(p.sa(), wa, false);
        p.r().forward(p.sr(), wr, false);
        return compare(name, new double[] {p.a().loss()}, new double[] {p.r().loss()}, Tolerances.Kind.LOSS);
    }

    /** Gradients compared tensor by tensor with each tensor's tolerance, reported as one check. */
    private Check compareKinded(String name, double[] a, double[] ref, ParamLayout layout) {
        double maxAbs = 0, maxRel = 0;
        boolean ok = a.length == ref.length;
        for (ParamLayout.Tensor t : layout.tensors()) {
            Check c = compare(name, slice(a, t), slice(ref, t), Tolerances.gradKind(t.name()));
            maxAbs = Math.max(maxAbs, c.maxAbsErr());
            maxRel = Math.max(maxRel, c.maxRelErr());
            ok &= c.passed();
        }
        return new Check(name, maxAbs, maxRel, ok);
    }

    /** Elementwise comparison under the tolerance of {@code kind}; NaN anywhere fails. */
    public Check compare(String name, double[] a, double[] ref, Tolerances.Kind kind) {
        Tolerances.Tol t = tol.of(kind);
        if (a.length != ref.length)
            return new Check(name + " (length " + a.length + " vs " + ref.length + ")", Double.NaN, Double.NaN, false);
        double maxAbs = 0, maxRel = 0;
        boolean ok = true;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - ref[i]);
            if (Double.isNaN(d)) { // NaN in either, or infinities of one sign: never a match
                ok = false;
                maxAbs = Double.NaN;
                continue;
            }
            if (!Double.isNaN(maxAbs)) maxAbs = Math.max(maxAbs, d);
            if (ref[i] != 0) maxRel = Math.max(maxRel, d / Math.abs(ref[i]));
            if (!t.ok(a[i], ref[i])) ok = false;
        }
        return new Check(name, maxAbs, maxRel, ok);
    }

    /** A fixed-width table of checks, failures marked. */
    public static String table(List<Check> checks) {
        int w = 5;
        for (Check c : checks) w = Math.max(w, c.name().length());
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT, "%-" + w + "s  %12s  %12s  %s%n", "check", "max abs err", "max rel err", "result"));
        for (Check c : checks)
            sb.append(String.format(
                    Locale.ROOT,
                    "%-" + w + "s  %12.3e  %12.3e  %s%n",
                    c.name(),
                    c.maxAbsErr(),
                    c.maxRelErr(),
                    c.passed() ? "ok" : "FAIL"));
        long failed = checks.stream().filter(c -> !c.passed()).count();
        sb.append(checks.size() - failed).append('/').append(checks.size()).append(" checks passed");
        return sb.toString();
    }

    public static boolean allPassed(List<Check> checks) {
        return checks.stream().allMatch(Check::passed);
    }

    private static double[] slice(double[] a, ParamLayout.Tensor t) {
        double[] out = new double[t.size()];
        System.arraycopy(a, t.offset(), out, 0, t.size());
        return out;
    }

    private static double norm(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return Math.sqrt(s);
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
