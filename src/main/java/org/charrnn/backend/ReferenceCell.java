package org.charrnn.backend;

import org.charrnn.model.CellType;

/**
 * One recurrent cell in double precision: the statement of its math that the device kernels are
 * tested against (proved by the finite-difference gradient check). {@link #of} is the reference
 * backend's one switch on the cell type; each cell owns its timestep, forward and backward,
 * recurrent projection included. LSTM, GRU and RNN follow PyTorch (gate orders i,f,g,o and r,z,n);
 * the MUT cells are {@link ReferenceMut}.
 */
abstract class ReferenceCell {
    final int H;

    ReferenceCell(int H) {
        this.H = H;
    }

    static ReferenceCell of(CellType cell, int H) {
        return switch (cell) {
            case LSTM -> new Lstm(H);
            case GRU -> new Gru(H);
            case RNN -> new Rnn(H);
            case MUT1, MUT2, MUT3 -> new ReferenceMut(cell, H);
        };
    }

    /** Runs a task over rows [0, rows) in contiguous chunks, possibly in parallel. */
    @FunctionalInterface
    interface Rows {
        void run(int rows, RowTask task);
    }

    @FunctionalInterface
    interface RowTask {
        void run(int from, int to);
    }

    /**
     * One layer over a window of B streams: parameters p (pT: every weight matrix transposed),
     * W_hh / b_hh offsets, the input X [N,in], gx [N,Gi] = X W_ih^T + b_ih, gh [B,Gh] scratch,
     * hs [T+1,B,H] (slot 0 initial), cs [T+1,B,H] (LSTM), saved [N,savedWidth]; rows splits row
     * loops across threads, math runs the GEMMs and activations.
     */
    record Layer(
            int B,
            int in,
            int gi,
            int gh,
            double[] p,
            double[] pT,
            int whh,
            int bhh,
            double[] X,
            double[] gxs,
            double[] ghs,
            double[] hs,
            double[] cs,
            double[] saved,
            Rows rows,
            ReferenceMath math) {}

    /**
     * Backward arrays of a layer: dOut [N,H] (dL/dh_t from above), dhNext and dc [B,H] carried
     * between steps, dgx [N,Gi], dgh [N,Gh] (dgx itself unless {@link #separateRecurrentGrad()}),
     * dx [N,H] the input's direct gradient (cells that feed the input directly), scratch [B,H].
     */
    record Grads(
            double[] dOut, double[] dhNext, double[] dc, double[] dgx, double[] dgh, double[] dx, double[] scratch) {}

    /** Floats saved per row and step for backward. */
    abstract int savedWidth();

    /** Whether dL/d(gh) needs its own buffer (it differs from dL/d(gx)). */
    boolean separateRecurrentGrad() {
        return false;
    }

    /** Step t: h_{t+1} slot of hs (and cs, saved) from slot t. */
    abstract void forward(Layer L, int t);

    /** Step t backward: dgx, dgh rows of step t (=); dhNext (and dc) become those of step t-1. */
    abstract void backward(Layer L, Grads d, int t);

    /** dW_hh [Gh*H, H] (=) at grads[dWhh] = dgh^T H_prev over all N rows. */
    void recurrentWeightGradients(Layer L, double[] dgh, double[] grads, int dWhh, int N) {
        L.rows().run(L.gh(), (r0, r1) -> L.math().aTb(dgh, 0, L.hs(), 0, grads, dWhh, r0, r1, L.gh(), H, N));
    }

    /** gh [B,Gh] = h_t W_hh^T + b_hh. */
    static void recurrentProjection(Layer L, int t, int H) {
        int B = L.B(), G = L.gh(), hPrev = t * B * H;
        double[] gh = L.ghs();
        L.rows().run(B, (r0, r1) -> L.math().ab(L.hs(), hPrev, L.pT(), L.whh(), gh, 0, r0, r1, G, H, false));
        for (int b = 0; b < B; b++) for (int g = 0; g < G; g++) gh[b * G + g] += L.p()[L.bhh() + g];
    }

    /** dhNext [B,H] += dgh_t [B,Gh] W_hh [Gh,H]. */
    static void recurrentGradient(Layer L, Grads d, int t, int H) {
        int B = L.B(), G = L.gh(), rowOff = t * B * G;
        L.rows().run(B, (r0, r1) -> L.math().ab(d.dgh(), rowOff, L.p(), L.whh(), d.dhNext(), 0, r0, r1, H, G, true));
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /** LSTM: gates [B,4H] = (i,f,g,o) activated; c_t = f c_prev + i g; h_t = o tanh(c_t). */
    static final class Lstm extends ReferenceCell {
        Lstm(int H) {
            super(H);
        }

        @Override
        int savedWidth() {
            return 4 * H;
        }

        @Override
        void forward(Layer L, int t) {
            recurrentProjection(L, t, H);
            int B = L.B(), G = 4 * H, step = (t + 1) * B * H;
            double[] gx = L.gxs(), gh = L.ghs(), gates = L.saved(), hs = L.hs(), cs = L.cs();
            ReferenceMath m = L.math();
            for (int b = 0; b < B; b++) {
                int row = (t * B + b) * G, ghRow = b * G;
                int prev = (t * B + b) * H, cur = ((t + 1) * B + b) * H;
                for (int j = 0; j < G; j++) gates[row + j] = gx[row + j] + gh[ghRow + j];
                m.sigmoid(gates, row, 2 * H); // i, f
                m.tanh(gates, row + 2 * H, gates, row + 2 * H, H); // g
                m.sigmoid(gates, row + 3 * H, H); // o
                for (int j = 0; j < H; j++)
                    cs[cur + j] = gates[row + H + j] * cs[prev + j] + gates[row + j] * gates[row + 2 * H + j];
            }
            m.tanh(cs, step, hs, step, B * H);
            for (int b = 0; b < B; b++) {
                int o = (t * B + b) * G + 3 * H, cur = step + b * H;
                for (int j = 0; j < H; j++) hs[cur + j] = gates[o + j] * hs[cur + j];
            }
        }

        /** dh = dOut_t + dhNext; dc (in: from t+1, out: dL/dc_{t-1}); dhNext = 0, then += dgx_t W_hh. */
        @Override
        void backward(Layer L, Grads d, int t) {
            int B = L.B(), G = 4 * H;
            double[] cs = L.cs(), gates = L.saved(), dOut = d.dOut(), dhNext = d.dhNext(), dc = d.dc(), dgx = d.dgx();
            double[] tanhC = d.scratch();
            L.math().tanh(cs, (t + 1) * B * H, tanhC, 0, B * H);
            for (int b = 0; b < B; b++) {
                int n = t * B + b, prev = n * H, g0 = n * G;
                for (int j = 0; j < H; j++) {
                    double dh = dOut[n * H + j] + dhNext[b * H + j];
                    double i = gates[g0 + j], f = gates[g0 + H + j], g = gates[g0 + 2 * H + j];
                    double o = gates[g0 + 3 * H + j];
                    double tc = tanhC[b * H + j];
                    double dcj = dc[b * H + j] + dh * o * (1 - tc * tc);
                    dgx[g0 + j] = dcj * g * i * (1 - i);
                    dgx[g0 + H + j] = dcj * cs[prev + j] * f * (1 - f);
                    dgx[g0 + 2 * H + j] = dcj * i * (1 - g * g);
                    dgx[g0 + 3 * H + j] = dh * tc * o * (1 - o);
                    dc[b * H + j] = dcj * f;
                    dhNext[b * H + j] = 0;
                }
            }
            recurrentGradient(L, d, t, H);
        }
    }

    /** GRU: r, z, n = tanh(xn + r hn); h_t = (1-z) n + z h_prev; saves (r, z, n, hn) in [B,4H]. */
    static final class Gru extends ReferenceCell {
        Gru(int H) {
            super(H);
        }

        @Override
        int savedWidth() {
            return 4 * H;
        }

        @Override
        boolean separateRecurrentGrad() {
            return true;
        }

        @Override
        void forward(Layer L, int t) {
            recurrentProjection(L, t, H);
            int B = L.B(), G = 3 * H;
            double[] gx = L.gxs(), gh = L.ghs(), gates = L.saved(), hs = L.hs();
            ReferenceMath m = L.math();
            for (int b = 0; b < B; b++) {
                int row = (t * B + b) * G, ghRow = b * G, sRow = (t * B + b) * 4 * H;
                int prev = (t * B + b) * H, cur = ((t + 1) * B + b) * H;
                for (int j = 0; j < 2 * H; j++) gates[sRow + j] = gx[row + j] + gh[ghRow + j];
                m.sigmoid(gates, sRow, 2 * H); // r, z
                for (int j = 0; j < H; j++) {
                    double hn = gh[ghRow + 2 * H + j];
                    gates[sRow + 3 * H + j] = hn;
                    gates[sRow + 2 * H + j] = gx[row + 2 * H + j] + gates[sRow + j] * hn;
                }
                m.tanh(gates, sRow + 2 * H, gates, sRow + 2 * H, H); // n
                for (int j = 0; j < H; j++) {
                    double z = gates[sRow + H + j], n = gates[sRow + 2 * H + j];
                    hs[cur + j] = (1 - z) * n + z * hs[prev + j];
                }
            }
        }

        /** dgx_t, dgh_t [B,3H] (=, they differ in the n block: dgh_n = dgx_n r); dhNext = dh z, then += dgh_t W_hh. */
        @Override
        void backward(Layer L, Grads d, int t) {
            int B = L.B(), G = 3 * H;
            double[] hs = L.hs(), gates = L.saved(), dOut = d.dOut(), dhNext = d.dhNext(), dgx = d.dgx(), dgh = d.dgh();
            for (int b = 0; b < B; b++) {
                int n = t * B + b, prev = n * H, s0 = n * 4 * H, g0 = n * G;
                for (int j = 0; j < H; j++) {
                    double dh = dOut[n * H + j] + dhNext[b * H + j];
                    double r = gates[s0 + j], z = gates[s0 + H + j], nn = gates[s0 + 2 * H + j];
                    double hn = gates[s0 + 3 * H + j];
                    double dn = dh * (1 - z) * (1 - nn * nn);
                    double dz = dh * (hs[prev + j] - nn) * z * (1 - z);
                    double dr = dn * hn * r * (1 - r);
                    dgx[g0 + j] = dr;
                    dgx[g0 + H + j] = dz;
                    dgx[g0 + 2 * H + j] = dn;
                    dgh[g0 + j] = dr;
                    dgh[g0 + H + j] = dz;
                    dgh[g0 + 2 * H + j] = dn * r;
                    dhNext[b * H + j] = dh * z;
                }
            }
            recurrentGradient(L, d, t, H);
        }
    }

    /** Vanilla tanh RNN: h_t = tanh(gx + gh); saves nothing but h. */
    static final class Rnn extends ReferenceCell {
        Rnn(int H) {
            super(H);
        }

        @Override
        int savedWidth() {
            return 0;
        }

        @Override
        void forward(Layer L, int t) {
            recurrentProjection(L, t, H);
            int B = L.B();
            double[] gx = L.gxs(), gh = L.ghs(), hs = L.hs();
            for (int b = 0; b < B; b++) {
                int row = (t * B + b) * H, cur = ((t + 1) * B + b) * H;
                for (int j = 0; j < H; j++) hs[cur + j] = gx[row + j] + gh[b * H + j];
            }
            L.math().tanh(hs, (t + 1) * B * H, hs, (t + 1) * B * H, B * H);
        }

        /** dgx_t [B,H] = (dOut_t + dhNext)(1 - h_t^2) (=); dhNext = 0, then += dgx_t W_hh. */
        @Override
        void backward(Layer L, Grads d, int t) {
            int B = L.B();
            double[] hs = L.hs(), dOut = d.dOut(), dhNext = d.dhNext(), dgx = d.dgx();
            for (int b = 0; b < B; b++) {
                int n = t * B + b, cur = (n + B) * H;
                for (int j = 0; j < H; j++) {
                    double h = hs[cur + j];
                    dgx[n * H + j] = (dOut[n * H + j] + dhNext[b * H + j]) * (1 - h * h);
                    dhNext[b * H + j] = 0;
                }
            }
            recurrentGradient(L, d, t, H);
        }
    }
}
