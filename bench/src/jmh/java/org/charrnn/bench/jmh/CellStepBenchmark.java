package org.charrnn.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;

/**
 * One timestep of one recurrent layer, forward and backward: a training window with T = 1 of a
 * one-layer model with E = H, so the input and recurrent GEMMs ([B, 2H] x [2H, G*H]) and the fused
 * cell dominate; the embedding gather and the [B, H] x [H, 65] decoder with its cross-entropy are
 * included (small for H >= 128). Every operation ends with {@link Backend#synchronize()}.
 *
 * <p>Before timing, the setup checks the backend: against the fp64 reference (loss and every
 * gradient, relative L2 error within the precision's tolerance), or for the reference itself,
 * its gradient against a central finite difference of the loss along a random direction.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CellStepBenchmark {

    /** The backend, a one-layer model and a T = 1 window, checked at set-up. */
    @State(Scope.Thread)
    public static class Cell {
        @Param({"reference"}) public String backend;
        @Param({"fp32"}) public String precision;
        @Param({"lstm"}) public String cell;
        @Param({"128", "256", "512"}) public int hidden;
        @Param({"50"}) public int batch;

        private Backend b;
        private TokenBuffer buf;
        private RnnState state;
        private Window window;
        private double[] initialState;

        @Setup(Level.Trial)
        public void setUp() {
            ModelConfig cfg = new ModelConfig(CellType.parse(cell), JmhSupport.VOCAB, hidden, hidden, 1, 0.0);
            int[] tokens = JmhSupport.tokens(batch * 2, JmhSupport.SEED);
            b = JmhSupport.create(backend, precision, cfg);
            buf = JmhSupport.prepare(b, tokens);
            state = JmhSupport.state(b, batch);
            initialState = state.read();
            window = JmhSupport.window(buf, batch, 1);
            verify(cfg, tokens);
            state.write(initialState);
        }

        private void verify(ModelConfig cfg, int[] tokens) {
            b.forward(state, window, true);
            b.backward();
            double loss = b.loss();
            double[] grads = b.getGradients();
            double tol = JmhSupport.tolerance(b.precision());
            if (backend.equals("reference")) {
                // d/de L(p + e d) at e = 0 by central differences, against g . d
                SplittableRandom r = new SplittableRandom(7);
                double[] p = b.getParameters(), d = new double[p.length];
                double gd = 0;
                for (int i = 0; i < d.length; i++) {
                    d[i] = r.nextDouble() - 0.5;
                    gd += grads[i] * d[i];
                }
                double eps = 1e-5;
                double plus = lossAt(p, d, eps), minus = lossAt(p, d, -eps);
                b.setParameters(p);
                JmhSupport.check("reference gradient vs finite difference", Math.abs((plus - minus) / (2 * eps) - gd) / Math.abs(gd), 1e-6);
            } else {
                try (Backend ref = JmhSupport.reference(cfg); TokenBuffer rb = JmhSupport.prepare(ref, tokens);
                     RnnState rs = ref.newState(batch)) {
                    rs.write(initialState);
                    ref.forward(rs, JmhSupport.window(rb, batch, 1), true);
                    ref.backward();
                    JmhSupport.check(backend + " loss", Math.abs(loss - ref.loss()) / ref.loss(), tol);
                    JmhSupport.check(backend + " gradients", JmhSupport.relErr(grads, ref.getGradients()), tol);
                }
            }
        }

        private double lossAt(double[] p, double[] d, double e) {
            double[] q = p.clone();
            for (int i = 0; i < q.length; i++) q[i] += e * d[i];
            b.setParameters(q);
            state.write(initialState);
            b.forward(state, window, true);
            return b.loss();
        }

        /** One training forward of the step, synchronized. */
        void forwardOnce() {
            b.forward(state, window, true);
            b.synchronize();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            state.close();
            buf.close();
            b.close();
        }
    }

    /** Runs a training forward before every backward invocation, untimed. */
    @State(Scope.Thread)
    public static class AfterForward {
        @Setup(Level.Invocation)
        public void forward(Cell c) {
            c.forwardOnce();
        }
    }

    /** A training forward of one timestep (the state advances; its values stay bounded). */
    @Benchmark
    public void forward(Cell c) {
        c.forwardOnce();
    }

    /** Backward of one timestep; its forward ran untimed in {@link AfterForward}. */
    @Benchmark
    public void backward(Cell c, AfterForward fresh) {
        c.b.backward();
        c.b.synchronize();
    }
}
