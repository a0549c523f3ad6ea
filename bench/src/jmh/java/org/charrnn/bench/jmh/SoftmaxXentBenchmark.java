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
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;

/**
 * Softmax cross-entropy over [N, V] = [T*B, 65] logits. The {@link Backend} interface runs whole
 * windows, so this times an inference forward of a model whose recurrent part is negligible (one
 * tanh RNN layer with E = H = 1, one step of N streams): what remains is the embedding gather, the
 * rank-1 decoder producing the [N, 65] logits and the softmax cross-entropy with its loss reduction
 * over the N rows. N = T*B: 2500 is the torch-rnn grid's B50 T50, 12800 the large grid's B128 T100.
 * {@code hidden} does not change this operation (the decoder input width is 1 here).
 *
 * <p>Checked before timing: the backend's mean loss equals the cross-entropy computed on the host
 * from its own logits ({@link Backend#stepLogits}), within the precision's tolerance.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SoftmaxXentBenchmark {

    @Param({"reference"}) public String backend;
    @Param({"fp32"}) public String precision;
    @Param({"2500", "12800"}) public int rows;

    private Backend b;
    private TokenBuffer buf;
    private RnnState state;
    private Window window;

    @Setup(Level.Trial)
    public void setUp() {
        ModelConfig cfg = new ModelConfig(CellType.RNN, JmhSupport.VOCAB, 1, 1, 1, 0.0);
        int[] tokens = JmhSupport.tokens(rows * 2, JmhSupport.SEED);
        b = JmhSupport.create(backend, precision, cfg);
        buf = JmhSupport.prepare(b, tokens);
        state = b.newState(rows);
        window = JmhSupport.window(buf, rows, 1);
        b.forward(state, window, false);
        double loss = b.loss();

        // host cross-entropy of the backend's own logits for the same inputs, from the same zero state
        int[] x = new int[rows], y = new int[rows];
        for (int r = 0; r < rows; r++) {
            x[r] = tokens[2 * r];
            y[r] = tokens[2 * r + 1];
        }
        try (RnnState s = b.newState(rows)) {
            double[] logits = b.stepLogits(s, x);
            int V = JmhSupport.VOCAB;
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]);
                double z = 0;
                for (int v = 0; v < V; v++) z += Math.exp(logits[r * V + v] - max);
                sum += Math.log(z) + max - logits[r * V + y[r]];
            }
            double host = sum / rows;
            JmhSupport.check(backend + " softmax cross-entropy vs host", Math.abs(loss - host) / host,
                    JmhSupport.tolerance(b.precision()));
        }
        state.reset();
    }

    /** Inference forward of one step of {@code rows} streams: logits [rows, 65] and their mean cross-entropy. */
    @Benchmark
    public void softmaxXent() {
        b.forward(state, window, false);
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        state.close();
        buf.close();
        b.close();
    }
}
