package org.charrnn.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The kernel module (kernels/charrnn.fatbin, loaded with cuModuleLoadData; no runtime
 * compilation) and one typed launcher per kernel of kernels/README.md (the cell kernels are in
 * {@link CudaCellKernels}): each takes the kernel's
 * arguments in its order, with its types ({@link Pointer} for device pointers), and launches it
 * with the shape its header comment requires, on the backend's stream. Shapes are row-major;
 * {@code =} means the kernel writes its output, {@code +=} that it accumulates.
 */
final class Kernels implements AutoCloseable {
    static final int BLOCK = 256; // CR_BLOCK
    static final int CLUSTER = 8; // CR_CLUSTER: blocks per cluster of the persistent kernels' cluster layout
    static final int TILE = 16; // CR_TILE
    private static final int MAX_GRID_Y = 65535; // gemm_tiled strides row tiles beyond it
    /** A null device pointer: an optional pointer argument left out. */
    static final Pointer NONE = new CUdeviceptr();

    private final CUmodule module = new CUmodule();
    private CUstream stream; // the stream launches go to: the backend's, or its side stream (SideStream)
    private final int waveBlocks; // a grid-stride kernel's most blocks: one wave of the device (LaunchShapes)

    private final CUfunction gatherU8,
            gatherU16,
            gatherEmbedU8,
            gatherEmbedU16,
            embeddingForward,
            embeddingBackward,
            addBiasRows,
            copyRows;
    private final CUfunction dropoutForwardDev, dropoutBackwardDev, softmaxXent, targetWeights, maskXent;
    private final CUfunction columnSum, globalNorm, sumFinal, clipValue;
    private final CUfunction adamDev, rmspropDev, adagradDev, sgdDev, gemmTiled, f32ToBf16;

    Kernels(byte[] fatbin, CUstream stream) {
        this.stream = stream;
        CUdevice device = new CUdevice();
        JCudaDriver.cuCtxGetDevice(device);
        int[] sms = {0};
        JCudaDriver.cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        this.waveBlocks = LaunchShapes.waveBlocks(sms[0]);
        JCudaDriver.cuModuleLoadData(module, fatbin);
        gatherU8 = fn("gather_window_u8");
        gatherU16 = fn("gather_window_u16");
        gatherEmbedU8 = fn("gather_embed_u8");
        gatherEmbedU16 = fn("gather_embed_u16");
        embeddingForward = fn("embedding_forward");
        embeddingBackward = fn("embedding_backward");
        addBiasRows = fn("add_bias_rows");
        copyRows = fn("copy_rows");
        dropoutForwardDev = fn("dropout_forward_dev");
        dropoutBackwardDev = fn("dropout_backward_dev");
        softmaxXent = fn("softmax_xent");
        targetWeights = fn("target_weights");
        maskXent = fn("mask_xent");
        columnSum = fn("column_sum");
        globalNorm = fn("global_norm");
        sumFinal = fn("sum_final");
        clipValue = fn("clip_value");
        adamDev = fn("adam_step_dev");
        rmspropDev = fn("rmsprop_step_dev");
        adagradDev = fn("adagrad_step_dev");
        sgdDev = fn("sgd_step_dev");
        gemmTiled = fn("gemm_tiled");
        f32ToBf16 = fn("f32_to_bf16");
    }

    /** The kernel {@code name} of the module. */
    CUfunction fn(String name) {
        CUfunction f = new CUfunction();
        JCudaDriver.cuModuleGetFunction(f, module, name);
        return f;
    }

    // ================================================================== memory

    /** dst [rows, dstPitch] (=) src [rows, srcPitch], the first cols floats of each row; no overlap. */
    void copyRows(Pointer dst, long dstPitch, Pointer src, long srcPitch, int rows, long cols) {
        elementwise(copyRows, rows * cols, arg(dst), arg(dstPitch), arg(src), arg(srcPitch), arg(rows), arg(cols));
    }

    // ================================================================== embedding and tokens

    /** x, y [T,B] (=): x[t,b] = corpus[starts[b]+t], y[t,b] = corpus[starts[b]+t+1]; corpus u8 or u16, starts [B] int64. */
    void gatherWindow(boolean u16, Pointer corpus, Pointer starts, int T, int B, Pointer x, Pointer y) {
        elementwise(u16 ? gatherU16 : gatherU8, (long) T * B, arg(corpus), arg(starts), arg(T), arg(B), arg(x), arg(y));
    }

    /**
     * {@link #gatherWindow} and {@link #embeddingForward} of its x in one launch: x, y [T,B] (=), out
     * [T*B,E] (=) = emb [V,E] rows x; E >= 1, no aliasing.
     */
    void gatherEmbed(
            boolean u16,
            Pointer corpus,
            Pointer starts,
            int T,
            int B,
            Pointer x,
            Pointer y,
            Pointer emb,
            Pointer out,
            int E) {
        elementwise(
                u16 ? gatherEmbedU16 : gatherEmbedU8,
                (long) T * B * E,
                arg(corpus),
                arg(starts),
                arg(T),
                arg(B),
                arg(x),
                arg(y),
                arg(emb),
                arg(out),
                arg(E));
    }

    /** out [N,E] (=) = emb [V,E] rows x [N]. */
    void embeddingForward(Pointer x, Pointer emb, Pointer out, int N, int E) {
        elementwise(embeddingForward, (long) N * E, arg(x), arg(emb), arg(out), arg(N), arg(E));
    }

    /**
     * demb [V,E] (=): row v = sum of dout [N,E] rows n with x[n] = v, in a fixed order. Blocks of
     * {@link LaunchShapes#colWidth}(E) x {@link LaunchShapes#colLanes}(N) threads.
     */
    void embeddingBackward(Pointer x, Pointer dout, Pointer demb, int N, int V, int E) {
        if (V <= 0 || E <= 0) return;
        int width = LaunchShapes.colWidth(E);
        launch(
                embeddingBackward,
                V,
                (E + width - 1) / width,
                width,
                LaunchShapes.colLanes(N),
                arg(x),
                arg(dout),
                arg(demb),
                arg(N),
                arg(V),
                arg(E));
    }

    /** y [N,C] += bias [C] on every row. */
    void addBiasRows(Pointer y, Pointer bias, int N, int C) {
        elementwise(addBiasRows, (long) N * C, arg(y), arg(bias), arg(N), arg(C));
    }

    // ================================================================== dropout (iteration read from the device)

    /** y [n] (=) = x * inverted-dropout mask of (seed, *iteration, layer, first + i); y may alias x. */
    void dropoutForward(Pointer x, Pointer y, int n, int first, int seed, Pointer iteration, int layer, float p) {
        dropout(dropoutForwardDev, x, y, n, first, seed, iteration, layer, p);
    }

    /** dx [n] (=) = dy * the same mask; dx may alias dy. */
    void dropoutBackward(Pointer dy, Pointer dx, int n, int first, int seed, Pointer iteration, int layer, float p) {
        dropout(dropoutBackwardDev, dy, dx, n, first, seed, iteration, layer, p);
    }

    /** The two dropout kernels take the same arguments: (in, out, n, first, seed, iteration, layer, p). */
    private void dropout(
            CUfunction f, Pointer in, Pointer out, int n, int first, int seed, Pointer iteration, int layer, float p) {
        elementwise(f, n, arg(in), arg(out), arg(n), arg(first), arg(seed), arg(iteration), arg(layer), arg(p));
    }

    // ================================================================== loss and reductions

    /**
     * Adds bias [V] to logits [N,V], row_loss [N] (=) = logsumexp - logit[y]; with writeGrad the
     * logits are overwritten (=) by gradScale * (softmax - onehot(y)). One block of {@link
     * LaunchShapes#rowBlock}(V) threads per row. lossSum [1] (=) the sum of rowLoss as {@link
     * #sumFinal} adds it, by the kernel's last block (ticket [1]: 0 before and after), or {@link
     * #NONE} for no sum (ticket then unused, {@link #NONE} too).
     */
    void softmaxXent(
            Pointer logits,
            Pointer bias,
            Pointer y,
            Pointer rowLoss,
            int N,
            int V,
            float gradScale,
            boolean writeGrad,
            Pointer lossSum,
            Pointer ticket) {
        launch(
                softmaxXent,
                N,
                1,
                LaunchShapes.rowBlock(V),
                1,
                arg(logits),
                arg(bias),
                arg(y),
                arg(rowLoss),
                arg(N),
                arg(V),
                arg(gradScale),
                arg(writeGrad ? 1 : 0),
                arg(lossSum),
                arg(ticket));
    }

    /** w [N] (=) 0 where y[n] == ignore, else 1. */
    void targetWeights(Pointer y, int N, int ignore, Pointer w) {
        elementwise(targetWeights, N, arg(y), arg(N), arg(ignore), arg(w));
    }

    /** rowLoss [N] (=) 0 where w[n] = 0; with writeGrad grad [N,V] (=) 0 there, grad / max(count, 1) elsewhere. */
    void maskXent(Pointer grad, Pointer rowLoss, Pointer w, Pointer count, int N, int V, boolean writeGrad) {
        elementwise(
                maskXent,
                (long) N * V,
                arg(grad),
                arg(rowLoss),
                arg(w),
                arg(count),
                arg(N),
                arg(V),
                arg(writeGrad ? 1 : 0));
    }

    /**
     * out [C] = beta*out + sum over the N rows of a [N,C], in a fixed order (beta = 0: =); out2 [C]
     * (=) the same values, or {@link #NONE}. out2 must not alias out or a. Blocks of {@link
     * LaunchShapes#colWidth}(C) x {@link LaunchShapes#colLanes}(N) threads.
     */
    void columnSum(Pointer a, Pointer out, Pointer out2, int N, int C, float beta) {
        if (C <= 0) return;
        int width = LaunchShapes.colWidth(C);
        launch(
                columnSum,
                (C + width - 1) / width,
                1,
                width,
                LaunchShapes.colLanes(N),
                arg(a),
                arg(out),
                arg(out2),
                arg(N),
                arg(C),
                arg(beta));
    }

    /**
     * norm [1] (=) sqrt of the sum of g[i]^2 over g [n], in one launch of {@link
     * LaunchShapes#partials}(n) blocks: partial [that many] (=) each block's sum, the last block's
     * sum of them (ticket [1]: 0 before and after).
     */
    void globalNorm(Pointer g, int n, Pointer partial, Pointer norm, Pointer ticket) {
        launch(globalNorm, LaunchShapes.partials(n), 1, BLOCK, 1, arg(g), arg(n), arg(partial), arg(norm), arg(ticket));
    }

    /** out [1] (=) = sum of partial [P] (or its square root). One block. */
    void sumFinal(Pointer partial, int P, Pointer out, boolean takeSqrt) {
        launch(sumFinal, 1, 1, BLOCK, 1, arg(partial), arg(P), arg(out), arg(takeSqrt ? 1 : 0));
    }

    /** g [n] = clamp(g, -max, max) in place; untouched when norm [1] is not finite. */
    void clipValue(Pointer g, int n, float max, Pointer norm) {
        elementwise(clipValue, n, arg(g), arg(n), arg(max), arg(norm));
    }

    // ================================================================== fused optimizers (hyper = [lr, bc1, bc2] on
    // the device)

    /** p, m, v [n] updated in place by Adam on g [n] clipped by clipMode (1 = norm) against norm [1]; skipped when norm is not finite. */
    void adamStep(
            Pointer p,
            Pointer g,
            Pointer m,
            Pointer v,
            int n,
            Pointer norm,
            int clipMode,
            float clipMax,
            Pointer hyper,
            float beta1,
            float beta2,
            float eps,
            float weightDecay) {
        elementwise(
                adamDev,
                n,
                arg(p),
                arg(g),
                arg(m),
                arg(v),
                arg(n),
                arg(norm),
                arg(clipMode),
                arg(clipMax),
                arg(hyper),
                arg(beta1),
                arg(beta2),
                arg(eps),
                arg(weightDecay));
    }

    /** p, s [n] updated in place by char-rnn's RMSprop (as {@link #adamStep}). */
    void rmspropStep(
            Pointer p,
            Pointer g,
            Pointer s,
            int n,
            Pointer norm,
            int clipMode,
            float clipMax,
            Pointer hyper,
            float decay,
            float eps,
            float weightDecay) {
        elementwise(
                rmspropDev,
                n,
                arg(p),
                arg(g),
                arg(s),
                arg(n),
                arg(norm),
                arg(clipMode),
                arg(clipMax),
                arg(hyper),
                arg(decay),
                arg(eps),
                arg(weightDecay));
    }

    /** p, s [n] updated in place by Adagrad (as {@link #adamStep}). */
    void adagradStep(
            Pointer p,
            Pointer g,
            Pointer s,
            int n,
            Pointer norm,
            int clipMode,
            float clipMax,
            Pointer hyper,
            float eps,
            float weightDecay) {
        elementwise(
                adagradDev,
                n,
                arg(p),
                arg(g),
                arg(s),
                arg(n),
                arg(norm),
                arg(clipMode),
                arg(clipMax),
                arg(hyper),
                arg(eps),
                arg(weightDecay));
    }

    /** p, u [n] updated in place by SGD with momentum (as {@link #adamStep}). */
    void sgdStep(
            Pointer p,
            Pointer g,
            Pointer u,
            int n,
            Pointer norm,
            int clipMode,
            float clipMax,
            Pointer hyper,
            float momentum,
            float weightDecay) {
        elementwise(
                sgdDev,
                n,
                arg(p),
                arg(g),
                arg(u),
                arg(n),
                arg(norm),
                arg(clipMode),
                arg(clipMax),
                arg(hyper),
                arg(momentum),
                arg(weightDecay));
    }

    // ================================================================== GEMM fallback and bf16 conversion

    /** Row-major C [M,N] = alpha op(A) op(B) + beta C (beta = 0: C not read); C must not alias A or B. */
    void gemmTiled(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Pointer A,
            int lda,
            Pointer B,
            int ldb,
            float beta,
            Pointer C,
            int ldc) {
        int gx = (N + TILE - 1) / TILE, gy = Math.min((M + TILE - 1) / TILE, MAX_GRID_Y);
        launch(
                gemmTiled,
                gx,
                gy,
                TILE,
                TILE,
                arg(transA ? 1 : 0),
                arg(transB ? 1 : 0),
                arg(M),
                arg(N),
                arg(K),
                arg(alpha),
                arg(A),
                arg(lda),
                arg(B),
                arg(ldb),
                arg(beta),
                arg(C),
                arg(ldc));
    }

    /** y [n] bf16 (=) = x [n] rounded to nearest even; y must not alias x. Grid-stride, at most one wave. */
    void f32ToBf16(Pointer x, Pointer y, int n) {
        if (n <= 0) return;
        long blocks = Math.min((n + BLOCK - 1) / BLOCK, waveBlocks);
        launch(f32ToBf16, (int) blocks, 1, BLOCK, 1, arg(x), arg(y), arg(n));
    }

    // ================================================================== launching

    static NativePointerObject arg(Pointer devicePointer) {
        return Pointer.to(devicePointer);
    }

    static NativePointerObject arg(int value) {
        return Pointer.to(new int[] {value});
    }

    static NativePointerObject arg(long value) {
        return Pointer.to(new long[] {value});
    }

    static NativePointerObject arg(float value) {
        return Pointer.to(new float[] {value});
    }

    /** One thread per element over {@code count} elements, BLOCK threads per block. */
    void elementwise(CUfunction f, long count, NativePointerObject... args) {
        if (count <= 0) return;
        long blocks = (count + BLOCK - 1) / BLOCK;
        launch(f, (int) blocks, 1, BLOCK, 1, args);
    }

    /** {@code gridX x gridY} blocks of {@code blockX x blockY} threads. */
    private void launch(CUfunction f, int gridX, int gridY, int blockX, int blockY, NativePointerObject... args) {
        JCudaDriver.cuLaunchKernel(f, gridX, gridY, 1, blockX, blockY, 1, 0, stream, Pointer.to(args), null);
    }

    /** Launches go to {@code s} from now on; returns the stream they went to before. */
    CUstream use(CUstream s) {
        CUstream before = stream;
        stream = s;
        return before;
    }

    @Override
    public void close() {
        JCudaDriver.cuModuleUnload(module);
    }
}
