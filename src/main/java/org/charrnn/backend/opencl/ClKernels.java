package org.charrnn.backend.opencl;

import org.jocl.cl_kernel;

/**
 * The kernels of kernels/opencl for one queue, resolved once into fields (kernel arguments are
 * per-object state, so every queue owns its kernel objects), and one typed launcher per kernel or
 * family: arguments in the kernel's order with its types, launched with the shape its header
 * requires. Buffers come with element offsets ({@code *Off}). The variant-dependent launchers
 * ({@link #gemm}, {@link #softmaxXent}, {@link #columnSum}, {@link #embeddingForward},
 * {@link #embeddingBackward}) pick the kernel of the queue's {@link ClQueue.Variant}. "=" writes, "+=" accumulates.
 */
final class ClKernels implements AutoCloseable {
    /** The GPU variant's column sums: work-groups of COL_WIDTH columns x COL_LANES row lanes (embedding.cl). */
    static final int COL_WIDTH = 32, COL_LANES = 8;

    private final ClQueue q;
    private final cl_kernel gatherU8,
            gatherU16,
            embeddingForward,
            embeddingForwardVec16,
            embeddingBackward,
            embeddingBackwardVec16,
            addBiasRows;
    private final cl_kernel gemmTiled, transpose;
    /** The CPU variant's GEMM kernels; null in the GPU variant. */
    private final ClGemm cpuGemm;

    private final cl_kernel dropoutForward, dropoutBackward, softmaxXent, softmaxXentRows, targetWeights, maskXent;
    private final cl_kernel columnSum, columnSumVec128, sumSquaresPartial, sumFinal, clipValue;
    private final cl_kernel adam, rmsprop, adagrad, sgd;

    ClKernels(ClQueue q) {
        this.q = q;
        this.args = new ClArgs(q);
        try {
            gatherU8 = args.kernel("gather_window_u8");
            gatherU16 = args.kernel("gather_window_u16");
            embeddingForward = args.kernel("embedding_forward");
            embeddingForwardVec16 = args.kernel("embedding_forward_vec16");
            embeddingBackward = args.kernel("embedding_backward");
            embeddingBackwardVec16 = args.kernel("embedding_backward_vec16");
            addBiasRows = args.kernel("add_bias_rows");
            gemmTiled = args.kernel("gemm_tiled");
            transpose = args.kernel("transpose");
            dropoutForward = args.kernel("dropout_forward");
            dropoutBackward = args.kernel("dropout_backward");
            softmaxXent = args.kernel("softmax_xent");
            softmaxXentRows = args.kernel("softmax_xent_rows");
            targetWeights = args.kernel("target_weights");
            maskXent = args.kernel("mask_xent");
            columnSum = args.kernel("column_sum");
            columnSumVec128 = args.kernel("column_sum_vec128");
            sumSquaresPartial = args.kernel("sum_squares_partial");
            sumFinal = args.kernel("sum_final");
            clipValue = args.kernel("clip_value");
            adam = args.kernel("adam_step");
            rmsprop = args.kernel("rmsprop_step");
            adagrad = args.kernel("adagrad_step");
            sgd = args.kernel("sgd_step");
            cpuGemm = q.variant == ClQueue.Variant.CPU ? new ClGemm(q) : null;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Sets the arguments of one kernel in order and launches it; reused for every launch. */
    private final ClArgs args;

    // ================================================================== embedding and tokens

    /** x, y [T,B] (=) from the corpus (u8 or u16) at starts [B] (int64). */
    void gatherWindow(boolean u16, ClBuffer corpus, ClBuffer starts, int T, int B, ClBuffer x, ClBuffer y) {
        args.of(u16 ? gatherU16 : gatherU8)
                .mem(corpus)
                .mem(starts)
                .i32(T)
                .i32(B)
                .mem(x)
                .mem(y)
                .run1(u16 ? "gather_window_u16" : "gather_window_u8", (long) T * B);
    }

    /** out [N,E] (=) rows x [N] of emb [V,E]. */
    void embeddingForward(ClBuffer x, ClBuffer emb, int embOff, ClBuffer out, int outOff, int N, int E) {
        if (N <= 0 || E <= 0) return;
        boolean vec16 = q.variant == ClQueue.Variant.CPU;
        ClArgs a = args.of(vec16 ? embeddingForwardVec16 : embeddingForward)
                .mem(x)
                .mem(emb, embOff)
                .mem(out, outOff)
                .i32(N)
                .i32(E);
        if (vec16) a.run("embedding_forward_vec16", new long[] {(E + 15) / 16, N}, new long[] {1, 1});
        else a.run1("embedding_forward", (long) N * E);
    }

    /** demb [V,E] (=) per-token sums of dout [N,E] rows selected by x [N], in a fixed order. */
    void embeddingBackward(ClBuffer x, ClBuffer dout, int doutOff, ClBuffer demb, int dembOff, int N, int V, int E) {
        if (V <= 0 || E <= 0) return;
        if (q.variant == ClQueue.Variant.CPU) {
            args.of(embeddingBackwardVec16)
                    .mem(x)
                    .mem(dout, doutOff)
                    .mem(demb, dembOff)
                    .i32(N)
                    .i32(V)
                    .i32(E)
                    .run("embedding_backward_vec16", new long[] {(E + 15) / 16}, new long[] {1});
        } else {
            args.of(embeddingBackward)
                    .mem(x)
                    .mem(dout, doutOff)
                    .mem(demb, dembOff)
                    .i32(N)
                    .i32(V)
                    .i32(E)
                    .run(
                            "embedding_backward",
                            new long[] {(long) V * COL_WIDTH, (long) ((E + COL_WIDTH - 1) / COL_WIDTH) * COL_LANES},
                            new long[] {COL_WIDTH, COL_LANES});
        }
    }

    /** y [N,C] (+=) bias [C] on every row. */
    void addBiasRows(ClBuffer y, int yOff, ClBuffer bias, int biasOff, int N, int C) {
        args.of(addBiasRows).mem(y, yOff).mem(bias, biasOff).i32(N).i32(C).run1("add_bias_rows", (long) N * C);
    }

    // ================================================================== GEMM

    /**
     * Row-major C [M,N] = alpha op(A) op(B) + beta C with element offsets (see gemm.cl): the CPU
     * variant's {@link ClGemm} when B is not transposed, else gemm_tiled.
     */
    void gemm(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            ClBuffer A,
            int aOff,
            int lda,
            ClBuffer B,
            int bOff,
            int ldb,
            float beta,
            ClBuffer C,
            int cOff,
            int ldc) {
        if (M == 0 || N == 0) return;
        if (K == 0) {
            // op(A) op(B) is zero: C = beta C
            if (beta == 0f) for (int i = 0; i < M; i++) q.fill(C, 0f, cOff + (long) i * ldc, N);
            else if (beta != 1f) throw new IllegalArgumentException("K = 0 with beta != 0, 1");
            return;
        }
        if (cpuGemm != null && !transB) {
            cpuGemm.gemm(transA, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
            return;
        }
        args.of(gemmTiled)
                .i32(transA ? 1 : 0)
                .i32(transB ? 1 : 0)
                .i32(M)
                .i32(N)
                .i32(K)
                .f32(alpha)
                .mem(A, aOff)
                .i32(lda)
                .mem(B, bOff)
                .i32(ldb)
                .f32(beta)
                .mem(C, cOff)
                .i32(ldc)
                .run("gemm_tiled", new long[] {(N + 63) / 64 * 16L, (M + 63) / 64 * 16L}, new long[] {16, 16});
    }

    /** dst [cols,rows] (=, contiguous) = src [rows,cols]^T (contiguous). */
    void transpose(ClBuffer src, int srcOff, int rows, int cols, ClBuffer dst, int dstOff) {
        if (rows <= 0 || cols <= 0) return;
        args.of(transpose)
                .mem(src, srcOff)
                .i32(rows)
                .i32(cols)
                .mem(dst, dstOff)
                .run("transpose", new long[] {cols, (rows + 15) / 16}, new long[] {16, 1});
    }

    // ================================================================== dropout

    /** y [n] (=) x * inverted-dropout mask of (seed, iteration, layer, first + i); y may alias x. */
    void dropoutForward(
            ClBuffer x, int xOff, ClBuffer y, int yOff, int n, int first, int seed, int iteration, int layer, float p) {
        args.of(dropoutForward)
                .mem(x, xOff)
                .mem(y, yOff)
                .i32(n)
                .i32(first)
                .i32(seed)
                .i32(iteration)
                .i32(layer)
                .f32(p)
                .run1("dropout_forward", n);
    }

    /** dx [n] (=) dy * the same mask; dx may alias dy. */
    void dropoutBackward(
            ClBuffer dy,
            int dyOff,
            ClBuffer dx,
            int dxOff,
            int n,
            int first,
            int seed,
            int iteration,
            int layer,
            float p) {
        args.of(dropoutBackward)
                .mem(dy, dyOff)
                .mem(dx, dxOff)
                .i32(n)
                .i32(first)
                .i32(seed)
                .i32(iteration)
                .i32(layer)
                .f32(p)
                .run1("dropout_backward", n);
    }

    // ================================================================== loss and reductions

    /**
     * Softmax cross-entropy over logits [N,V] + bias: rowLoss [N] (=) and, if {@code writeGrad}, the
     * scaled gradient in place of the logits.
     */
    void softmaxXent(
            ClBuffer logits,
            int lOff,
            ClBuffer bias,
            int bOff,
            ClBuffer y,
            ClBuffer rowLoss,
            int N,
            int V,
            float gradScale,
            boolean writeGrad) {
        if (N <= 0) return;
        boolean rows = q.variant == ClQueue.Variant.CPU;
        ClArgs a = args.of(rows ? softmaxXentRows : softmaxXent)
                .mem(logits, lOff)
                .mem(bias, bOff)
                .mem(y)
                .mem(rowLoss)
                .i32(N)
                .i32(V)
                .f32(gradScale)
                .i32(writeGrad ? 1 : 0);
        if (rows) a.run("softmax_xent_rows", new long[] {N}, new long[] {16});
        else a.run("softmax_xent", new long[] {(long) N * q.reduceLocal}, new long[] {q.reduceLocal});
    }

    /** w [N] (=) 0 where y[n] == ignore, else 1. */
    void targetWeights(ClBuffer y, int N, int ignore, ClBuffer w) {
        args.of(targetWeights).mem(y).i32(N).i32(ignore).mem(w).run1("target_weights", N);
    }

    /** rowLoss [N] (=) 0 where w[n] = 0; with writeGrad grad [N,V] (=) 0 there, grad / max(count, 1) elsewhere. */
    void maskXent(
            ClBuffer grad, int gOff, ClBuffer rowLoss, ClBuffer w, ClBuffer count, int N, int V, boolean writeGrad) {
        args.of(maskXent)
                .mem(grad, gOff)
                .mem(rowLoss)
                .mem(w)
                .mem(count)
                .i32(N)
                .i32(V)
                .i32(writeGrad ? 1 : 0)
                .run1("mask_xent", (long) N * V);
    }

    /** out [C] = beta out + column sums of a [N,C], in a fixed order (beta = 0: =). */
    void columnSum(ClBuffer a, int aOff, ClBuffer out, int outOff, int N, int C, float beta) {
        if (C <= 0) return;
        if (q.variant == ClQueue.Variant.CPU) {
            args.of(columnSumVec128)
                    .mem(a, aOff)
                    .mem(out, outOff)
                    .i32(N)
                    .i32(C)
                    .f32(beta)
                    .run("column_sum_vec128", new long[] {(C + 127) / 128}, new long[] {1});
        } else {
            args.of(columnSum)
                    .mem(a, aOff)
                    .mem(out, outOff)
                    .i32(N)
                    .i32(C)
                    .f32(beta)
                    .run(
                            "column_sum",
                            new long[] {(long) ((C + COL_WIDTH - 1) / COL_WIDTH) * COL_WIDTH, COL_LANES},
                            new long[] {COL_WIDTH, COL_LANES});
        }
    }

    /** partial [groups] (=) each work-group's sum of g[i]^2, a fixed tree per group. */
    void sumSquaresPartial(ClBuffer g, int gOff, int n, ClBuffer partial, int groups) {
        args.of(sumSquaresPartial)
                .mem(g, gOff)
                .i32(n)
                .mem(partial)
                .run("sum_squares_partial", new long[] {(long) groups * q.reduceLocal}, new long[] {q.reduceLocal});
    }

    /** out [1] (=) sum of a [n] (or its square root); one work-group. */
    void sumFinal(ClBuffer a, int n, ClBuffer out, boolean takeSqrt) {
        args.of(sumFinal)
                .mem(a)
                .i32(n)
                .mem(out)
                .i32(takeSqrt ? 1 : 0)
                .run("sum_final", new long[] {q.reduceLocal}, new long[] {q.reduceLocal});
    }

    /** g [n] (=) clamp(g, -max, max) in place; untouched when norm [1] is not finite. */
    void clipValue(ClBuffer g, int gOff, int n, float max, ClBuffer norm) {
        args.of(clipValue).mem(g, gOff).i32(n).f32(max).mem(norm).run1("clip_value", n);
    }

    // ================================================================== fused optimizers

    /** p, m, v [n] updated in place by Adam from g [n], NORM-clipped against norm [1]; skipped when norm is not finite. */
    void adamStep(
            ClBuffer p,
            ClBuffer g,
            ClBuffer m,
            ClBuffer v,
            int n,
            ClBuffer norm,
            int clipMode,
            float clipMax,
            float lr,
            float beta1,
            float beta2,
            float eps,
            float weightDecay,
            float bc1,
            float bc2) {
        args.of(adam)
                .mem(p, 0)
                .mem(g, 0)
                .mem(m, 0)
                .mem(v, 0)
                .i32(n)
                .mem(norm)
                .i32(clipMode)
                .f32(clipMax)
                .f32(lr)
                .f32(beta1)
                .f32(beta2)
                .f32(eps)
                .f32(weightDecay)
                .f32(bc1)
                .f32(bc2)
                .run1("adam_step", n);
    }

    /** p, s [n] updated in place by char-rnn's RMSprop (as {@link #adamStep}). */
    void rmspropStep(
            ClBuffer p,
            ClBuffer g,
            ClBuffer s,
            int n,
            ClBuffer norm,
            int clipMode,
            float clipMax,
            float lr,
            float decay,
            float eps,
            float weightDecay) {
        args.of(rmsprop)
                .mem(p, 0)
                .mem(g, 0)
                .mem(s, 0)
                .i32(n)
                .mem(norm)
                .i32(clipMode)
                .f32(clipMax)
                .f32(lr)
                .f32(decay)
                .f32(eps)
                .f32(weightDecay)
                .run1("rmsprop_step", n);
    }

    /** p, s [n] updated in place by Adagrad (as {@link #adamStep}). */
    void adagradStep(
            ClBuffer p,
            ClBuffer g,
            ClBuffer s,
            int n,
            ClBuffer norm,
            int clipMode,
            float clipMax,
            float lr,
            float eps,
            float weightDecay) {
        args.of(adagrad)
                .mem(p, 0)
                .mem(g, 0)
                .mem(s, 0)
                .i32(n)
                .mem(norm)
                .i32(clipMode)
                .f32(clipMax)
                .f32(lr)
                .f32(eps)
                .f32(weightDecay)
                .run1("adagrad_step", n);
    }

    /** p, u [n] updated in place by SGD with momentum (as {@link #adamStep}). */
    void sgdStep(
            ClBuffer p,
            ClBuffer g,
            ClBuffer u,
            int n,
            ClBuffer norm,
            int clipMode,
            float clipMax,
            float lr,
            float momentum,
            float weightDecay) {
        args.of(sgd)
                .mem(p, 0)
                .mem(g, 0)
                .mem(u, 0)
                .i32(n)
                .mem(norm)
                .i32(clipMode)
                .f32(clipMax)
                .f32(lr)
                .f32(momentum)
                .f32(weightDecay)
                .run1("sgd_step", n);
    }

    /** The CPU variant's GEMM kernels (null in the GPU variant). */
    ClGemm cpuGemm() {
        return cpuGemm;
    }

    @Override
    public void close() {
        args.releaseKernels();
        if (cpuGemm != null) cpuGemm.close();
    }
}
