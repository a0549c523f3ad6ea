package org.charrnn.backend.opencl;

import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.Ref;
import org.jocl.cl_kernel;

/**
 * The cell kernels of kernels/opencl (lstm.cl, gru.cl, rnn.cl, mut.cl) for one queue, resolved once
 * into fields, one typed launcher each. LSTM and GRU run as a 2-D range (H, B), the others one
 * work-item per (b, j) element.
 */
final class ClCellKernels implements CellKernels, AutoCloseable {
    private final ClArgs args;
    private final ClQueue q;
    private final cl_kernel lstmForward, lstmBackward, gruForward, gruBackward, rnnForward, rnnBackward;
    private final cl_kernel mutTanhH, mutGatesForward, mutCandidateForward, mutCandidateBackward, mutGatesBackward;
    private final cl_kernel mutTanhBackward;

    ClCellKernels(ClQueue q) {
        this.q = q;
        this.args = new ClArgs(q);
        try {
            lstmForward = args.kernel("lstm_forward_step");
            lstmBackward = args.kernel("lstm_backward_step");
            gruForward = args.kernel("gru_forward_step");
            gruBackward = args.kernel("gru_backward_step");
            rnnForward = args.kernel("rnn_forward_step");
            rnnBackward = args.kernel("rnn_backward_step");
            mutTanhH = args.kernel("mut_tanh_h");
            mutGatesForward = args.kernel("mut_gates_forward");
            mutCandidateForward = args.kernel("mut_candidate_forward");
            mutCandidateBackward = args.kernel("mut_candidate_backward");
            mutGatesBackward = args.kernel("mut_gates_backward");
            mutTanhBackward = args.kernel("mut_tanh_backward");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The 2-D range of the LSTM and GRU kernels: global (H, B), dimension 0 along the hidden unit. */
    private void runCell(String name, int B, int H) {
        if (B > 0 && H > 0) args.run(name, new long[] {H, B}, new long[] {H >= 64 ? 64 : 16, 1});
    }

    @Override
    public void lstmForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref cPrev, Ref gates, Ref c, Ref h, int B, int H) {
        args.of(lstmForward)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(cPrev)
                .mem(gates)
                .mem(c)
                .mem(h)
                .i32(B)
                .i32(H);
        runCell("lstm_forward_step", B, H);
    }

    @Override
    public void gruForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref gates, Ref h, int B, int H) {
        args.of(gruForward)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(hPrev)
                .mem(gates)
                .mem(h)
                .i32(B)
                .i32(H);
        runCell("gru_forward_step", B, H);
    }

    @Override
    public void rnnForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref h, int B, int H) {
        args.of(rnnForward)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(h)
                .i32(B)
                .i32(H)
                .run1("rnn_forward_step", (long) B * H);
    }

    @Override
    public void lstmBackward(Ref dhOut, Ref dhNext, Ref dc, Ref gates, Ref cPrev, Ref c, Ref dgates, int B, int H) {
        args.of(lstmBackward)
                .mem(dhOut)
                .mem(dhNext)
                .mem(dc)
                .mem(gates)
                .mem(cPrev)
                .mem(c)
                .mem(dgates)
                .i32(B)
                .i32(H);
        runCell("lstm_backward_step", B, H);
    }

    @Override
    public void gruBackward(Ref dhOut, Ref dhNext, Ref gates, Ref hPrev, Ref dgx, Ref dgh, int B, int H) {
        args.of(gruBackward)
                .mem(dhOut)
                .mem(dhNext)
                .mem(gates)
                .mem(hPrev)
                .mem(dgx)
                .mem(dgh)
                .i32(B)
                .i32(H);
        runCell("gru_backward_step", B, H);
    }

    @Override
    public void rnnBackward(Ref dhOut, Ref dhNext, Ref h, Ref dgates, int B, int H) {
        args.of(rnnBackward)
                .mem(dhOut)
                .mem(dhNext)
                .mem(h)
                .mem(dgates)
                .i32(B)
                .i32(H)
                .run1("rnn_backward_step", (long) B * H);
    }

    @Override
    public void mutTanhH(Ref hPrev, Ref saved, int B, int H) {
        args.of(mutTanhH).mem(hPrev).mem(saved).i32(B).i32(H).run1("mut_tanh_h", (long) B * H);
    }

    @Override
    public void mutGatesForward(int v, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, int B, int H) {
        args.of(mutGatesForward)
                .i32(v)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(hPrev)
                .mem(x)
                .mem(saved)
                .i32(B)
                .i32(H)
                .run1("mut_gates_forward", (long) B * H);
    }

    @Override
    public void mutCandidateForward(
            int v, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, Ref h, int B, int H) {
        args.of(mutCandidateForward)
                .i32(v)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(hPrev)
                .mem(x)
                .mem(saved)
                .mem(h)
                .i32(B)
                .i32(H)
                .run1("mut_candidate_forward", (long) B * H);
    }

    @Override
    public void mutCandidateBackward(
            int v, Ref dhOut, Ref dhNext, Ref saved, Ref hPrev, Ref x, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        args.of(mutCandidateBackward)
                .i32(v)
                .mem(dhOut)
                .mem(dhNext)
                .mem(saved)
                .mem(hPrev)
                .mem(x)
                .mem(dgx)
                .mem(dgh)
                .mem(dx)
                .i32(B)
                .i32(H)
                .run1("mut_candidate_backward", (long) B * H);
    }

    @Override
    public void mutGatesBackward(
            int v, Ref drh, Ref saved, Ref hPrev, Ref dhNext, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        args.of(mutGatesBackward)
                .i32(v)
                .mem(drh)
                .mem(saved)
                .mem(hPrev)
                .mem(dhNext)
                .mem(dgx)
                .mem(dgh)
                .mem(dx)
                .i32(B)
                .i32(H)
                .run1("mut_gates_backward", (long) B * H);
    }

    @Override
    public void mutTanhBackward(Ref dth, Ref saved, Ref dhNext, int B, int H) {
        args.of(mutTanhBackward).mem(dth).mem(saved).mem(dhNext).i32(B).i32(H).run1("mut_tanh_backward", (long) B * H);
    }

    @Override
    public void close() {
        args.releaseKernels();
    }
}
