package org.charrnn.backend.opencl;

import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;

/** The fused optimizer kernels of optim.cl; lr and bias corrections are plain kernel arguments. */
final class ClOptimizers implements OptimizerKernels {
    private final ClKernels k;
    private float lr, bc1, bc2;

    ClOptimizers(ClKernels kernels) {
        this.k = kernels;
    }

    @Override
    public void setHyper(float lr, float biasCorrection1, float biasCorrection2) {
        this.lr = lr;
        this.bc1 = biasCorrection1;
        this.bc2 = biasCorrection2;
    }

    /** The buffer of a Ref at offset 0 (the optimizer kernels update whole buffers). */
    private static ClBuffer whole(Ref r) {
        if (r.offset() != 0)
            throw new IllegalArgumentException("optimizer kernels take whole buffers, got offset " + r.offset());
        return ClArgs.buffer(r.array());
    }

    @Override
    public void step(OptimizerConfig o, Ref p, Ref g, Ref[] slots, int n, Ref norm, int clipMode, float clipMax) {
        float wd = (float) o.weightDecay(), eps = (float) o.eps();
        ClBuffer pb = whole(p), gb = whole(g), nb = whole(norm), s0 = whole(slots[0]);
        Runnable kernel = switch (o.kind()) {
            case ADAM ->
                () -> k.adamStep(
                        pb,
                        gb,
                        s0,
                        whole(slots[1]),
                        n,
                        nb,
                        clipMode,
                        clipMax,
                        lr,
                        (float) o.beta1(),
                        (float) o.beta2(),
                        eps,
                        wd,
                        bc1,
                        bc2);
            case RMSPROP -> () -> k.rmspropStep(pb, gb, s0, n, nb, clipMode, clipMax, lr, (float) o.decay(), eps, wd);
            case ADAGRAD -> () -> k.adagradStep(pb, gb, s0, n, nb, clipMode, clipMax, lr, eps, wd);
            case SGD -> () -> k.sgdStep(pb, gb, s0, n, nb, clipMode, clipMax, lr, (float) o.momentum(), wd);
        };
        kernel.run();
    }
}
