package org.charrnn.backend.opencl;

import java.util.List;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Dropout;
import org.charrnn.backend.Precision;
import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.DeviceOps;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.TokenBytes;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.backend.device.WindowKernels;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.util.UserError;

/**
 * {@link DeviceOps} on one OpenCL device: the fp32 kernels of kernels/opencl ({@link ClKernels})
 * on one in-order queue. On CPU devices, where the GEMM kernels want B untransposed, A W^T
 * products read a transposed copy of every weight matrix, refreshed lazily after the parameters
 * change. On those devices each layer's recurrence runs as one launch per pass ({@link
 * ClWindowKernels}) unless --rnn-kernel stepwise says otherwise. Per-step scalars are plain kernel
 * arguments (nothing is recorded for replay).
 */
final class OpenClOps implements DeviceOps {
    private static final int NORM_GROUPS = 64;

    private final ClQueue q;
    private final ClKernels k;
    private final ClOptimizers optimizers;
    private final int seed32;
    private final ClBuffer partial; // [NORM_GROUPS] stage-1 sums of squares
    /** The whole-window recurrence kernels, or null where the recurrence runs stepwise ({@link #stepwiseReason}). */
    private final ClWindowKernels window;
    /** Why the recurrence runs stepwise; null when {@link #window} runs it. */
    private final String stepwiseReason;

    private ClBuffer params; // the attached parameters [P]
    /** [P] on CPU devices: each weight matrix W [R,C] stored transposed ([C,R]) at its own offset; else null. */
    private ClBuffer weightsT;

    private List<ParamLayout.Tensor> matrices = List.of();
    private boolean weightsTStale = true;
    private int iteration;

    OpenClOps(ModelConfig config, BackendOptions options) {
        if (options.precision() != Precision.FP32)
            throw UserError.naming("the opencl backend computes in fp32 only; {BackendOptions.precision} "
                    + options.precision().id() + " is not supported (use {BackendOptions.precision} fp32)");
        this.seed32 = Dropout.seed32(options.dropoutSeed());
        ClDevice device = ClRuntime.select(options.device());
        this.q = new ClQueue(ClRuntime.program(device, options.log()), config::describe);
        this.k = q.kernels();
        this.optimizers = new ClOptimizers(k);
        try {
            partial = q.alloc(NORM_GROUPS, "norm partial sums");
            stepwiseReason = ClWindowKernels.stepwiseReason(options.rnnKernel(), q.variant, config.cell());
            window = stepwiseReason == null ? new ClWindowKernels(q, device.computeUnits()) : null;
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String deviceName() {
        return q.device().name() + " (" + q.device().platformName() + ", rnn "
                + (window != null ? "window" : "stepwise: " + stepwiseReason) + ")";
    }

    @Override
    public Precision precision() {
        return Precision.FP32;
    }

    private static ClBuffer cl(DeviceArray a) {
        return ClArgs.buffer(a);
    }

    private static ClBuffer cl(Ref r) {
        return cl(r.array());
    }

    /** The element offset of r as the kernels' int argument. */
    private static int off(Ref r) {
        return Math.toIntExact(r.offset());
    }

    /** A whole buffer (offset 0), as the kernels without an offset argument take it. */
    private static ClBuffer whole(Ref r) {
        if (r.offset() != 0)
            throw new IllegalArgumentException("kernel takes a whole buffer, got offset " + r.offset());
        return cl(r);
    }

    // ================================================================== memory

    @Override
    public DeviceArray alloc(long bytes, String what) {
        return q.allocBytes(Math.max(4, bytes), what);
    }

    @Override
    public void free(DeviceArray a) {
        if (a != null) q.release(cl(a));
    }

    @Override
    public DeviceArray uploadTokens(TokenSequence seq, int vocab) {
        return uploadTokens(q, seq, vocab);
    }

    /** The corpus on q's device, encoded as {@link TokenBytes} says. */
    static ClBuffer uploadTokens(ClQueue q, TokenSequence seq, int vocab) {
        long bytes = seq.length() * TokenBytes.width(vocab);
        ClBuffer b = q.allocBytes(Math.max(4, bytes), "the corpus (" + seq.length() + " tokens)");
        try {
            TokenBytes.encode(seq, vocab, (off, chunk, n) -> q.writeBytes(b, off, chunk, n));
        } catch (RuntimeException e) {
            q.release(b);
            throw e;
        }
        return b;
    }

    @Override
    public void fill(Ref dst, long n, float value) {
        q.fill(cl(dst), value, dst.offset(), n);
    }

    @Override
    public void copy(Ref dst, Ref src, long n) {
        q.copy(cl(src), src.offset(), cl(dst), dst.offset(), n);
    }

    @Override
    public void copyRows(Ref dst, long dstPitch, Ref src, long srcPitch, int rows, long cols) {
        q.copyRows(cl(src), src.offset(), srcPitch, cl(dst), dst.offset(), dstPitch, rows, cols);
    }

    @Override
    public void upload(Ref dst, float[] src) {
        q.write(cl(dst), dst.offset(), src);
    }

    @Override
    public void uploadInts(Ref dst, int[] src) {
        q.writeInts(whole(dst), src);
    }

    @Override
    public void uploadLongs(DeviceArray dst, long[] src) {
        q.writeLongs(cl(dst), src);
    }

    @Override
    public float[] download(Ref src, int n) {
        return q.read(cl(src), src.offset(), n);
    }

    @Override
    public void synchronize() {
        q.finish();
    }

    @Override
    public long peakBytes() {
        return q.peakBytes();
    }

    // ================================================================== per-step scalars

    @Override
    public void setIteration(int iteration) {
        this.iteration = iteration;
    }

    // ================================================================== GEMM

    @Override
    public void attachWeights(DeviceArray params, int P, List<ParamLayout.Tensor> matrices) {
        this.params = cl(params);
        this.matrices = List.copyOf(matrices);
        if (weightsT != null) q.release(weightsT);
        weightsT = q.prefersTransposedWeights() ? q.alloc(P, "transposed weights") : null;
        weightsTStale = true;
    }

    @Override
    public void weightsChanged() {
        weightsTStale = true;
    }

    @Override
    public void gemm(
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
            int ldc) {
        k.gemm(transA, transB, M, N, K, alpha, cl(A), off(A), lda, cl(B), off(B), ldb, beta, cl(C), off(C), ldc);
    }

    /**
     * A W^T from the transposed copy where the device's GEMM wants B untransposed (rows r.. of W
     * [R,C] are columns r.. of W^T [C,R]), else transB on the parameters.
     */
    @Override
    public void gemmWeight(
            boolean transW,
            int M,
            int N,
            int K,
            float alpha,
            Ref A,
            int lda,
            WeightRows w,
            float beta,
            Ref C,
            int ldc) {
        if (transW && weightsT != null) {
            refreshTransposedWeights();
            k.gemm(
                    false,
                    false,
                    M,
                    N,
                    K,
                    alpha,
                    cl(A),
                    off(A),
                    lda,
                    weightsT,
                    Math.toIntExact(w.offset() + w.first()),
                    w.rows(),
                    beta,
                    cl(C),
                    off(C),
                    ldc);
        } else {
            k.gemm(
                    false,
                    transW,
                    M,
                    N,
                    K,
                    alpha,
                    cl(A),
                    off(A),
                    lda,
                    params,
                    Math.toIntExact(w.rowOffset()),
                    w.cols(),
                    beta,
                    cl(C),
                    off(C),
                    ldc);
        }
    }

    /** Re-transposes every weight matrix into {@link #weightsT} if the parameters changed since the last time. */
    private void refreshTransposedWeights() {
        if (!weightsTStale) return;
        for (ParamLayout.Tensor t : matrices)
            k.transpose(params, t.offset(), t.shape()[0], t.shape()[1], weightsT, t.offset());
        weightsTStale = false;
    }

    // ================================================================== whole-window recurrence

    @Override
    public WindowKernels windows() {
        return window == null ? WindowKernels.NONE : windows;
    }

    /** The window kernels' recurrences (gx always the window's [T,B,Gi] rows: none reads by token). */
    private final WindowKernels windows = new WindowKernels() {
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
            if (tokens != null) throw new IllegalArgumentException("OpenCL's window kernels read no token ids");
            refreshTransposedWeights();
            // rows first.. of W_hh [R,H] are columns first.. of its transposed copy [H,R]
            int wT = Math.toIntExact(whh.offset() + whh.first());
            switch (cell) {
                case LSTM -> window.lstmForward(gx, weightsT, wT, whh.rows(), bih, bhh, hs, cs, gates, T, B, H);
                case GRU -> window.gruForward(gx, weightsT, wT, whh.rows(), bih, bhh, hs, gates, T, B, H);
                case RNN -> window.rnnForward(gx, weightsT, wT, whh.rows(), bih, bhh, hs, T, B, H);
                case MUT1, MUT2, MUT3 -> {
                    return false; // no window kernel: stepwise
                }
            }
            return true;
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
            int w = Math.toIntExact(whh.rowOffset());
            switch (cell) {
                case LSTM -> window.lstmBackward(dhOut, params, w, whh.cols(), dhNext, dc, gates, cs, dgx, T, B, H);
                case GRU -> window.gruBackward(dhOut, params, w, whh.cols(), dhNext, gates, hs, dgx, dgh, T, B, H);
                case RNN -> window.rnnBackward(dhOut, params, w, whh.cols(), dhNext, hs, dgx, T, B, H);
                case MUT1, MUT2, MUT3 -> {
                    return false; // no window kernel: stepwise
                }
            }
            return true;
        }
    };

    // ================================================================== kernels

    @Override
    public CellKernels cells() {
        return q.cells();
    }

    @Override
    public void gatherWindow(
            DeviceArray corpus, boolean u16, DeviceArray starts, int T, int B, DeviceArray x, DeviceArray y) {
        k.gatherWindow(u16, cl(corpus), cl(starts), T, B, cl(x), cl(y));
    }

    @Override
    public void embeddingForward(DeviceArray x, Ref table, Ref out, int N, int E) {
        k.embeddingForward(cl(x), cl(table), off(table), cl(out), off(out), N, E);
    }

    @Override
    public void embeddingBackward(DeviceArray x, Ref dOut, Ref dTable, int N, int V, int E) {
        k.embeddingBackward(cl(x), cl(dOut), off(dOut), cl(dTable), off(dTable), N, V, E);
    }

    @Override
    public void softmaxXent(
            Ref logits, Ref bias, DeviceArray y, Ref rowLoss, int N, int V, float gradScale, boolean writeGrad) {
        k.softmaxXent(cl(logits), off(logits), cl(bias), off(bias), cl(y), whole(rowLoss), N, V, gradScale, writeGrad);
    }

    @Override
    public void maskTargets(
            DeviceArray y,
            int ignore,
            Ref grad,
            Ref rowLoss,
            DeviceArray weights,
            DeviceArray count,
            int N,
            int V,
            boolean writeGrad) {
        k.targetWeights(cl(y), N, ignore, cl(weights));
        k.sumFinal(cl(weights), N, cl(count), false);
        k.maskXent(cl(grad), off(grad), whole(rowLoss), cl(weights), cl(count), N, V, writeGrad);
    }

    @Override
    public void addBiasRows(Ref y, Ref bias, int N, int C) {
        k.addBiasRows(cl(y), off(y), cl(bias), off(bias), N, C);
    }

    @Override
    public void columnSum(Ref a, Ref out, int N, int C, float beta) {
        k.columnSum(cl(a), off(a), cl(out), off(out), N, C, beta);
    }

    @Override
    public void sum(Ref a, int n, Ref out) {
        k.sumFinal(whole(a), n, whole(out), false);
    }

    @Override
    public void globalNorm(Ref g, int n, Ref norm) {
        k.sumSquaresPartial(cl(g), off(g), n, partial, NORM_GROUPS);
        k.sumFinal(partial, NORM_GROUPS, whole(norm), true);
    }

    @Override
    public void clipValue(Ref g, int n, float max, Ref norm) {
        k.clipValue(cl(g), off(g), n, max, whole(norm));
    }

    @Override
    public void dropoutForward(Ref x, Ref y, int n, int first, int layer, float p) {
        k.dropoutForward(cl(x), off(x), cl(y), off(y), n, first, seed32, iteration, layer, p);
    }

    @Override
    public void dropoutBackward(Ref dy, Ref dx, int n, int first, int layer, float p) {
        k.dropoutBackward(cl(dy), off(dy), cl(dx), off(dx), n, first, seed32, iteration, layer, p);
    }

    @Override
    public OptimizerKernels optimizers() {
        return optimizers;
    }

    /** Releases the queue, its kernels and every buffer allocated through it. */
    @Override
    public void close() {
        if (window != null) window.close();
        q.close();
    }
}
