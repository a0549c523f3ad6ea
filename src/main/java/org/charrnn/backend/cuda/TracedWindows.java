package org.charrnn.backend.cuda;

import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.backend.device.WindowKernels;
import org.charrnn.model.CellType;

/**
 * {@link StepTrace}'s {@link WindowKernels}, as {@link PersistentWindows} runs them: a layer's pass
 * is one persistent launch where the recurrence's model chooses it (priced by {@link RnnCostModel}
 * per step), else the trace prices the stepwise steps that follow as recurrence; two stacked RNN
 * layers' pass is one launch of T + 1 ticks where the recurrence runs them so (priced by {@link
 * PairCostModel}). Work queued on the side stream runs stepwise, as on CudaOps's.
 */
final class TracedWindows implements WindowKernels {
    private static final String PAIR_FORWARD = "persistent pair forward";
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
        boolean persistent = pass(true, cell, whh, T, B, H);
        if (tokens != null && !persistent) throw new IllegalStateException("a forward by token that runs stepwise");
        return persistent;
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
        return pass(false, cell, whh, T, B, H);
    }

    /** As PersistentWindows: where the recurrence runs two layers as one wavefront, not on the side stream. */
    @Override
    public boolean pairs(CellType cell, int B, int H) {
        return !trace.inSide() && recurrence.pair(cell, H, B) != null;
    }

    @Override
    public boolean forwardPair(
            CellType cell,
            WeightRows whhA,
            Ref bihA,
            Ref bhhA,
            WeightRows wihB,
            WeightRows whhB,
            Ref bihB,
            Ref bhhB,
            Ref gx,
            Ref tokens,
            Ref hsA,
            Ref hsB,
            int T,
            int B,
            int H) {
        return pairPass(true, cell, T, B, H);
    }

    @Override
    public boolean backwardPair(
            CellType cell,
            WeightRows whhA,
            WeightRows wihB,
            WeightRows whhB,
            Ref dhOutB,
            Ref dhNextA,
            Ref dhNextB,
            Ref hsA,
            Ref hsB,
            Ref dgA,
            Ref dgB,
            int T,
            int B,
            int H) {
        return pairPass(false, cell, T, B, H);
    }

    /** Whether trace t ran two layers as one launch. */
    static boolean ranPairs(StepTrace t) {
        return t.ops().stream().anyMatch(o -> o.name().equals(PAIR_FORWARD));
    }

    /**
     * Two layers' pass as one launch of T + 1 ticks ({@link PairCostModel}) where they run so: its
     * products are both layers' recurrences and layer b's input projection (forward) or input
     * gradient (backward), three layer-steps' FLOPs a step.
     */
    private boolean pairPass(boolean forwardPass, CellType cell, int T, int B, int H) {
        PairCostModel.Estimate e = trace.inSide() ? null : recurrence.pair(cell, H, B);
        if (e == null) return false;
        for (int i = 0; i < 3; i++) trace.recurrentFlops(cell, T, B, H);
        trace.besideClusters(e.clusters());
        double tickUs = forwardPass ? e.forwardTickUs() : e.backwardTickUs();
        trace.add(
                forwardPass ? StepPart.FORWARD_RECURRENCE : StepPart.BACKWARD_RECURRENCE,
                forwardPass ? PAIR_FORWARD : "persistent pair backward",
                rates.kernelUs(0) + (T + 1) * tickUs);
        return true;
    }

    /**
     * A pass of T steps: one persistent launch where the model chooses it (on the main stream), whose
     * steps the recurrence's model prices and beside which the side stream gets its idle SMs (true);
     * else the stepwise steps that follow are priced as the pass (false).
     */
    private boolean pass(boolean forwardPass, CellType cell, WeightRows whh, int T, int B, int H) {
        StepPart part = forwardPass ? StepPart.FORWARD_RECURRENCE : StepPart.BACKWARD_RECURRENCE;
        PersistentChoice c = trace.inSide() ? null : recurrence.choose(cell, H, B);
        if (c == null || !(forwardPass ? c.forward() : c.backward())) {
            trace.stepwise(part, whh);
            return false;
        }
        double stepUs = forwardPass ? recurrence.forwardUs(c, cell, H, B) : recurrence.backwardUs(c, cell, H, B);
        long exchange = forwardPass ? 0 : recurrence.exchangeBytes(c, cell, H, B);
        if (exchange > 0) trace.hold("persistent backward exchange (B " + B + ")", exchange); // PersistentWindows'
        trace.recurrentFlops(cell, T, B, H);
        trace.besideClusters(c.clusters());
        trace.add(part, forwardPass ? "persistent forward" : "persistent backward", rates.kernelUs(0) + T * stepUs);
        return true;
    }
}
