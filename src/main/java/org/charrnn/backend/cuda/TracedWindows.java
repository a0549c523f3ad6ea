package org.charrnn.backend.cuda;

import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.backend.device.WindowKernels;
import org.charrnn.model.CellType;

/**
 * {@link StepTrace}'s {@link WindowKernels}, as {@link PersistentWindows} runs them: a layer's pass
 * is one persistent launch where the recurrence's model chooses it (priced by {@link RnnCostModel}
 * per step), else the trace prices the stepwise steps that follow as recurrence. Work queued on the
 * side stream runs stepwise, as on CudaOps's.
 */
final class TracedWindows implements WindowKernels {
    private final StepTrace trace;
    private final TracedRecurrence recurrence;
    private final StepCostModel.Rates rates;

    TracedWindows(StepTrace trace, TracedRecurrence recurrence, StepCostModel.Rates rates) {
        this.trace = trace;
        this.recurrence = recurrence;
        this.rates = rates;
    }

    @Override
    public boolean forward(
            CellType cell,
            WeightRows whh,
            Ref bih,
            Ref bhh,
            Ref gx,
            Ref tokens,
            Ref hs,
            Ref cs,
            Ref gates,
            int T,
            int B,
            int H) {
        PersistentChoice c = trace.inSide() ? null : recurrence.choose(cell, H, B);
        if (tokens != null && (c == null || !c.forward()))
            throw new IllegalStateException("a forward by token that runs stepwise");
        if (c == null || !c.forward()) {
            trace.stepwise(StepPart.FORWARD_RECURRENCE, whh);
            return false;
        }
        priced(
                StepPart.FORWARD_RECURRENCE,
                "persistent forward",
                c,
                cell,
                T,
                B,
                H,
                recurrence.forwardUs(c, cell, H, B));
        return true;
    }

    /** As PersistentWindows: every persistent forward reads by token. */
    @Override
    public boolean forwardByToken(CellType cell, int B, int H) {
        PersistentChoice c = recurrence.choose(cell, H, B);
        return c != null && c.forward();
    }

    @Override
    public boolean backward(
            CellType cell,
            WeightRows whh,
            Ref dhOut,
            Ref dhNext,
            Ref dc,
            Ref gates,
            Ref hs,
            Ref cs,
            Ref dgx,
            Ref dgh,
            int T,
            int B,
            int H) {
        PersistentChoice c = trace.inSide() ? null : recurrence.choose(cell, H, B);
        if (c == null || !c.backward()) {
            trace.stepwise(StepPart.BACKWARD_RECURRENCE, whh);
            return false;
        }
        priced(
                StepPart.BACKWARD_RECURRENCE,
                "persistent backward",
                c,
                cell,
                T,
                B,
                H,
                recurrence.backwardUs(c, cell, H, B));
        return true;
    }

    /** A persistent pass of T steps of {@code stepUs} each after its launch, beside which the side stream gets c's idle SMs. */
    private void priced(
            StepPart part, String name, PersistentChoice c, CellType cell, int T, int B, int H, double stepUs) {
        trace.recurrentFlops(cell, T, B, H);
        trace.besideClusters(c);
        trace.add(part, name, rates.kernelUs(0) + T * stepUs);
    }
}
