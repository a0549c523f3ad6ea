package org.charrnn.bench.jmh;

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
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;

/**
 * Global-norm clipping (max 5) and one Adam update over the flat parameter buffer of a two-layer
 * LSTM with E = H (H = 512: 4.3 M parameters), on the gradients of one backward (computed once at
 * set-up; B only shapes that backward, not the timed operation).
 *
 * <p>Checked before timing: after the first clip + update from zero Adam state, the parameter change
 * equals lr * g / (|g| + eps) (Adam at t = 1) for the backend's own clipped gradients g, within the
 * precision's tolerance.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ClipAdamBenchmark {
    static final double LR = 2e-3, CLIP = 5.0;

    @Param({"reference"}) public String backend;
    @Param({"fp32"}) public String precision;
    @Param({"128", "256", "512"}) public int hidden;
    @Param({"50"}) public int batch;

    private Backend b;
    private long t;

    @Setup(Level.Trial)
    public void setUp() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, JmhSupport.VOCAB, hidden, hidden, 2, 0.0);
        int T = 5;
        int[] tokens = JmhSupport.tokens(batch * (T + 1), JmhSupport.SEED);
        b = JmhSupport.create(backend, precision, cfg);
        try (TokenBuffer buf = JmhSupport.prepare(b, tokens); RnnState s = JmhSupport.state(b, batch)) {
            b.forward(s, JmhSupport.window(buf, batch, T), true);
            b.backward();
        }
        b.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
        OptimizerConfig o = OptimizerConfig.defaults(OptimizerKind.ADAM);
        double[] before = b.getParameters();
        b.clip(ClipMode.NORM, CLIP);
        double[] g = b.getGradients();
        b.step(LR, ++t);
        double[] after = b.getParameters();
        double[] delta = new double[g.length], expected = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            delta[i] = after[i] - before[i];
            expected[i] = -LR * g[i] / (Math.abs(g[i]) + o.eps());
        }
        JmhSupport.check(backend + " clip + Adam update", JmhSupport.relErr(delta, expected), JmhSupport.tolerance(b.precision()));
    }

    /** Clip the gradients by their global norm and apply one Adam update. */
    @Benchmark
    public void clipAdam() {
        b.clip(ClipMode.NORM, CLIP);
        b.step(LR, ++t);
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        b.close();
    }
}
