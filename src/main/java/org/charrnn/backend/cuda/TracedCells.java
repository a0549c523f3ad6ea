package org.charrnn.backend.cuda;

import java.util.function.ObjDoubleConsumer;
import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.Ref;

/**
 * {@link StepTrace}'s cell kernels: each priced as a kernel that moves its gates, states and
 * gradients once (the bytes per unit and row below) and handed to the trace, which counts it as
 * recurrence while stepwise steps run.
 */
final class TracedCells implements CellKernels {
    private final StepCostModel.Rates rates;
    private final ObjDoubleConsumer<String> priced; // (kernel, µs)

    TracedCells(StepCostModel.Rates rates, ObjDoubleConsumer<String> priced) {
        this.rates = rates;
        this.priced = priced;
    }

    // bytes per unit and row: the gates, states and gradients each kernel reads and writes (4 bytes each)
    private void cell(String name, int B, int H, int floatsPerUnit) {
        priced.accept(name, rates.kernelUs(4.0 * B * H * floatsPerUnit));
    }

    @Override
    public void lstmForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref cPrev, Ref gates, Ref c, Ref h, int B, int H) {
        cell("lstm_forward", B, H, 15); // gx, gh, gates 4 each; cPrev, c, h
    }

    @Override
    public void gruForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref gates, Ref h, int B, int H) {
        cell("gru_forward", B, H, 12); // gx, gh 3 each; gates 4; hPrev, h
    }

    @Override
    public void rnnForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref h, int B, int H) {
        cell("rnn_forward", B, H, 3);
    }

    @Override
    public void lstmBackward(Ref dhOut, Ref dhNext, Ref dc, Ref gates, Ref cPrev, Ref c, Ref dgates, int B, int H) {
        cell("lstm_backward", B, H, 15); // dhOut, dhNext and dc read and written, gates, cPrev, c, dgates
    }

    @Override
    public void gruBackward(Ref dhOut, Ref dhNext, Ref gates, Ref hPrev, Ref dgx, Ref dgh, int B, int H) {
        cell("gru_backward", B, H, 14);
    }

    @Override
    public void rnnBackward(Ref dhOut, Ref dhNext, Ref h, Ref dgates, int B, int H) {
        cell("rnn_backward", B, H, 5);
    }

    @Override
    public void mutTanhH(Ref hPrev, Ref saved, int B, int H) {
        cell("mut_tanh_h", B, H, 2);
    }

    @Override
    public void mutGatesForward(
            int variant, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, int B, int H) {
        cell("mut_gates_forward", B, H, 10);
    }

    @Override
    public void mutCandidateForward(
            int variant, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, Ref h, int B, int H) {
        cell("mut_candidate_forward", B, H, 8);
    }

    @Override
    public void mutCandidateBackward(
            int variant, Ref dhOut, Ref dhNext, Ref saved, Ref hPrev, Ref x, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        cell("mut_candidate_backward", B, H, 12);
    }

    @Override
    public void mutGatesBackward(
            int variant, Ref drh, Ref saved, Ref hPrev, Ref dhNext, Ref dgx, Ref dgh, Ref dx, int B, int H) {
        cell("mut_gates_backward", B, H, 10);
    }

    @Override
    public void mutTanhBackward(Ref dth, Ref saved, Ref dhNext, int B, int H) {
        cell("mut_tanh_backward", B, H, 4);
    }
}
