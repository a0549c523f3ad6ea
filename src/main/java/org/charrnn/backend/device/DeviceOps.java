package org.charrnn.backend.device;

import java.util.List;
import java.util.function.Supplier;
import org.charrnn.backend.Backend;
import org.charrnn.backend.Precision;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.ParamLayout;

/**
 * The operations a device backend implements; {@link DeviceRnn} writes the model once over them.
 *
 * <p>Conventions: tensors are row-major fp32 addressed by {@link Ref} (array + element offset);
 * every operation is queued in order on one device queue/stream and may run asynchronously: only
 * {@link #download}, {@link #synchronize} and {@link Backend.Timer#stopMillis()} wait for it. "(=)"
 * means the output is written, "(+=)" accumulated. Outputs must not alias inputs unless a method
 * says so. Cell kernels use PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n).
 *
 * <p>Graph capture and anything else a device does at the level of its queue stays inside its
 * implementation ({@link #runWholeStep}).
 */
public interface DeviceOps extends AutoCloseable {

    /** "cuda" or "opencl". */
    String name();

    /** Human-readable device and GEMM path. */
    String deviceName();

    Precision precision();

    /**
     * Runs {@code body} as the public operation {@code op}: makes the device current and turns the
     * device API's exceptions into one-line {@link org.charrnn.util.UserError}s.
     */
    default <T> T guard(String op, Supplier<T> body) {
        return body.get();
    }

    // ------------------------------------------------------------------ memory and transfers

    /** A zero-filled allocation of {@code bytes} (at least 4); out of memory is a one-line UserError naming {@code what}. */
    DeviceArray alloc(long bytes, String what);

    /** Frees {@code a} (null: no-op). Call {@link #synchronize} first if queued work may still use it. */
    void free(DeviceArray a);

    /** The corpus on the device: u8 per token when {@code vocab <= 256}, else u16; tokens checked against vocab. */
    DeviceArray uploadTokens(TokenSequence tokens, int vocab);

    /** dst[0, n) (=) value. */
    void fill(Ref dst, long n, float value);

    /** dst[0, n) (=) src[0, n) (floats); the ranges must not overlap. */
    void copy(Ref dst, Ref src, long n);

    /**
     * A strided copy in one operation: row r of dst (=) row r of src, for r in [0, rows), each row
     * {@code cols} floats, dst's rows {@code dstPitch} floats apart and src's {@code srcPitch} (each
     * at least cols); the ranges must not overlap. The orchestration moves every layer's state in
     * (or out) with one of these.
     */
    void copyRows(Ref dst, long dstPitch, Ref src, long srcPitch, int rows, long cols);

    /** dst (=) host floats; {@code src} may be reused as soon as this returns. */
    void upload(Ref dst, float[] src);

    /** dst (=) host ints (4-byte elements). */
    void uploadInts(Ref dst, int[] src);

    /**
     * dst (=) host int64 values; dst's array holds 8-byte elements from offset 0. Into the block of
     * {@link #allocStepStarts} a device may copy them with the step's other values, before the first
     * operation that reads them.
     */
    void uploadLongs(DeviceArray dst, long[] src);

    /**
     * The training workspace's window starts, int64 [B]: where a device copies them with the step's
     * other values in one transfer (CUDA), its own block, freed by {@link #free} as any other.
     * Default: a plain allocation.
     */
    default DeviceArray allocStepStarts(int B, String what) {
        return alloc((long) B * Long.BYTES, what);
    }

    /** Waits for the queue, then copies src[0, n) to the host. */
    float[] download(Ref src, int n);

    /** Waits until every queued operation has finished. */
    void synchronize();

    /** High-water mark of device memory held for this model, in bytes. */
    long peakBytes();

    /** A timer of the queue's device time (default: the host clock around {@link #synchronize}). */
    default Backend.Timer timer() {
        return Backend.Timer.hostClock(this::synchronize);
    }

    // ------------------------------------------------------------------ whole steps

    /**
     * True when training steps should be handed to {@link #runWholeStep} (CUDA graphs): forward,
     * backward and clip are then deferred until the optimizer step arrives.
     */
    default boolean defersSteps() {
        return false;
    }

    /**
     * Runs one whole training step (forward, backward, clip, optimizer update); {@code key} equals
     * the previous step's key exactly when the step reads and writes the same buffers with the same
     * shapes, so a device may replay a recording of it.
     */
    default void runWholeStep(Object key, Runnable step) {
        step.run();
    }

    // ------------------------------------------------------------------ per-step scalars

    /** The dropout iteration (mask key) of the next training forward; set only where the model has dropout. */
    void setIteration(int iteration);

    // ------------------------------------------------------------------ GEMM

    /**
     * Registers the flat parameter buffer [P] that {@link #gemmWeight} offsets index, and its weight
     * matrices (a device may keep a transposed or bf16 copy of them).
     */
    void attachWeights(DeviceArray params, int P, List<ParamLayout.Tensor> matrices);

    /** The parameters were written: copies of the weights kept by the device are stale. */
    void weightsChanged();

    /** Makes GEMM scratch hold op-A / op-B operands of up to the given elements (bf16); outside any recording. */
    default void reserveGemmScratch(long aElements, long bElements) {}

    // ------------------------------------------------------------------ a side queue

    /**
     * True when the weight gradients of a window of batch size B should run on a side queue ({@link
     * #onSide}) beside the next layer's backward recurrence (and a whole step's state copies and
     * state-gradient zeroing beside its main work); the device then sets the side queue up. Asked
     * once per window shape, outside any recording. Default: false (one queue).
     */
    default boolean overlapWeightGradients(int B) {
        return false;
    }

    /**
     * Queues {@code work}'s operations on the side queue: they start after everything queued before
     * this call and may run beside what is queued after it, until {@link #joinSide}; they must not
     * write what that reads, nor read what that writes. Default: runs them in order on the one queue.
     */
    default void onSide(Runnable work) {
        work.run();
    }

    /** What is queued after this waits for all the side work queued before it (default: nothing to wait for). */
    default void joinSide() {}

    /** A {@link #sideMark} of no side work: nothing to wait for. */
    long NO_SIDE_MARK = -1;

    /**
     * A mark of the side work queued so far (not negative), for {@link #joinSide(long)}; valid until
     * the next {@link #joinSide()}. Default: {@link #NO_SIDE_MARK} (one queue: nothing to wait for).
     */
    default long sideMark() {
        return NO_SIDE_MARK;
    }

    /**
     * What is queued after this waits for the side work queued before {@code mark} was taken, not
     * for what was queued on the side after it ({@link #NO_SIDE_MARK}, and by default: nothing).
     */
    default void joinSide(long mark) {}

    /**
     * True when the layers of a window of batch size B run pipelined by chunks ({@link
     * LayerPipeline}) in the forward pass ({@code forwardPass}) or the backward, alternating between
     * the main and the side queue: {@code forced}, or where the device would (auto); the device then
     * sets the side queue up. Asked once per window shape and pass, outside any recording. Default:
     * {@code forced} (no overlap to gain on one queue).
     */
    default boolean pipelinesLayers(int B, boolean forced, boolean forwardPass) {
        return forced;
    }

    /** C [M,N] = alpha op(A) op(B) + beta C (beta = 0: C not read); op(A) [M,K], op(B) [K,N]. */
    void gemm(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Ref A,
            int lda,
            Ref B,
            int ldb,
            float beta,
            Ref C,
            int ldc);

    /**
     * C [M,N] = alpha A [M,K] op(W) + beta C with W the rows of a parameter matrix that {@code w}
     * names: op(W) = W^T for its N rows (of K columns) when {@code transW}, else W for its K rows (of N).
     */
    void gemmWeight(
            boolean transW, int M, int N, int K, float alpha, Ref A, int lda, WeightRows w, float beta, Ref C, int ldc);

    // ------------------------------------------------------------------ embedding, loss, reductions

    /** x, y [T,B] (=): x[t,b] = corpus[starts[b]+t], y[t,b] = corpus[starts[b]+t+1]; starts [B] int64. */
    void gatherWindow(DeviceArray corpus, boolean u16, DeviceArray starts, int T, int B, DeviceArray x, DeviceArray y);

    /** out [N,E] (=) = rows x [N] of table [V,E]. */
    void embeddingForward(DeviceArray x, Ref table, Ref out, int N, int E);

    /**
     * {@link #gatherWindow}, then out [T*B,E] (=) the rows of table [V,E] that x names ({@link
     * #embeddingForward}). A backend may do both in one launch (the CUDA backend does).
     */
    default void gatherEmbedding(
            DeviceArray corpus,
            boolean u16,
            DeviceArray starts,
            int T,
            int B,
            DeviceArray x,
            DeviceArray y,
            Ref table,
            Ref out,
            int E) {
        gatherWindow(corpus, u16, starts, T, B, x, y);
        embeddingForward(x, table, out, T * B, E);
    }

    /** dTable [V,E] (=): row v = sum of dOut [N,E] rows n with x[n] = v, ascending n. */
    void embeddingBackward(DeviceArray x, Ref dOut, Ref dTable, int N, int V, int E);

    /**
     * Softmax cross-entropy over logits [N,V] + bias [V] against y [N]: rowLoss [N] (=); with
     * {@code writeGrad}, logits (=) gradScale * (softmax - onehot(y)) in place.
     */
    void softmaxXent(
            Ref logits, Ref bias, DeviceArray y, Ref rowLoss, int N, int V, float gradScale, boolean writeGrad);

    /**
     * {@link #softmaxXent}, then lossSum [1] (=) the sum of rowLoss [N] as {@link #sum} adds it. A
     * backend may do both in one launch (the CUDA backend does).
     */
    default void softmaxXentSum(
            Ref logits,
            Ref bias,
            DeviceArray y,
            Ref rowLoss,
            Ref lossSum,
            int N,
            int V,
            float gradScale,
            boolean writeGrad) {
        softmaxXent(logits, bias, y, rowLoss, N, V, gradScale, writeGrad);
        sum(rowLoss, N, lossSum);
    }

    /**
     * Leaves out the targets equal to {@code ignore}, after a {@link #softmaxXent} with gradScale 1:
     * weights [N] (=) 0 for those rows, else 1; count [1] (=) their sum; rowLoss [N] (=) 0 on the
     * left-out rows; with {@code writeGrad}, grad [N,V] (=) 0 on them and grad / max(count, 1)
     * elsewhere (dL/dlogits of the mean over the counted targets).
     */
    void maskTargets(
            DeviceArray y,
            int ignore,
            Ref grad,
            Ref rowLoss,
            DeviceArray weights,
            DeviceArray count,
            int N,
            int V,
            boolean writeGrad);

    /** y [N,C] (+=) bias [C] on every row. */
    void addBiasRows(Ref y, Ref bias, int N, int C);

    /** out [C] = beta out + column sums of a [N,C], ascending n (beta = 0: =). */
    void columnSum(Ref a, Ref out, int N, int C, float beta);

    /**
     * out [C] and out2 [C] (=) beta out + the column sums of a [N,C], as {@link #columnSum} adds
     * them (a layer's two bias gradients where they are the same sums: with beta 1, out2 held what
     * out did); out2 aliases neither out nor a. A backend may write both in one launch (the CUDA
     * backend does).
     */
    default void columnSumTwice(Ref a, Ref out, Ref out2, int N, int C, float beta) {
        columnSum(a, out, N, C, beta);
        copy(out2, out, C);
    }

    /** out [1] (=) sum of a [n], in a fixed order. */
    void sum(Ref a, int n, Ref out);

    /** norm [1] (=) global L2 norm of g [n], deterministic (a fixed-order two-stage reduction). */
    void globalNorm(Ref g, int n, Ref norm);

    /** g [n] (=) clamp(g, -max, max) in place; untouched when norm [1] is not finite. */
    void clipValue(Ref g, int n, float max, Ref norm);

    // ------------------------------------------------------------------ dropout

    /**
     * y [n] (=) x * inverted-dropout mask of (seed, iteration, layer, index); y may alias x. Element
     * i's index is first + i, its flat index in the layer's output [T,B,H] (0 for a whole layer, t0
     * B H for the chunk from step t0).
     */
    void dropoutForward(Ref x, Ref y, int n, int first, int layer, float p);

    /** dx [n] (=) dy * the same mask (element i at index first + i); dx may alias dy. */
    void dropoutBackward(Ref dy, Ref dx, int n, int first, int layer, float p);

    // ------------------------------------------------------------------ cells

    /** The fused pointwise cell kernels of this device (one timestep, B rows). */
    CellKernels cells();

    /** The device's fused decoder; {@link DecoderKernels#NONE} (none) by default. */
    default DecoderKernels decoders() {
        return DecoderKernels.NONE;
    }

    /** This device's whole-window recurrences ({@link WindowKernels#NONE}, the default: every layer stepwise). */
    default WindowKernels windows() {
        return WindowKernels.NONE;
    }

    // ------------------------------------------------------------------ fused optimizer updates

    /** The fused optimizer updates of this device. */
    OptimizerKernels optimizers();

    /** Frees every native resource of the device (its queue, kernels and remaining allocations). */
    @Override
    void close();
}
