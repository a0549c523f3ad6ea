package org.charrnn.backend.device;

import org.charrnn.backend.OptimizerConfig;

/**
 * The fused optimizer updates of a device: one kernel per {@link org.charrnn.backend.OptimizerKind}
 * that clips, applies weight decay and updates the parameters and their state in one pass.
 */
public interface OptimizerKernels {

    /** The learning rate and Adam's bias corrections 1 - beta^t of the next update. */
    void setHyper(float lr, float biasCorrection1, float biasCorrection2);

    /**
     * p [n] and the optimizer's state arrays {@code slots} (each [n], in
     * {@link org.charrnn.backend.OptimizerKind#slots()} order) updated in place from g [n] by
     * {@code o}, with g scaled by min(1, clipMax / (norm + 1e-6)) when clipMode is 1 (NORM) and the
     * lr and bias corrections of {@link #setHyper}; the whole update is skipped when norm [1] is
     * not finite.
     */
    void step(OptimizerConfig o, Ref p, Ref g, Ref[] slots, int n, Ref norm, int clipMode, float clipMax);
}
