package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.CudaCellKernels.p;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;

/**
 * The fused optimizer kernels of optim.cu (the *_step_dev forms): lr and Adam's bias corrections
 * are read from device memory ({@code hyper} = [lr, bc1, bc2]) written by an async copy before
 * each step, so a captured CUDA graph replays with each step's values.
 */
final class CudaOptimizers implements OptimizerKernels {
    private final Kernels kernels;
    private final CUstream stream;
    private final CUdeviceptr hyper; // [3] on the device
    /** Host source of the copy, reused: an async copy from pageable memory is staged before it returns. */
    private final float[] hyperHost = new float[3];

    private final Pointer hyperArg = Pointer.to(hyperHost);

    CudaOptimizers(Kernels kernels, CUstream stream, CUdeviceptr hyper) {
        this.kernels = kernels;
        this.stream = stream;
        this.hyper = hyper;
    }

    @Override
    public void setHyper(float lr, float biasCorrection1, float biasCorrection2) {
        hyperHost[0] = lr;
        hyperHost[1] = biasCorrection1;
        hyperHost[2] = biasCorrection2;
        JCudaDriver.cuMemcpyHtoDAsync(hyper, hyperArg, 3L * Sizeof.FLOAT, stream);
    }

    @Override
    public void step(OptimizerConfig o, Ref p, Ref g, Ref[] slots, int n, Ref norm, int clipMode, float clipMax) {
        float wd = (float) o.weightDecay(), eps = (float) o.eps();
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
