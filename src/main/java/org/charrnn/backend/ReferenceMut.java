package org.charrnn.backend;

import org.charrnn.model.CellType;

/**
 * MUT1, MUT2, MUT3 (Jozefowicz, Zaremba, Sutskever 2015) in double precision: the statement of
 * their math that the device kernels (kernels/cuda/mut.cu, kernels/opencl/mut.cl) are tested
 * against, itself proved by finite differences. With x the layer input (width H for MUT1, MUT2):
 * <pre>
 * MUT1: z = sig(W_xz x + b_z)                 r = sig(W_xr x + W_hr h + b_r)
 * MUT2: z = sig(W_xz x + W_hz h + b_z)        r = sig(x + W_hr h + b_r)
 * MUT3: z = sig(W_xz x + W_hz tanh(h) + b_z)  r = sig(W_xr x + W_hr h + b_r)
 * n = tanh(W_hh (r h) + c + b_h),  c = tanh(x) (MUT1) or W_xh x (MUT2, MUT3);  h' = n z + h (1 - z)
 * </pre>
 * W_ih rows (and gx blocks): MUT1 z, r; MUT2 z, n; MUT3 z, r, n. W_hh rows: MUT1 r, n; MUT2 and
 * MUT3 z, r, n. Every linear map has its bias (b_ih with W_ih, b_hh with W_hh). Saved per step
 * and row ([N,5H]): z, r, n, r h_prev, tanh(h_prev).
 */
final class ReferenceMut extends ReferenceCell {
    static final int SAVED = 5;
    private static final int Z = 0, R = 1, N_ = 2, RH = 3, TH = 4;
    private final int v;
    private final int gi, gh; // blocks of W_ih and W_hh
    private final int xz, xr, xn; // W_ih block of z, r, n (-1: none)
    private final int hz, hr, hn; // W_hh block of z, r, n (-1: none)

    ReferenceMut(CellType cell, int H) {
        super(H);
        this.v = switch (cell) {
            case MUT1 -> 1;
            case MUT2 -> 2;
            case MUT3 -> 3;
            case LSTM, GRU, RNN -> throw new IllegalArgumentException(cell + " is not a MUT cell");
        };
        this.gi = cell.inputGates();
        this.gh = cell.recurrentGates();
        this.xz = 0;
        this.xr = v == 2 ? -1 : 1;
        this.xn = v == 1 ? -1 : v == 2 ? 1 : 2;
        this.hz = v == 1 ? -1 : 0;
        this.hr = v == 1 ? 0 : 1;
        this.hn = v == 1 ? 1 : 2;
    }

    @Override
    int savedWidth() {
        return SAVED * H;
    }

    @Override
    boolean separateRecurrentGrad() {
        return true;
    }

    @Override
    void forward(Layer L, int t) {
        int B = L.B(), hPrev = t * B * H;
        forward(
                L.p(),
                L.whh(),
                L.bhh(),
                L.gxs(),
                t * B * gi * H,
                L.X(),
                t * B * L.in(),
                L.hs(),
                hPrev,
                hPrev + B * H,
                L.saved(),
                t * B * SAVED * H,
                B);
    }

    @Override
    void backward(Layer L, Grads d, int t) {
        int B = L.B();
        backward(
                L.p(),
                L.whh(),
                d.dOut(),
                t * B * H,
                d.dhNext(),
                L.saved(),
                t * B * SAVED * H,
                L.hs(),
                t * B * H,
                L.X(),
                t * B * L.in(),
                d.dgx(),
                t * B * gi * H,
                d.dgh(),
                t * B * gh * H,
                d.dx(),
                t * B * H,
                B);
    }

    @Override
    void recurrentWeightGradients(Layer L, double[] dgh, double[] grads, int dWhh, int N) {
        recurrentWeightGradients(grads, dWhh, dgh, L.hs(), L.saved(), N);
    }

    /** Row j of W_hh block k times u [H] (at uOff), plus that row's b_hh. */
    private double recurrent(double[] p, int whh, int bhh, int k, int j, double[] u, int uOff) {
        int row = whh + (k * H + j) * H;
        double s = p[bhh + k * H + j];
        for (int i = 0; i < H; i++) s += p[row + i] * u[uOff + i];
        return s;
    }

    /**
     * Step of B rows: gx [B,Gi*H] (= x W_ih^T + b_ih) at gxOff, x [B,H] at xOff, h_prev [B,H] at
     * hs[prevOff], h [B,H] (=) at hs[outOff], saved [B,5H] (=) at savedOff. p holds W_hh at whh, b_hh at bhh.
     */
    void forward(
            double[] p,
            int whh,
            int bhh,
            double[] gx,
            int gxOff,
            double[] x,
            int xOff,
            double[] hs,
            int prevOff,
            int outOff,
            double[] saved,
            int savedOff,
            int B) {
        for (int b = 0; b < B; b++) {
            int g = gxOff + b * gi * H, hp = prevOff + b * H, s = savedOff + b * SAVED * H, xb = xOff + b * H;
            for (int j = 0; j < H; j++) saved[s + TH * H + j] = Math.tanh(hs[hp + j]);
            for (int j = 0; j < H; j++) {
                double az = gx[g + xz * H + j];
                if (v == 2) az += recurrent(p, whh, bhh, hz, j, hs, hp);
                if (v == 3) az += recurrent(p, whh, bhh, hz, j, saved, s + TH * H);
                double ar = (v == 2 ? x[xb + j] : gx[g + xr * H + j]) + recurrent(p, whh, bhh, hr, j, hs, hp);
                double z = sigmoid(az), r = sigmoid(ar);
                saved[s + Z * H + j] = z;
                saved[s + R * H + j] = r;
                saved[s + RH * H + j] = r * hs[hp + j];
            }
            for (int j = 0; j < H; j++) {
                double an = recurrent(p, whh, bhh, hn, j, saved, s + RH * H)
                        + (v == 1 ? Math.tanh(x[xb + j]) : gx[g + xn * H + j]);
                double n = Math.tanh(an), z = saved[s + Z * H + j];
                saved[s + N_ * H + j] = n;
                hs[outOff + b * H + j] = n * z + hs[hp + j] * (1 - z);
            }
        }
    }

    /**
     * Backward step of B rows: dOut [B,H] (dL/dh_t from above) at dOff, dhNext [B,H] (in: dL/dh_t
     * from step t+1; out: dL/dh_{t-1}); writes dgx [B,Gi*H] and dgh [B,Gh*H] (=, the gradients of
     * the pre-activation terms each block feeds) and dx [B,H] (=, the input's direct gradient; MUT1, MUT2).
     */
    void backward(
            double[] p,
            int whh,
            double[] dOut,
            int dOff,
            double[] dhNext,
            double[] saved,
            int savedOff,
            double[] hs,
            int prevOff,
            double[] x,
            int xOff,
            double[] dgx,
            int dgxOff,
            double[] dgh,
            int dghOff,
            double[] dx,
            int dxOff,
            int B) {
        double[] daz = new double[H], dar = new double[H], dan = new double[H], prev = new double[H];
        for (int b = 0; b < B; b++) {
            int s = savedOff + b * SAVED * H,
                    hp = prevOff + b * H,
                    gxr = dgxOff + b * gi * H,
                    ghr = dghOff + b * gh * H;
            for (int j = 0; j < H; j++) {
                double dh = dOut[dOff + b * H + j] + dhNext[b * H + j];
                double z = saved[s + Z * H + j], n = saved[s + N_ * H + j];
                daz[j] = dh * (n - hs[hp + j]) * z * (1 - z);
                dan[j] = dh * z * (1 - n * n);
                prev[j] = dh * (1 - z);
            }
            for (int i = 0; i < H; i++) { // through r h: drh = dan W_hn
                double drh = 0;
                for (int j = 0; j < H; j++) drh += dan[j] * p[whh + (hn * H + j) * H + i];
                double r = saved[s + R * H + i];
                dar[i] = drh * hs[hp + i] * r * (1 - r);
                prev[i] += drh * r;
            }
            for (int i = 0; i < H; i++) { // through W_hr h, and W_hz h (MUT2) or W_hz tanh(h) (MUT3)
                double viaR = 0, viaZ = 0;
                for (int j = 0; j < H; j++) {
                    viaR += dar[j] * p[whh + (hr * H + j) * H + i];
                    if (hz >= 0) viaZ += daz[j] * p[whh + (hz * H + j) * H + i];
                }
                double th = saved[s + TH * H + i];
                prev[i] += viaR + (v == 3 ? viaZ * (1 - th * th) : viaZ);
            }
            for (int j = 0; j < H; j++) {
                dgx[gxr + xz * H + j] = daz[j];
                if (hz >= 0) dgh[ghr + hz * H + j] = daz[j];
                dgh[ghr + hr * H + j] = dar[j];
                dgh[ghr + hn * H + j] = dan[j];
                if (xr >= 0) dgx[gxr + xr * H + j] = dar[j];
                if (xn >= 0) dgx[gxr + xn * H + j] = dan[j];
                if (v == 1) {
                    double tx = Math.tanh(x[xOff + b * H + j]);
                    dx[dxOff + b * H + j] = dan[j] * (1 - tx * tx);
                } else if (v == 2) {
                    dx[dxOff + b * H + j] = dar[j];
                }
                dhNext[b * H + j] = prev[j];
            }
        }
    }

    /**
     * dW_hh [Gh*H, H] (=) at grads[dWhh] over N rows: each block's dgh column block against its
     * operand: h_prev for the r block (and MUT2's z), tanh(h_prev) for MUT3's z, r h_prev for n.
     */
    void recurrentWeightGradients(double[] grads, int dWhh, double[] dgh, double[] hPrev, double[] saved, int N) {
        java.util.Arrays.fill(grads, dWhh, dWhh + gh * H * H, 0.0);
        for (int n = 0; n < N; n++) {
            int g = n * gh * H, h = n * H, s = n * SAVED * H;
            for (int k = 0; k < gh; k++) {
                double[] op = k == hn || (k == hz && v == 3) ? saved : hPrev;
                int opOff = k == hn ? s + RH * H : k == hz && v == 3 ? s + TH * H : h;
                for (int j = 0; j < H; j++) {
                    double d = dgh[g + k * H + j];
                    if (d == 0) continue;
                    int row = dWhh + (k * H + j) * H;
                    for (int i = 0; i < H; i++) grads[row + i] += d * op[opOff + i];
                }
            }
        }
    }
}
