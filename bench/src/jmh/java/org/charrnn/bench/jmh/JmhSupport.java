package org.charrnn.bench.jmh;

import java.util.SplittableRandom;

import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.Precision;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;

/**
 * Shared set-up of the kernel-level benchmarks: backends by name, seeded tokens and parameters,
 * one-window helpers and the correctness checks every benchmark runs before it is timed.
 */
final class JmhSupport {
    private JmhSupport() {}

    static final int VOCAB = 65;
    static final long SEED = 42;

    /** A backend of kind {@code name} ("reference", "cuda", "opencl") computing in {@code precision}. */
    static Backend create(String name, String precision, ModelConfig cfg) {
        BackendProvider p = Backends.provider(name);
        BackendProvider.Availability a = p.probe();
        if (!a.available()) throw new IllegalStateException("backend " + name + " is not available: " + a.reason()
                + " (choose backends with -p backend=...)");
        Precision prec = name.equals("reference") ? Precision.FP64 : Precision.parse(precision);
        return p.create(cfg, BackendOptions.defaults().withPrecision(prec));
    }

    /** The fp64 reference for {@code cfg}. */
    static Backend reference(ModelConfig cfg) {
        return new ReferenceBackend(cfg, BackendOptions.defaults());
    }

    /** Seeded tokens over the vocabulary. */
    static int[] tokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(VOCAB);
        return t;
    }

    /** Seeded parameters and tokens on {@code b}; returns the resident tokens (B streams of T + 1). */
    static TokenBuffer prepare(Backend b, int[] tokens) {
        b.setParameters(Init.initialize(b.layout(), SEED));
        return b.upload(TokenSequence.of(tokens));
    }

    /** The window of B streams of T steps over tokens laid out stream after stream. */
    static Window window(TokenBuffer buf, int B, int T) {
        long[] starts = new long[B];
        for (int b = 0; b < B; b++) starts[b] = (long) b * (T + 1);
        return new Window(buf, starts, T, 0);
    }

    /** A state of B streams holding seeded values in (-0.5, 0.5). */
    static RnnState state(Backend b, int B) {
        RnnState s = b.newState(B);
        SplittableRandom r = new SplittableRandom(SEED + 1);
        double[] v = new double[b.config().stateSizePerRow() * B];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() - 0.5;
        s.write(v);
        return s;
    }

    /** Relative L2 error ||a - ref|| / ||ref||. */
    static double relErr(double[] a, double[] ref) {
        if (a.length != ref.length) throw new IllegalStateException("length " + a.length + " vs " + ref.length);
        double d = 0, n = 0;
        for (int i = 0; i < a.length; i++) {
            double e = a[i] - ref[i];
            d += e * e;
            n += ref[i] * ref[i];
        }
        return n == 0 ? Math.sqrt(d) : Math.sqrt(d / n);
    }

    /** Accepted relative error of a backend computing in {@code p} against fp64 arithmetic. */
    static double tolerance(Precision p) {
        return switch (p) {
            case FP64 -> 1e-9;
            case FP32 -> 1e-4;
            case TF32, BF16 -> 3e-2;
        };
    }

    /** Throws unless {@code err <= tol}, naming the check. */
    static void check(String what, double err, double tol) {
        if (!(err <= tol)) throw new IllegalStateException(what + ": relative error " + err + " exceeds " + tol);
    }
}
