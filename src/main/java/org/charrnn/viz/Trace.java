package org.charrnn.viz;

import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;

/**
 * Per-character activations of one stream, for visualising cells, recorded through the
 * {@link Backend} API on any backend: each symbol is one {@link Backend#stepLogits} step, and the
 * state after it is read back.
 *
 * @param length number of symbols T
 * @param cells  per layer [T,H]: tanh(c_t) for LSTM, h_t for the other cells, after reading symbol t
 * @param probs  [T,V] the model's next-symbol distribution after reading symbol t
 */
public record Trace(int length, double[][] cells, double[] probs) {

    /** Feeds {@code tokens} from {@code state} (batch 1, advanced in place) without dropout. */
    public static Trace of(Backend backend, RnnState state, int[] tokens) {
        if (state.batch() != 1) throw new IllegalArgumentException("a trace needs a state of batch 1");
        ModelConfig cfg = backend.config();
        int T = tokens.length,
                H = cfg.hidden(),
                L = cfg.layers(),
                V = cfg.vocabSize(),
                S = cfg.cell().stateVectors();
        boolean lstm = cfg.cell() == CellType.LSTM;
        double[][] cells = new double[L][T * H];
        double[] probs = new double[T * V];
        int[] one = new int[1];
        for (int t = 0; t < T; t++) {
            one[0] = tokens[t];
            double[] logits = backend.stepLogits(state, one);
            double[] s = state.read(); // [L][S][1][H]: h, then c for LSTM
            for (int l = 0; l < L; l++) {
                int base = (l * S + (lstm ? 1 : 0)) * H;
                for (int j = 0; j < H; j++) cells[l][t * H + j] = lstm ? Math.tanh(s[base + j]) : s[base + j];
            }
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double v : logits) max = Math.max(max, v);
            for (int v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
            for (int v = 0; v < V; v++) probs[t * V + v] = Math.exp(logits[v] - max) / sum;
        }
        return new Trace(T, cells, probs);
    }
}
