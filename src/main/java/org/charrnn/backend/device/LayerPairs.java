package org.charrnn.backend.device;

import java.util.function.IntFunction;
import org.charrnn.model.ModelConfig;

/**
 * Two stacked layers a launch a pass as one wavefront, where the device runs them so ({@link
 * WindowKernels#pairs}: RNN layers in the cluster layout): {@link RnnPasses}' forward and backward
 * ask here first for layers l and l + 1 and run them one at a time where this says false.
 */
final class LayerPairs {
    private final DeviceOps ops;
    private final ModelConfig cfg;
    private final IntFunction<DeviceCell.LayerWeights> weights; // layer l's parameters and gradients
    private final int H, S; // S: state vectors a layer (dL/dh is its slice 0 of w.stateGrad)

    LayerPairs(DeviceOps ops, ModelConfig cfg, IntFunction<DeviceCell.LayerWeights> weights) {
        this.ops = ops;
        this.cfg = cfg;
        this.weights = weights;
        this.H = cfg.hidden();
        this.S = cfg.cell().stateVectors();
    }

    /**
     * Layers l and l + 1's forward recurrences over the window as one wavefront where the device runs
     * them so ({@link WindowKernels#pairs}): layer l's gx (or with {@code table}, layer 0 read by
     * token, its token table) in, both layers' states out; layer l + 1 needs no input projection.
     * False where they run one at a time.
     */
    boolean forward(Workspace w, int l, boolean table) {
        DeviceCell.LayerWeights a = weights.apply(l), b = weights.apply(l + 1);
        return ops.windows()
                .forwardPair(
                        cfg.cell(),
                        a.whh(),
                        a.bih(),
                        a.bhh(),
                        b.wih(),
                        b.whh(),
                        b.bih(),
                        b.bhh(),
                        table ? Ref.of(w.tokenTable) : Ref.of(w.gx),
                        table ? Ref.of(w.x) : null,
                        w.hs[l],
                        w.hs[l + 1],
                        w.T,
                        w.B,
                        H);
    }

    /**
     * Layers l + 1 and l's backward recurrences as one wavefront where the device runs them so:
     * reads dOutB (dL/d layer l + 1's output), carries both layers' dL/dh in w.stateGrad, writes
     * dgx(l + 1) and dgx(l) (two buffers: {@link Workspace#pairs}). Where w overlaps, joins the side
     * queue first (layer l + 2's weight gradients read the buffer layer l's dgates go to). False
     * where they run one at a time.
     */
    boolean backward(Workspace w, int l, Ref dOutB) {
        if (!w.pairs) return false;
        if (w.overlap && l + 2 < cfg.layers()) ops.joinSide();
        DeviceCell.LayerWeights a = weights.apply(l), b = weights.apply(l + 1);
        return ops.windows()
                .backwardPair(
                        cfg.cell(),
                        a.whh(),
                        b.wih(),
                        b.whh(),
                        dOutB,
                        new Ref(w.stateGrad, (long) l * S * w.B * H),
                        new Ref(w.stateGrad, (long) (l + 1) * S * w.B * H),
                        w.hs[l],
                        w.hs[l + 1],
                        Ref.of(w.dgx(l)),
                        Ref.of(w.dgx(l + 1)),
                        w.T,
                        w.B,
                        H);
    }
}
