package org.charrnn.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The kernel module (kernels/charrnn.fatbin, loaded with cuModuleLoadData; no runtime
 * compilation) and typed launchers for every kernel of kernels/README.md, with the launch shapes
 * the kernels' header comments require. Arguments: {@link jcuda.Pointer} for device pointers,
 * Integer for int/uint, Float for float.
 */
final class Kernels implements AutoCloseable {
    static final int BLOCK = 256;        // CR_BLOCK
    static final int ROW_BLOCK = 256;    // CR_ROW_BLOCK
    static final int MAX_PARTIALS = 1024; // CR_MAX_PARTIALS
    static final int TILE = 16;          // CR_TILE

    private final CUmodule module = new CUmodule();
    private final CUstream stream;

    final CUfunction gatherU8, gatherU16, embeddingForward, embeddingBackward, addBiasRows;
    final CUfunction lstmForward, lstmBackward, gruForward, gruBackward, rnnForward, rnnBackward;
    final CUfunction dropoutForwardDev, dropoutBackwardDev, softmaxXent;
    final CUfunction columnSum, sumSquaresPartial, sumFinal, clipValue;
    final CUfunction adamDev, rmspropDev, adagradDev, sgdDev, gemmTiled, f32ToBf16;

    Kernels(byte[] fatbin, CUstream stream) {
        this.stream = stream;
        JCudaDriver.cuModuleLoadData(module, fatbin);
        gatherU8 = fn("gather_window_u8");
        gatherU16 = fn("gather_window_u16");
        embeddingForward = fn("embedding_forward");
        embeddingBackward = fn("embedding_backward");
        addBiasRows = fn("add_bias_rows");
        lstmForward = fn("lstm_forward_step");
        lstmBackward = fn("lstm_backward_step");
        gruForward = fn("gru_forward_step");
        gruBackward = fn("gru_backward_step");
        rnnForward = fn("rnn_forward_step");
        rnnBackward = fn("rnn_backward_step");
        dropoutForwardDev = fn("dropout_forward_dev");
        dropoutBackwardDev = fn("dropout_backward_dev");
        softmaxXent = fn("softmax_xent");
        columnSum = fn("column_sum");
        sumSquaresPartial = fn("sum_squares_partial");
        sumFinal = fn("sum_final");
        clipValue = fn("clip_value");
        adamDev = fn("adam_step_dev");
        rmspropDev = fn("rmsprop_step_dev");
        adagradDev = fn("adagrad_step_dev");
        sgdDev = fn("sgd_step_dev");
        gemmTiled = fn("gemm_tiled");
        f32ToBf16 = fn("f32_to_bf16");
    }

    private CUfunction fn(String name) {
        CUfunction f = new CUfunction();
        JCudaDriver.cuModuleGetFunction(f, module, name);
        return f;
    }

    /** One thread per element over {@code count} elements, BLOCK threads per block. */
    void elementwise(CUfunction f, long count, Object... args) {
        if (count <= 0) return;
        long blocks = (count + BLOCK - 1) / BLOCK;
        launch(f, (int) blocks, 1, BLOCK, 1, args);
    }

    /** {@code gridX x gridY} blocks of {@code blockX x blockY} threads. */
    void launch(CUfunction f, int gridX, int gridY, int blockX, int blockY, Object... args) {
        NativePointerObject[] ptrs = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Pointer p) ptrs[i] = Pointer.to(p);
            else if (a instanceof Integer v) ptrs[i] = Pointer.to(new int[] {v});
            else if (a instanceof Float v) ptrs[i] = Pointer.to(new float[] {v});
            else throw new IllegalArgumentException("unsupported kernel argument " + a);
        }
        JCudaDriver.cuLaunchKernel(f, gridX, gridY, 1, blockX, blockY, 1, 0, stream, Pointer.to(ptrs), null);
    }

    /** Number of partial sums sum_squares_partial uses for {@code n} elements. */
    static int partials(long n) {
        return (int) Math.max(1, Math.min(MAX_PARTIALS, (n + BLOCK - 1) / BLOCK));
    }

    @Override
    public void close() {
        JCudaDriver.cuModuleUnload(module);
    }
}
