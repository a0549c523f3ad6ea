package org.charrnn.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.LocalDate;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.charrnn.backend.Backend;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.backend.cuda.CudaBackendProvider;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * Times whole training steps of one configuration on one backend.
 *
 * <p>A step is forward + loss, backward, clip (global norm 5) and an Adam update (lr 2e-3) over a
 * [T, B] window of seeded random tokens (V = 65) uploaded once; windows advance through the
 * sequence as the trainer's do, carrying the recurrent state. After {@code warmup} untimed steps,
 * each of {@code steps} plain steps is timed by the backend's {@link Backend#timer()} (CUDA events
 * around the step on CUDA; elsewhere clock, step, {@link Backend#synchronize()}, clock), so the time
 * includes all queued device work and no host read-back (no loss or norm is read). The
 * forward / backward / update split comes from {@code splitSteps} further instrumented steps with a
 * synchronize after every phase (on CUDA these run eagerly, not as a replayed graph, so their sum can
 * exceed the plain step).
 */
public final class BenchRunner {

    /**
     * What one benchmark row runs.
     *
     * @param steps      timed plain steps (>= 1)
     * @param warmup     untimed steps first (>= 0)
     * @param splitSteps instrumented steps for the phase split (>= 0; 0 leaves the split NaN)
     * @param seed       seed of the parameters and tokens
     */
    public record Settings(int steps, int warmup, int splitSteps, long seed) {
        /**
         * The most steps of each kind in a row: every timing is kept until the row's medians, and a
         * row of this many steps already runs for hours at the slowest rows' seconds a step.
         */
        public static final int MAX_STEPS = 1_000_000;

        public Settings {
            if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
            if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
            if (splitSteps < 0) throw new IllegalArgumentException("--split-steps must be >= 0, got " + splitSteps);
            requireAtMost("--steps", steps);
            requireAtMost("--warmup", warmup);
            requireAtMost("--split-steps", splitSteps);
        }

        private static void requireAtMost(String option, int value) {
            if (value > MAX_STEPS)
                throw new IllegalArgumentException(option + " must be at most " + MAX_STEPS + ", got " + value);
        }

        public int total() {
            return steps + warmup + splitSteps;
        }
    }

    public static final double LR = 2e-3;
    public static final double CLIP = 5.0;
    /** Windows per stream before the token sequence wraps (and the state is reset). */
    static final int MAX_WINDOWS = 64;

    /** Why no bench runs on the CPU-emulated CUDA device. */
    public static final String EMULATED_REFUSAL =
            "bench refuses the emulated CUDA device (" + CudaBackendProvider.EMULATOR_ENV
                    + "=1): its timings say nothing about a GPU; unset it to bench a real one";

    private BenchRunner() {}

    /**
     * Runs {@code spec} on a backend made by {@code factory} (closed afterwards).
     *
     * @param rnnKernel what the factory's options ask of the recurrence, recorded in the row
     * @param progress receives (steps done in this row, steps in this row)
     */
    public static BenchResult run(
            BenchSpec spec,
            Function<ModelConfig, Backend> factory,
            Settings s,
            boolean cudaGraph,
            RnnKernel rnnKernel,
            Progress progress) {
        int B = spec.batch(), T = spec.seq();
        int windows = Math.max(1, Math.min(MAX_WINDOWS, s.total()));
        long perStream = (long) windows * T + 1;
        int[] tokens = tokens(spec, perStream * B, s.seed());
        HeapPeak heap = HeapPeak.start();
        try (Backend b = factory.apply(spec.modelConfig())) {
            if (CudaBackendProvider.isEmulated(b.deviceName())) throw new UserError(EMULATED_REFUSAL);
            b.setParameters(Init.initialize(b.layout(), s.seed()));
            b.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            try (TokenBuffer buf = b.upload(TokenSequence.of(tokens));
                    RnnState state = b.newState(B)) {
                Timings t = time(new Stepper(b, buf, state, B, T, windows, perStream), s, progress);
                double loss = b.loss();
                if (!Double.isFinite(loss))
                    throw new IllegalStateException("bench " + spec.label() + " on " + b.name() + ": loss is " + loss
                            + " after " + s.total() + " steps");
                long device = b.peakMemoryBytes();
                String memKind = device > 0 ? "device" : "heap";
                double peak = (device > 0 ? device : heap.peakBytes()) / (double) (1 << 20);
                return new BenchResult(
                        "charrnn-" + b.name(),
                        b.name(),
                        b.deviceName(),
                        b.precision().id(),
                        cudaGraph && b.name().equals("cuda"),
                        rnnKernel.id(),
                        Knobs.current(),
                        spec,
                        s.steps(),
                        s.warmup(),
                        Stats.median(t.ms()),
                        Stats.min(t.ms()),
                        Stats.median(t.forward()),
                        Stats.median(t.backward()),
                        Stats.median(t.update()),
                        s.splitSteps(),
                        peak,
                        memKind,
                        Runtime.version().toString(),
                        LocalDate.now(java.time.ZoneOffset.UTC).toString());
            }
        }
    }

    /** {@code n} seeded random tokens of the bench's vocabulary: every stream's windows end to end. */
    private static int[] tokens(BenchSpec spec, long n, long seed) {
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("B*T too large for the bench: " + spec.label());
        int[] tokens = new int[(int) n];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < tokens.length; i++) tokens[i] = rng.nextInt(BenchSpec.VOCAB);
        return tokens;
    }

    /** The ms of each timed step, and of each instrumented step's forward, backward and update. */
    private record Timings(double[] ms, double[] forward, double[] backward, double[] update) {}

    /** The warm-up steps, then the timed ones, then the instrumented ones, each reported to {@code progress}. */
    private static Timings time(Stepper st, Settings s, Progress progress) {
        int done = 0, total = s.total();
        for (int i = 0; i < s.warmup(); i++) {
            st.step();
            progress.update(++done, total, "warmup");
        }
        st.b.synchronize();
        double[] ms = new double[s.steps()];
        try (Backend.Timer timer = st.b.timer()) {
            for (int i = 0; i < s.steps(); i++) {
                timer.start();
                st.step();
                ms[i] = timer.stopMillis();
                progress.update(++done, total, String.format(java.util.Locale.ROOT, "%.1f ms/step", ms[i]));
            }
        }
        double[] fw = new double[s.splitSteps()], bw = new double[s.splitSteps()], up = new double[s.splitSteps()];
        for (int i = 0; i < s.splitSteps(); i++) {
            st.instrumentedStep(fw, bw, up, i);
            progress.update(++done, total, "split");
        }
        return new Timings(ms, fw, bw, up);
    }

    /** Advances windows through the uploaded tokens as the trainer does, carrying the state. */
    private static final class Stepper {
        private final Backend b;
        private final TokenBuffer buf;
        private final RnnState state;
        private final int T, windows;
        private final long perStream;
        private final long[] starts;
        private long iteration;

        Stepper(Backend b, TokenBuffer buf, RnnState state, int B, int T, int windows, long perStream) {
            this.b = b;
            this.buf = buf;
            this.state = state;
            this.T = T;
            this.windows = windows;
            this.perStream = perStream;
            this.starts = new long[B];
        }

        private Window next() {
            long k = iteration % windows;
            if (k == 0 && iteration > 0) state.reset();
            for (int i = 0; i < starts.length; i++) starts[i] = i * perStream + k * T;
            return new Window(buf, starts.clone(), T, iteration);
        }

        void step() {
            Window w = next();
            b.forward(state, w, true);
            b.backward();
            b.clip(ClipMode.NORM, CLIP);
            b.step(LR, ++iteration);
        }

        void instrumentedStep(double[] fw, double[] bw, double[] up, int i) {
            Window w = next();
            b.synchronize();
            long t0 = System.nanoTime();
            b.forward(state, w, true);
            b.synchronize();
            long t1 = System.nanoTime();
            b.backward();
            b.synchronize();
            long t2 = System.nanoTime();
            b.clip(ClipMode.NORM, CLIP);
            b.step(LR, ++iteration);
            b.synchronize();
            long t3 = System.nanoTime();
            fw[i] = (t1 - t0) / 1e6;
            bw[i] = (t2 - t1) / 1e6;
            up[i] = (t3 - t2) / 1e6;
        }
    }

    /** Peak of the JVM heap pools since {@link #start()} (after a GC), an upper bound of what a reference run holds. */
    static final class HeapPeak {
        static HeapPeak start() {
            System.gc();
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
                if (p.getType() == MemoryType.HEAP && p.isValid()) p.resetPeakUsage();
            return new HeapPeak();
        }

        long peakBytes() {
            long sum = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
                if (p.getType() == MemoryType.HEAP && p.isValid() && p.getPeakUsage() != null)
                    sum += p.getPeakUsage().getUsed();
            return sum;
        }
    }
}
