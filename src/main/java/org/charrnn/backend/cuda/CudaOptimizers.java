package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.CudaCellKernels.p;

import jcuda.driver.CUdeviceptr;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;

/**
 * The fused optimizer kernels of optim.cu (the *_step_dev forms): lr and Adam's bias corrections
 * are read from device memory ({@code hyper} = [lr, bc1, bc2], in the {@link StepBlock}), copied
 * with the step's other values before the update's launch, so a captured CUDA graph replays with
 * each step's values.
 */
final class CudaOptimizers implements OptimizerKernels {
    private final Kernels kernels;
    private final StepBlock values;

    CudaOptimizers(Kernels kernels, StepBlock values) {
        this.kernels = kernels;
        this.values = values;
    }

    @Override
    public void setHyper(float lr, float biasCorrection1, float biasCorrection2) {
        values.values.hyper(lr, biasCorrection1, biasCorrection2);
    }

    @Override
    public void step(OptimizerConfig o, Ref p, Ref g, Ref[] slots, int n, Ref norm, int clipMode, float clipMax) {
        float wd = (float) o.weightDecay(), eps = (float) o.eps();
        values.flush();
        CUdeviceptr hyper = values.hyper();
        Runnable kernel = switch (o.kind()) {
            case ADAM ->
                () -> kernels.adamStep(
                        p(p),
                        p(g),
                        p(slots[0]),
                        p(slots[1]),
                        n,
                        p(norm),
                        clipMode,
                        clipMax,
                        hyper,
                        (float) o.beta1(),
                        (float) o.beta2(),
                        eps,
                        wd);
            case RMSPROP ->
                () -> kernels.rmspropStep(
                        p(p), p(g), p(slots[0]), n, p(norm), clipMode, clipMax, hyper, (float) o.decay(), eps, wd);
            case ADAGRAD ->
                () -> kernels.adagradStep(p(p), p(g), p(slots[0]), n, p(norm), clipMode, clipMax, hyper, eps, wd);
            case SGD ->
                () -> kernels.sgdStep(
                        p(p), p(g), p(slots[0]), n, p(norm), clipMode, clipMax, hyper, (float) o.momentum(), wd);
        };
        kernel.run();
    }
}
