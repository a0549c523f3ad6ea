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
            case MUT1 -> new Mut(1);
            case MUT2 -> new Mut(2);
            case MUT3 -> new Mut(3);
        };
    }

    /** Floats per batch row and step that forward saves for backward ([T,B,width]); 0 when h (and c) suffice. */
    abstract int savedWidth(int H);

    /** True when dL/d(recurrent projection) differs from dL/d(input projection) and needs its own [N,Gh] buffer. */
    boolean separateRecurrentGrad() {
        return false;
    }

    /** Floats per batch row of scratch that backward steps need ([B,width], reused every step). */
    int scratchWidth(int H) {
        return 0;
    }

    /**
     * True when the step kernels take the layer input x as an argument (whether or not the variant
     * reads it): a token-projected workspace then keeps the embedding rows for them.
     */
    boolean stepsTakeInput() {
        return false;
    }

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
     * The layer's weight gradients over g's N rows (=, or += where g.beta() is 1): dW_ih = dgx^T X,
     * then {@link #recurrentWeightGradients}.
     */
    final void weightGradients(DeviceOps ops, LayerWeights p, LayerGrads g) {
        inputWeightProduct(ops, p, g);
        recurrentWeightGradients(ops, p, g);
    }

    /** The layer's weight gradients but dW_hh: dW_ih and the biases (= or +=, as g.beta()). */
    final void inputWeightGradients(DeviceOps ops, LayerWeights p, LayerGrads g) {
        inputWeightProduct(ops, p, g);
        biasGradients(ops, p, g, g.dgx(), g.N());
    }

    /** dW_ih [Gi,in] (= or +=, as g.beta()) dgx^T X over g's N rows. */
    private void inputWeightProduct(DeviceOps ops, LayerWeights p, LayerGrads g) {
        ops.gemm(true, false, g.Gi(), p.in(), g.N(), 1f, g.dgx(), g.Gi(), g.x(), p.in(), g.beta(), p.dWih(), p.in());
    }

    /**
     * The layer's weight gradients but dW_ih (= or +=, as g.beta()): dW_hh = dgh^T H_prev, db_ih,
     * db_hh = column sums.
     */
    final void recurrentWeightGradients(DeviceOps ops, LayerWeights p, LayerGrads g) {
        recurrentWeightProduct(ops, p, g);
        biasGradients(ops, p, g, g.dgx(), g.N());
    }

    /** dW_hh [Gh,H] (= or +=, as g.beta()) dgh^T H_prev over g's N rows. */
    void recurrentWeightProduct(DeviceOps ops, LayerWeights p, LayerGrads g) {
        ops.gemm(true, false, g.Gh(), g.H(), g.N(), 1f, g.dgh(), g.Gh(), g.hPrev(), g.H(), g.beta(), p.dWhh(), g.H());
    }

    /** dX [N,in] (=) dL/d(layer input) = dgx W_ih. */
    void inputGradient(DeviceOps ops, LayerWeights p, LayerGrads g, Ref dX) {
        ops.gemmWeight(false, g.N(), p.in(), g.Gi(), 1f, g.dgx(), g.Gi(), p.wih(), 0f, dX, p.in());
    }

    /**
     * db_ih (= or +=) colsum(dgx), db_hh (= or +=) colsum(dgh), dgx's column totals taken from
     * {@code dgxRows} [rows,Gi]: dgx itself (rows N), or any rows with the same column totals (the
     * token sums of {@link TokenProjection}: V rows). Where dgh is dgx (LSTM, RNN) the two are the
     * same sums: one column sum into both (equal before, when it adds); else db_hh sums dgh's N rows.
     */
    static void biasGradients(DeviceOps ops, LayerWeights p, LayerGrads g, Ref dgxRows, int rows) {
        if (g.dgh().equals(g.dgx()) && g.Gh() == g.Gi()) {
            ops.columnSumTwice(dgxRows, p.dbih(), p.dbhh(), rows, g.Gi(), g.beta());
        } else {
            ops.columnSum(dgxRows, p.dbih(), rows, g.Gi(), g.beta());
            ops.columnSum(g.dgh(), p.dbhh(), g.N(), g.Gh(), g.beta());
        }
    }

    /** gh [B,Gh] (=) hPrev [B,H] W_hh^T. */
    static void recurrentProjection(DeviceOps ops, LayerWeights p, ForwardStep s) {
        ops.gemmWeight(true, s.B(), s.Gh(), s.H(), 1f, s.hPrev(), s.H(), p.whh(), 0f, s.gh(), s.Gh());
    }

    /** dhNext [B,H] (+=) dgh [B,Gh] W_hh. */
    static void recurrentGradient(DeviceOps ops, LayerWeights p, BackwardStep s) {
        ops.gemmWeight(false, s.B(), s.H(), s.Gh(), 1f, s.dgh(), s.Gh(), p.whh(), 1f, s.dhNext(), s.H());
    }

    /** LSTM (PyTorch nn.LSTM): saves i, f, g, o activated. */
    static final class Lstm extends DeviceCell {
        @Override
        int savedWidth(int H) {
            return 4 * H;
        }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            recurrentProjection(ops, p, s);
            ops.cells().lstmForward(s.gx(), s.gh(), p.bih(), p.bhh(), s.cPrev(), s.gates(), s.c(), s.h(), s.B(), s.H());
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            ops.cells().lstmBackward(s.dhOut(), s.dhNext(), s.dc(), s.gates(), s.cPrev(), s.c(), s.dgx(), s.B(), s.H());
            recurrentGradient(ops, p, s);
        }
    }

    /** GRU (PyTorch nn.GRU): saves r, z, n and gh_n + b_hn, which r multiplies. */
    static final class Gru extends DeviceCell {
        @Override
        int savedWidth(int H) {
            return 4 * H;
        }

        @Override
        boolean separateRecurrentGrad() {
            return true;
        }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            recurrentProjection(ops, p, s);
            ops.cells().gruForward(s.gx(), s.gh(), p.bih(), p.bhh(), s.hPrev(), s.gates(), s.h(), s.B(), s.H());
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            ops.cells().gruBackward(s.dhOut(), s.dhNext(), s.gates(), s.hPrev(), s.dgx(), s.dgh(), s.B(), s.H());
            recurrentGradient(ops, p, s);
        }
    }

    /** Vanilla tanh RNN: saves nothing but h. */
    static final class Rnn extends DeviceCell {
        @Override
        int savedWidth(int H) {
            return 0;
        }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            recurrentProjection(ops, p, s);
            ops.cells().rnnForward(s.gx(), s.gh(), p.bih(), p.bhh(), s.h(), s.B(), s.H());
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            ops.cells().rnnBackward(s.dhOut(), s.dhNext(), s.h(), s.dgx(), s.B(), s.H());
            recurrentGradient(ops, p, s);
        }
    }

    /**
     * MUT1, MUT2, MUT3 (variant 1..3), as kernels/cuda/mut.cu lays them out: blocks of gx / W_ih and
     * gh / W_hh per variant, saved [B,5H] = z, r, n, r*h_prev, tanh(h_prev). A step runs the
     * recurrent GEMM(s) of the z / r blocks, the gate kernel, the GEMM of the n block on r*h_prev,
     * then the candidate kernel; backward mirrors it.
     */
    static final class Mut extends DeviceCell {
        private static final int RH = 3, TH = 4; // saved blocks of r*h_prev and tanh(h_prev) (z, r, n: 0, 1, 2)
        private final int v;

        Mut(int variant) {
            this.v = variant;
        }

        @Override
        int savedWidth(int H) {
            return 5 * H;
        }

        @Override
        boolean separateRecurrentGrad() {
            return true;
        }

        /** mut_gates_forward and mut_candidate_forward take x (MUT2 and MUT1 read it). */
        @Override
        boolean stepsTakeInput() {
            return true;
        }

        /** drh [B,H], then dth [B,H] (MUT3). */
        @Override
        int scratchWidth(int H) {
            return 2 * H;
        }

        /** W_hh block index of the z gate (MUT2, MUT3), the r gate, and the n gate (always last). */
        private int hz() {
            return v == 1 ? -1 : 0;
        }

        private int hr() {
            return v == 1 ? 0 : 1;
        }

        private int hn() {
            return v == 1 ? 1 : 2;
        }

        /** W_hh block {@code k}: its rows k*H .. k*H+H-1. */
        private static WeightRows block(LayerWeights p, int k, int H) {
            return p.whh().fromRow(k * H);
        }

        @Override
        void forward(DeviceOps ops, LayerWeights p, ForwardStep s) {
            int B = s.B(), H = s.H(), Gh = s.Gh(), ld = savedWidth(H);
            Ref saved = s.gates();
            if (v == 3) { // z from tanh(h): gh.z = th W_hz^T, gh.r = h W_hr^T
                ops.cells().mutTanhH(s.hPrev(), saved, B, H);
                ops.gemmWeight(true, B, H, H, 1f, saved.plus((long) TH * H), ld, block(p, hz(), H), 0f, s.gh(), Gh);
                ops.gemmWeight(true, B, H, H, 1f, s.hPrev(), H, block(p, hr(), H), 0f, s.gh().plus(H), Gh);
            } else { // the blocks before n in one GEMM: MUT1 r, MUT2 z and r
                int rows = hn() * H;
                ops.gemmWeight(true, B, rows, H, 1f, s.hPrev(), H, p.whh(), 0f, s.gh(), Gh);
            }
            ops.cells().mutGatesForward(v, s.gx(), s.gh(), p.bih(), p.bhh(), s.hPrev(), s.x(), saved, B, H);
            ops.gemmWeight(
                    true,
                    B,
                    H,
                    H,
                    1f,
                    saved.plus((long) RH * H),
                    ld,
                    block(p, hn(), H),
                    0f,
                    s.gh().plus((long) hn() * H),
                    Gh);
            ops.cells().mutCandidateForward(v, s.gx(), s.gh(), p.bih(), p.bhh(), s.hPrev(), s.x(), saved, s.h(), B, H);
        }

        @Override
        void backward(DeviceOps ops, LayerWeights p, BackwardStep s) {
            int B = s.B(), H = s.H(), Gh = s.Gh();
            // MUT3 has no direct input gradient: its kernels never write dx but take a valid pointer
            Ref drh = s.scratch(), dth = s.scratch().plus((long) B * H), dx = s.dx() != null ? s.dx() : s.dhNext();
            ops.cells()
                    .mutCandidateBackward(
                            v, s.dhOut(), s.dhNext(), s.gates(), s.hPrev(), s.x(), s.dgx(), s.dgh(), dx, B, H);
            ops.gemmWeight(false, B, H, H, 1f, s.dgh().plus((long) hn() * H), Gh, block(p, hn(), H), 0f, drh, H);
            ops.cells().mutGatesBackward(v, drh, s.gates(), s.hPrev(), s.dhNext(), s.dgx(), s.dgh(), dx, B, H);
            if (v == 3) { // r through W_hr; z through W_hz and tanh
                ops.gemmWeight(
                        false, B, H, H, 1f, s.dgh().plus((long) hr() * H), Gh, block(p, hr(), H), 1f, s.dhNext(), H);
                ops.gemmWeight(false, B, H, H, 1f, s.dgh(), Gh, block(p, hz(), H), 0f, dth, H);
                ops.cells().mutTanhBackward(dth, s.gates(), s.dhNext(), B, H);
            } else {
                int rows = hn() * H;
                ops.gemmWeight(false, B, H, rows, 1f, s.dgh(), Gh, p.whh(), 1f, s.dhNext(), H);
            }
        }

        /** Each W_hh block against its own operand. */
        @Override
        void recurrentWeightProduct(DeviceOps ops, LayerWeights p, LayerGrads g) {
            int N = g.N(), H = g.H(), Gh = g.Gh(), ld = savedWidth(H);
            Ref dW = p.dWhh();
            if (v == 3) {
                ops.gemm(true, false, H, H, N, 1f, g.dgh(), Gh, g.saved().plus((long) TH * H), ld, g.beta(), dW, H);
                ops.gemm(
                        true,
                        false,
                        H,
                        H,
                        N,
                        1f,
                        g.dgh().plus((long) hr() * H),
                        Gh,
                        g.hPrev(),
                        H,
                        g.beta(),
                        dW.plus((long) hr() * H * H),
                        H);
            } else {
                ops.gemm(true, false, hn() * H, H, N, 1f, g.dgh(), Gh, g.hPrev(), H, g.beta(), dW, H);
            }
            ops.gemm(
                    true,
                    false,
                    H,
                    H,
                    N,
                    1f,
                    g.dgh().plus((long) hn() * H),
                    Gh,
                    g.saved().plus((long) RH * H),
                    ld,
                    g.beta(),
                    dW.plus((long) hn() * H * H),
                    H);
        }

        /** dgx W_ih, plus the input's direct path (MUT1 tanh(x), MUT2 x) gathered in dx. */
        @Override
        void inputGradient(DeviceOps ops, LayerWeights p, LayerGrads g, Ref dX) {
            if (g.dx() == null) {
                super.inputGradient(ops, p, g, dX);
                return;
            }
            ops.copy(dX, g.dx(), (long) g.N() * g.H());
            ops.gemmWeight(false, g.N(), p.in(), g.Gi(), 1f, g.dgx(), g.Gi(), p.wih(), 1f, dX, p.in());
        }
    }

    /**
     * The parameters of layer {@code layer}: W_ih, W_hh as {@link WeightRows} (for
     * {@link DeviceOps#gemmWeight}), biases and gradients as Refs.
     */
    record LayerWeights(
            int layer,
            int in,
            WeightRows wih,
            WeightRows whh,
            Ref bih,
            Ref bhh,
            Ref dWih,
            Ref dWhh,
            Ref dbih,
            Ref dbhh) {}

    /**
     * One forward step of B rows: x [B,in] (the layer input of this step; null for layer 0 of a
     * workspace projected by token, whose cells never read it), gx [B,Gi] (its input
     * projection, no bias), gh [B,Gh] scratch, hPrev, h, cPrev, c [B,H] (c, cPrev null without a
     * cell state; c may alias cPrev, h may not alias hPrev), gates [B,savedWidth] (null when 0).
     */
    record ForwardStep(
            int B, int H, int Gi, int Gh, Ref x, Ref gx, Ref gh, Ref hPrev, Ref h, Ref cPrev, Ref c, Ref gates) {}

    /**
     * One backward step: x [B,in] the step's layer input (null as in ForwardStep), dhOut [B,H] from
     * above, dhNext and dc [B,H] carried between steps, the saved gates and states of the step, dgx [B,Gi] / dgh [B,Gh]
     * outputs (the same Ref unless {@link #separateRecurrentGrad()}), dx [B,H] the input's direct
     * gradient (null unless the cell feeds its input directly), scratch [B,scratchWidth] (null when 0).
     */
    record BackwardStep(
            int B,
            int H,
            int Gi,
            int Gh,
            Ref x,
            Ref dhOut,
            Ref dhNext,
            Ref dc,
            Ref gates,
            Ref hPrev,
            Ref h,
            Ref cPrev,
            Ref c,
            Ref dgx,
            Ref dgh,
            Ref dx,
            Ref scratch) {}

    /**
     * A layer's gradients over N rows once their steps are done (the whole window, or a chunk of it:
     * {@link LayerPipeline}): dgx [N,Gi], dgh [N,Gh], the layer input x [N,in] (null as in
     * ForwardStep: layer 0's weight gradients then come from the token sums), hPrev [N,H] = the
     * rows' previous h, the saved activations [N,savedWidth] (null when none) and dx [N,H] (the
     * input's direct gradient; null unless the cell feeds its input directly); beta 0 writes the
     * weight gradients (=), 1 adds these rows' to them (+=).
     */
    record LayerGrads(
            int N, int H, int Gi, int Gh, Ref dgx, Ref dgh, Ref x, Ref hPrev, Ref saved, Ref dx, float beta) {}
}
