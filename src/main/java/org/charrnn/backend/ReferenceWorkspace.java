package org.charrnn.backend;

import org.charrnn.data.TokenSequence;
import org.charrnn.model.ModelConfig;

/**
 * Activations of one forward over [T,B]; sized on demand and reused (no per-step allocation).
 * N = T*B rows; the saved activations per step are the cell's (see {@link ReferenceCell#savedWidth()}).
 */
final class ReferenceWorkspace {
    private final ModelConfig cfg;
    private final ReferenceCell cell;
    int T, B, N;
    boolean training;
    int iteration;
    int ignoreTarget = -1; // targets equal to it are not counted (-1: all count)
    int counted; // number of counted targets of the last forward
    double[] firstInput; // [B,E] layer-0 inputs of step 0 in place of embeddings, or null (see Window)
    int[] x = new int[0], y = new int[0]; // [N] inputs and targets
    private int[] row = new int[0]; // [T+1] one stream's tokens, read by gather
    double[][] in; // per layer: input X [N, in_l] (layer 0: embeddings; l>0: dropped output of l-1)
    double[][] gx; // per layer: [N, Gi*H] = X W_ih^T + b_ih
    double[][] hs; // per layer: [(T+1), B, H], slot 0 = initial h
    double[][] cs; // per layer (LSTM): [(T+1), B, H], slot 0 = initial c
    double[][] gates; // per layer: [N, 4H] activated gates (LSTM, GRU); [N, 5H] MUT (see ReferenceMut)
    double[][] out; // per layer: [N, H] output after dropout (aliases hs[l] + B*H when no dropout)
    int[] outOff; // per layer: offset of the output within out[l]
    double[] gh; // [B, Gh*H] scratch for the recurrent GEMM
    double[] logits; // [N, V] logits (decoder output + bias)
    double[] probs; // [N, V] softmax(logits); backward turns it into dL/dlogits
    double[] rowLoss; // [N]
    // backward scratch (training workspace only), sized with the window
    double[] dOut; // [N, H] dL/d(output of the current layer)
    double[] dX; // [N, max(E, H)] dL/d(input of the current layer)
    double[] dgx, dgh; // [N, Gi], [N, Gh] dL/d(gx), dL/d(gh) (dgh for GRU and MUT; LSTM and RNN share dgx)
    double[] dxDirect; // [N, H] dL/dX not through W_ih (MUT1 tanh(x), MUT2 x)
    double[] dhNext; // [B, H] dL/dh_{t-1} through the recurrence
    double[] dc; // [B, H] LSTM dL/dc carried backwards
    double[] scratch; // [B, H] a cell's per-step temporary (LSTM: tanh(c_t))

    ReferenceWorkspace(ModelConfig cfg, ReferenceCell cell) {
        this.cfg = cfg;
        this.cell = cell;
    }

    void ensureBackward() {
        int H = cfg.hidden();
        dOut = grow(dOut, N * H);
        dX = grow(dX, N * Math.max(cfg.embedding(), H));
        dgx = grow(dgx, N * cfg.inputGateWidth());
        if (cell.separateRecurrentGrad()) dgh = grow(dgh, N * cfg.recurrentGateWidth());
        if (cfg.cell().feedsInputDirectly()) dxDirect = grow(dxDirect, N * H);
        dhNext = grow(dhNext, B * H);
        dc = grow(dc, B * H);
        scratch = grow(scratch, B * H);
    }

    void ensure(int T, int B, boolean training) {
        long n = (long) T * B, widest = Math.max(Math.max(cfg.embedding(), cfg.hidden()), cfg.vocabSize());
        widest =
                Math.max(widest, Math.max(cfg.inputGateWidth(), Math.max(cfg.recurrentGateWidth(), cell.savedWidth())));
        if (n * widest > Integer.MAX_VALUE - 8)
            throw org.charrnn.util.UserError.naming(String.format(
                    java.util.Locale.ROOT,
                    "window too large for the reference backend: T*B = %,d rows of up to %,d values exceed 2^31;"
                            + " lower {Batching.batch}, {Batching.seqLen} or the model's widths",
                    n,
                    widest));
        this.T = T;
        this.B = B;
        this.N = T * B;
        this.training = training;
        int L = cfg.layers(), H = cfg.hidden(), V = cfg.vocabSize();
        if (in == null) {
            in = new double[L][];
            gx = new double[L][];
            hs = new double[L][];
            cs = new double[L][];
            gates = new double[L][];
            out = new double[L][];
            outOff = new int[L];
        }
        x = grow(x, N);
        y = grow(y, N);
        for (int l = 0; l < L; l++) {
            in[l] = grow(in[l], N * cfg.inputSize(l));
            gx[l] = grow(gx[l], N * cfg.inputGateWidth());
            hs[l] = grow(hs[l], (T + 1) * B * H);
            if (cfg.cell().stateVectors() == 2) cs[l] = grow(cs[l], (T + 1) * B * H);
            if (cell.savedWidth() > 0) gates[l] = grow(gates[l], N * cell.savedWidth());
        }
        gh = grow(gh, B * cfg.recurrentGateWidth());
        logits = grow(logits, N * V);
        probs = grow(probs, N * V);
        rowLoss = grow(rowLoss, N);
    }

    private static double[] grow(double[] a, int n) {
        return a != null && a.length >= n ? a : new double[n];
    }

    /** x[t,b] (=) tokens[start_b + t], y[t,b] (=) tokens[start_b + t + 1]; one bulk read per row. */
    void gather(TokenSequence seq, long[] starts) {
        row = grow(row, T + 1); // tokens[start_b .. start_b + T]
        for (int b = 0; b < B; b++) {
            seq.copyTo(starts[b], row, 0, T + 1);
            for (int t = 0; t < T; t++) {
                x[t * B + b] = row[t];
                y[t * B + b] = row[t + 1];
            }
        }
    }

    private static int[] grow(int[] a, int n) {
        return a.length >= n ? a : new int[n];
    }
}
