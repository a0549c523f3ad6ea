package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.Kernels.arg;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.Ref;

/**
 * The cell kernels of the CUDA module (lstm.cu, gru.cu, rnn.cu, mut.cu): one typed launcher each,
 * one thread per (b, j) element in blocks of {@link Kernels#BLOCK}, on the module's stream.
 */
final class CudaCellKernels implements CellKernels {
    private final Kernels k;
    private final CUfunction lstmForward, lstmBackward, gruForward, gruBackward, rnnForward, rnnBackward;
    private final CUfunction mutTanhH, mutGatesForward, mutCandidateForward, mutCandidateBackward, mutGatesBackward;
    private final CUfunction mutTanhBackward;

    CudaCellKernels(Kernels kernels) {
        this.k = kernels;
        lstmForward = k.fn("lstm_forward_step");
        lstmBackward = k.fn("lstm_backward_step");
        gruForward = k.fn("gru_forward_step");
        gruBackward = k.fn("gru_backward_step");
        rnnForward = k.fn("rnn_forward_step");
        rnnBackward = k.fn("rnn_backward_step");
        mutTanhH = k.fn("mut_tanh_h");
        mutGatesForward = k.fn("mut_gates_forward");
        mutCandidateForward = k.fn("mut_candidate_forward");
        mutCandidateBackward = k.fn("mut_candidate_backward");
        mutGatesBackward = k.fn("mut_gates_backward");
        mutTanhBackward = k.fn("mut_tanh_backward");
    }

    /** The device pointer of a Ref into a CUDA buffer. */
    static CUdeviceptr p(Ref r) {
        return buf(r.array()).at(r.offset());
    }

    static DeviceBuffer buf(DeviceArray a) {
        if (a instanceof DeviceBuffer b) return b;
        throw new IllegalArgumentException("not a CUDA buffer: " + a);
    }

    @Override
    public void lstmForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref cPrev, Ref gates, Ref c, Ref h, int B, int H) {
        k.elementwise(
                lstmForward,
                (long) B * H,
                arg(p(gx)),
                arg(p(gh)),
                arg(p(bih)),
                arg(p(bhh)),
                arg(p(cPrev)),
                arg(p(gates)),
                arg(p(c)),
                arg(p(h)),
                arg(B),
                arg(H));
    }

    @Override
    public void gruForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref gates, Ref h, int B, int H) {
        k.elementwise(
                gruForward,
                (long) B * H,
                arg(p(gx)),
                arg(p(gh)),
                arg(p(bih)),
                arg(p(bhh)),
                arg(p(hPrev)),
                arg(p(gates)),
                arg(p(h)),
                arg(B),
                arg(H));
    }

    @Override
    public void rnnForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref h, int B, int H) {
        k.elementwise(
                rnnForward, (long) B * H, arg(p(gx)), arg(p(gh)), arg(p(bih)), arg(p(bhh)), arg(p(h)), arg(B), arg(H));
    }

    @Override
    public void lstmBackward(Ref dhOut, Ref dhNext, Ref dc, Ref gates, Ref cPrev, Ref c, Ref dgates, int B, int H) {
        k.elementwise(
                lstmBackward,
                (long) B * H,
                arg(p(dhOut)),
                arg(p(dhNext)),
                arg(p(dc)),
                arg(p(gates)),
                arg(p(cPrev)),
                arg(p(c)),
                arg(p(dgates)),
                arg(B),
                arg(H));
    }

    @Override
    public void gruBackward(Ref dhOut, Ref dhNext, Ref gates, Ref hPrev, Ref dgx, Ref dgh, int B, int H) {
        k.elementwise(
                gruBackward,
                (long) B * H,
                arg(p(dhOut)),
                arg(p(dhNext)),
                arg(p(gates)),
                arg(p(hPrev)),
                arg(p(dgx)),
                arg(p(dgh)),
                arg(B),
                arg(H));
    }

    @Override
    public void rnnBackward(Ref dhOut, Ref dhNext, Ref h, Ref dgates, int B, int H) {
        k.elementwise(
                rnnBackward, (long) B * H, arg(p(dhOut)), arg(p(dhNext)), arg(p(h)), arg(p(dgates)), arg(B), arg(H));
    }

    @Override
    public void mutTanhH(Ref hPrev, Ref saved, int B, int H) {
        k.elementwise(mutTanhH, (long) B * H, arg(p(hPrev)), arg(p(saved)), arg(B), arg(H));
    }

    @Override
    public void mutGatesForward(int v, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, int B, int H) {
        k.elementwise(
                mutGatesForward,
                (long) B * H,
                arg(v),
                arg(p(gx)),
                arg(p(gh)),
                arg(p(bih)),
                arg(p(bhh)),
                arg(p(hPrev)),
                arg(p(x)),
                arg(p(saved)),
                arg(B),
                arg(H));
    }

    @Override
    public void mutCandidateForward(
            int v, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, Ref h, int B, int H) {
        k.elementwise(
                mutCandidateForward,
                (long) B * H,
                arg(v),
                arg(p(gx)),
                arg(p(gh)),
                arg(p(bih)),
                arg(p(bhh)),
                arg(p(hPrev)),
                arg(p(x)),
                arg(p(saved)),
                arg(p(h)),
                arg(B),
                arg(H));
    }

    @Override
    public void mutCandidateBackward(
            int v, Ref dhOut, Ref dhNext, Ref saved, Ref hPrev, Ref x, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        k.elementwise(
                mutCandidateBackward,
                (long) B * H,
                arg(v),
                arg(p(dhOut)),
                arg(p(dhNext)),
                arg(p(saved)),
                arg(p(hPrev)),
                arg(p(x)),
                arg(p(dgx)),
                arg(p(dgh)),
                arg(p(dx)),
                arg(B),
                arg(H));
    }

    @Override
    public void mutGatesBackward(
            int v, Ref drh, Ref saved, Ref hPrev, Ref dhNext, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        k.elementwise(
                mutGatesBackward,
                (long) B * H,
                arg(v),
                arg(p(drh)),
                arg(p(saved)),
                arg(p(hPrev)),
                arg(p(dhNext)),
                arg(p(dgx)),
                arg(p(dgh)),
                arg(p(dx)),
                arg(B),
                arg(H));
    }

    @Override
    public void mutTanhBackward(Ref dth, Ref saved, Ref dhNext, int B, int H) {
        k.elementwise(mutTanhBackward, (long) B * H, arg(p(dth)), arg(p(saved)), arg(p(dhNext)), arg(B), arg(H));
    }
}
