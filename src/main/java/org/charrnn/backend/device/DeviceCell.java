package org.charrnn.backend.device;

import org.charrnn.model.CellType;

/**
 * One recurrent cell on a device, written once over {@link DeviceOps}: the recurrent GEMM(s) and
 * fused pointwise kernel of one timestep, forward and backward, and the layer's weight gradients.
 * {@link #of} is the one place the device backends branch on the cell type: an exhaustive switch
 * expression, so a {@link CellType} without a device cell does not compile.
 */
abstract sealed class DeviceCell {

    static DeviceCell of(CellType cell) {
        return switch (cell) {
            case LSTM -> new Lstm();
            case GRU -> new Gru();
            case RNN -> new Rnn();
        };
    }

    /** Floats per batch row and step that forward saves for backward ([T,B,width]); 0 when h (and c) suffice. */
    abstract int savedWidth(int H);

    /** True when dL/d(recurrent projection) differs from dL/d(input projection) and needs its own [N,G] buffer. */
    boolean separateRecurrentGrad() { return false; }

    /**
     * One forward step of B rows: s.gh (=) the recurrent projection of s.hPrev, then the cell
     * writes s.h (and s.c, s.gates). gx holds the input projection without bias.
     */
    abstract void forward(DeviceOps ops, LayerWeights p, ForwardStep s);

    /**
     * One backward step: reads s.dhOut (dL/dh_t from above) and s.dhNext (dL/dh_t from step t+1),
     * writes s.dgx / s.dgh (=) and leaves dL/dh_{t-1} in s.dhNext (and dL/dc_{t-1} in s.dc).
     */
    abstract void backward(DeviceOps ops, LayerWeights p, BackwardStep s);

    /**
     * The layer's weight gradients (=) over all N = T*B rows once the time loop is done: dW_ih =
     * dgx^T X, dW_hh = dgh^T H_prev, db_ih, db_hh = column sums. x [N,in] is the layer input,
     * hPrev [N,H] the hidden states h_0 .. h_{T-1}.
     */
    void weightGradients(DeviceOps ops, LayerWeights p, Ref dgx, Ref dgh, Ref x, Ref hPrev, int N, int G, int H) {
        ops.gemm(true, false, G, p.in(), N, 1f, dgx, G, x, p.in(), 0f, p.dWih(), p.in());
        ops.gemm(true, false, G, H, N, 1f, dgh, G, hPrev, H, 0f, p.dWhh(), H);
        ops.columnSum(dgx, p.dbih(), N, G, 0f);
        ops.columnSum(dgh, p.dbhh(), N, G, 0f);
    }

    /** gh [B,G] (=) hPrev [B,H] W_hh^T. */
    static void recurrentProjection(DeviceOps ops, LayerWeights p, ForwardStep s) {
        ops.gemmWeight(true, s.B(), s.G(), s.H(), 1f, s.hPrev(), s.H(), p.whh(), s.H(), 0f, s.gh(), s.G());
    }

    /** dhNext [B,H] (+=) dgh [B,G] W_hh. */
    static void recurrentGradient(DeviceOps ops, LayerWeights p, BackwardStep s) {
        ops.gemmWeight(false, s.B(), s.H(), s.G(), 1f, s.dgh(), s.G(), p.whh(), s.H(), 1f, s.dhNext(), s.H());
    }

    /** LSTM (PyTorch nn.LSTM): saves i, f, g, o activated. */
    static final class Lstm extends DeviceCell {
        @Override int savedWidth(int H) { return 4 * H; }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            recurrentProjection(ops, p, s);
            ops.lstmForward(s.gx(), s.gh(), p.bih(), p.bhh(), s.cPrev(), s.gates(), s.c(), s.h(), s.B(), s.H());
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            ops.lstmBackward(s.dhOut(), s.dhNext(), s.dc(), s.gates(), s.cPrev(), s.c(), s.dgx(), s.B(), s.H());
            recurrentGradient(ops, p, s);
        }
    }

    /** GRU (PyTorch nn.GRU): saves r, z, n and gh_n + b_hn, which r multiplies. */
    static final class Gru extends DeviceCell {
        @Override int savedWidth(int H) { return 4 * H; }

        @Override boolean separateRecurrentGrad() { return true; }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            recurrentProjection(ops, p, s);
            ops.gruForward(s.gx(), s.gh(), p.bih(), p.bhh(), s.hPrev(), s.gates(), s.h(), s.B(), s.H());
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            ops.gruBackward(s.dhOut(), s.dhNext(), s.gates(), s.hPrev(), s.dgx(), s.dgh(), s.B(), s.H());
            recurrentGradient(ops, p, s);
        }
    }

    /** Vanilla tanh RNN: saves nothing but h. */
    static final class Rnn extends DeviceCell {
        @Override int savedWidth(int H) { return 0; }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            recurrentProjection(ops, p, s);
            ops.rnnForward(s.gx(), s.gh(), p.bih(), p.bhh(), s.h(), s.B(), s.H());
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            ops.rnnBackward(s.dhOut(), s.dhNext(), s.h(), s.dgx(), s.B(), s.H());
            recurrentGradient(ops, p, s);
        }
    }

    /**
     * The parameters of layer {@code layer}: weights as parameter offsets (for
     * {@link DeviceOps#gemmWeight}), biases and gradients as Refs.
     */
    record LayerWeights(int layer, int in, long wih, long whh, Ref bih, Ref bhh,
                        Ref dWih, Ref dWhh, Ref dbih, Ref dbhh) {}

    /**
     * One forward step of B rows: gx [B,G] (this step's input projection), gh [B,G] scratch,
     * hPrev, h, cPrev, c [B,H] (c, cPrev null without a cell state; c may alias cPrev, h may not
     * alias hPrev), gates [B,savedWidth] (null when 0).
     */
    record ForwardStep(int B, int H, int G, Ref gx, Ref gh, Ref hPrev, Ref h, Ref cPrev, Ref c, Ref gates) {}

    /**
     * One backward step: dhOut [B,H] from above, dhNext and dc [B,H] carried between steps, the
     * saved gates and states of the step, dgx / dgh [B,G] outputs (the same Ref unless
     * {@link #separateRecurrentGrad()}).
     */
    record BackwardStep(int B, int H, int G, Ref dhOut, Ref dhNext, Ref dc, Ref gates, Ref hPrev, Ref h,
                        Ref cPrev, Ref c, Ref dgx, Ref dgh) {}
}
