package org.charrnn.backend.opencl;

import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.Ref;
import org.jocl.cl_kernel;

/**
 * The cell kernels of kernels/opencl (lstm.cl, gru.cl, rnn.cl, mut.cl) for one queue, resolved once
 * into fields, one typed launcher each. LSTM and GRU run as a 2-D range (H, B), the others one
 * work-item per (b, j) element; in the CPU variant every cell kernel runs its *_vec16 form
 * instead, a 2-D range (ceil(H/16), B) of work-items that each compute 16 units as a float16.
 */
final class ClCellKernels implements CellKernels, AutoCloseable {
    private final ClArgs args;
    private final ClQueue q;
    private final cl_kernel lstmForward, lstmBackward, gruForward, gruBackward, rnnForward, rnnBackward;
    /**
     * The *_vec16 forms of the LSTM, GRU and RNN kernels above, in that order, then of the six MUT
     * kernels in the order of {@link CellKernels}: the CPU variant's.
     */
    private final cl_kernel[] vec16;

    private final boolean useVec16;
    private final cl_kernel mutTanhH, mutGatesForward, mutCandidateForward, mutCandidateBackward, mutGatesBackward;
    private final cl_kernel mutTanhBackward;

    ClCellKernels(ClQueue q) {
        this.q = q;
        this.args = new ClArgs(q);
        this.useVec16 = q.variant == ClQueue.Variant.CPU;
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
            vec16 = useVec16
                    ? new cl_kernel[] {
                        args.kernel("lstm_forward_vec16"),
                        args.kernel("lstm_backward_vec16"),
                        args.kernel("gru_forward_vec16"),
                        args.kernel("gru_backward_vec16"),
                        args.kernel("rnn_forward_vec16"),
                        args.kernel("rnn_backward_vec16"),
                        args.kernel("mut_tanh_h_vec16"),
                        args.kernel("mut_gates_forward_vec16"),
                        args.kernel("mut_candidate_forward_vec16"),
                        args.kernel("mut_candidate_backward_vec16"),
                        args.kernel("mut_gates_backward_vec16"),
                        args.kernel("mut_tanh_backward_vec16")
                    }
                    : null;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Kernel {@code plain}, or its vec16 form {@code vec16[i]} in the CPU variant. */
    private ClArgs cell(cl_kernel plain, int i) {
        return args.of(useVec16 ? vec16[i] : plain);
    }

    /**
     * The 2-D range of the LSTM and GRU kernels, global (H, B) with dimension 0 along the hidden
     * unit, or of the vec16 kernels, (ceil(H/16), B).
     */
    private void runCell(String name, String vec16Name, int B, int H) {
        if (B <= 0 || H <= 0) return;
        if (useVec16) args.run(vec16Name, new long[] {(H + 15) / 16, B}, new long[] {1, 1});
        else args.run(name, new long[] {H, B}, new long[] {H >= 64 ? 64 : 16, 1});
    }

    /** The range of the other cell kernels: B*H work-items, or the vec16 kernels' (ceil(H/16), B). */
    private void runPointwise(String name, String vec16Name, int B, int H) {
        if (useVec16) runCell(name, vec16Name, B, H);
        else args.run1(name, (long) B * H);
    }

    @Override
    public void lstmForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref cPrev, Ref gates, Ref c, Ref h, int B, int H) {
        cell(lstmForward, 0)
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
        runCell("lstm_forward_step", "lstm_forward_vec16", B, H);
    }

    @Override
    public void gruForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref gates, Ref h, int B, int H) {
        cell(gruForward, 2)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(hPrev)
                .mem(gates)
                .mem(h)
                .i32(B)
                .i32(H);
        runCell("gru_forward_step", "gru_forward_vec16", B, H);
    }

    @Override
    public void rnnForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref h, int B, int H) {
        ClArgs a = cell(rnnForward, 4)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(h)
                .i32(B)
                .i32(H);
        if (useVec16) runCell("rnn_forward_step", "rnn_forward_vec16", B, H);
        else a.run1("rnn_forward_step", (long) B * H);
    }

    @Override
    public void lstmBackward(Ref dhOut, Ref dhNext, Ref dc, Ref gates, Ref cPrev, Ref c, Ref dgates, int B, int H) {
        cell(lstmBackward, 1)
                .mem(dhOut)
                .mem(dhNext)
                .mem(dc)
                .mem(gates)
                .mem(cPrev)
                .mem(c)
                .mem(dgates)
                .i32(B)
                .i32(H);
        runCell("lstm_backward_step", "lstm_backward_vec16", B, H);
    }

    @Override
    public void gruBackward(Ref dhOut, Ref dhNext, Ref gates, Ref hPrev, Ref dgx, Ref dgh, int B, int H) {
        cell(gruBackward, 3)
                .mem(dhOut)
                .mem(dhNext)
                .mem(gates)
                .mem(hPrev)
                .mem(dgx)
                .mem(dgh)
                .i32(B)
                .i32(H);
        runCell("gru_backward_step", "gru_backward_vec16", B, H);
    }

    @Override
    public void rnnBackward(Ref dhOut, Ref dhNext, Ref h, Ref dgates, int B, int H) {
        cell(rnnBackward, 5).mem(dhOut).mem(dhNext).mem(h).mem(dgates).i32(B).i32(H);
        runPointwise("rnn_backward_step", "rnn_backward_vec16", B, H);
    }

    @Override
    public void mutTanhH(Ref hPrev, Ref saved, int B, int H) {
        cell(mutTanhH, 6).mem(hPrev).mem(saved).i32(B).i32(H);
        runPointwise("mut_tanh_h", "mut_tanh_h_vec16", B, H);
    }

    @Override
    public void mutGatesForward(int v, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, int B, int H) {
        cell(mutGatesForward, 7)
                .i32(v)
                .mem(gx)
                .mem(gh)
                .mem(bih)
                .mem(bhh)
                .mem(hPrev)
                .mem(x)
                .mem(saved)
                .i32(B)
                .i32(H);
        runPointwise("mut_gates_forward", "mut_gates_forward_vec16", B, H);
    }

    @Override
    public void mutCandidateForward(
            int v, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, Ref h, int B, int H) {
        cell(mutCandidateForward, 8)
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
                .i32(H);
        runPointwise("mut_candidate_forward", "mut_candidate_forward_vec16", B, H);
    }

    @Override
    public void mutCandidateBackward(
            int v, Ref dhOut, Ref dhNext, Ref saved, Ref hPrev, Ref x, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        cell(mutCandidateBackward, 9)
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
                .i32(H);
        runPointwise("mut_candidate_backward", "mut_candidate_backward_vec16", B, H);
    }

    @Override
    public void mutGatesBackward(
            int v, Ref drh, Ref saved, Ref hPrev, Ref dhNext, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        cell(mutGatesBackward, 10)
                .i32(v)
                .mem(drh)
                .mem(saved)
                .mem(hPrev)
                .mem(dhNext)
                .mem(dgx)
                .mem(dgh)
                .mem(dx)
                .i32(B)
                .i32(H);
        runPointwise("mut_gates_backward", "mut_gates_backward_vec16", B, H);
    }

    @Override
    public void mutTanhBackward(Ref dth, Ref saved, Ref dhNext, int B, int H) {
        cell(mutTanhBackward, 11).mem(dth).mem(saved).mem(dhNext).i32(B).i32(H);
        runPointwise("mut_tanh_backward", "mut_tanh_backward_vec16", B, H);
    }

    @Override
    public void close() {
        args.releaseKernels();
    }
}
