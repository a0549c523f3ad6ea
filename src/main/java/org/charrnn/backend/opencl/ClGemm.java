package org.charrnn.backend.opencl;

import org.jocl.cl_kernel;

/**
 * The CPU variant of the GEMM (gemm_cpu_r1 .. gemm_cpu_r12 of gemm.cl) for one queue: C [M,N] =
 * alpha op(A) B + beta C with B stored [K,N]. Each kernel keeps an RM x 32 block of C in registers;
 * {@link #rowBlock} picks RM from M, and {@link #kChunk} splits a long K of a transposed A into
 * launches whose slice of A stays in the core's cache.
 */
final class ClGemm implements AutoCloseable {
    /** The row counts RM of the kernels, largest first. */
    static final int[] ROW_BLOCKS = {12, 10, 8, 6, 4, 2, 1};

    /** Columns of C per work-item. */
    static final int COLS = 32;

    /**
     * Floats of op(A) and B that one launch of a transposed-A product may walk (1 MiB, half the
     * L2 of the CPUs measured): A stored [K,M] is read one line per k and row block, so a slice
     * much larger than the cache is fetched from memory again by every row block, at half the
     * speed (M=512 N=128 K=2500 on PoCL: 75 GFLOP/s in one launch, 140 in 512-k slices).
     */
    static final int CHUNK_FLOATS = 1 << 18;

    /** The smallest slice of K worth a launch of its own. */
    static final int MIN_CHUNK = 64;

    private final ClArgs args;
    private final cl_kernel[] kernels = new cl_kernel[ROW_BLOCKS.length];

    ClGemm(ClQueue q) {
        this.args = new ClArgs(q);
        try {
            for (int i = 0; i < ROW_BLOCKS.length; i++) kernels[i] = args.kernel(kernelName(ROW_BLOCKS[i]));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    static String kernelName(int rm) {
        return "gemm_cpu_r" + rm;
    }

    /**
     * The row count RM of the kernel for M rows: the one that wastes least, counting each block's
     * fixed cost (its loads of B) as two rows, ceil(M/RM) (RM + 2); never more than M (edge blocks
     * move back inside C, so the kernel needs M >= RM). Ties go to the larger block.
     */
    static int rowBlock(int M) {
        if (M < 1) throw new IllegalArgumentException("M = " + M);
        int best = 1;
        long bestCost = Long.MAX_VALUE;
        for (int rm : ROW_BLOCKS) {
            if (rm > M) continue;
            long cost = (long) ((M + rm - 1) / rm) * (rm + 2);
            if (cost < bestCost) {
                best = rm;
                bestCost = cost;
            }
        }
        return best;
    }

    /**
     * The slice of K per launch: all of K unless A is transposed and op(A) and B together exceed
     * {@link #CHUNK_FLOATS} floats; then K in near-equal slices of at most CHUNK_FLOATS / (M + N)
     * (at least {@link #MIN_CHUNK}).
     */
    static int kChunk(boolean transA, int M, int N, int K) {
        if (!transA) return K;
        long perK = (long) M + N;
        int limit = (int) Math.max(MIN_CHUNK, CHUNK_FLOATS / perK);
        if (K <= limit) return K;
        int slices = (K + limit - 1) / limit;
        return (K + slices - 1) / slices;
    }

    /** C = alpha op(A) B + beta C with the kernel and slice of K the choice functions give. */
    void gemm(
            boolean transA,
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
        gemm(
                rowBlock(M),
                kChunk(transA, M, N, K),
                transA,
                M,
                N,
                K,
                alpha,
                A,
                aOff,
                lda,
                B,
                bOff,
                ldb,
                beta,
                C,
                cOff,
                ldc);
    }

    /**
     * As {@link #gemm(boolean, int, int, int, float, ClBuffer, int, int, ClBuffer, int, int, float,
     * ClBuffer, int, int)} with the kernel of {@code rm} rows (one of {@link #ROW_BLOCKS}, at most M)
     * and launches of {@code chunk} values of k each: the first applies beta, the rest add to C.
     */
    void gemm(
            int rm,
            int chunk,
            boolean transA,
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
        int index = indexOf(rm);
        if (rm > M) throw new IllegalArgumentException("gemm_cpu_r" + rm + " needs M >= " + rm + ", got " + M);
        if (chunk < 1) throw new IllegalArgumentException("K slice " + chunk);
        String name = kernelName(rm);
        long[] global = {(N + COLS - 1) / COLS, (M + rm - 1) / rm};
        long[] local = {1, 1};
        for (int k0 = 0; k0 < K; k0 += chunk) {
            int kc = Math.min(chunk, K - k0);
            int aStart = Math.toIntExact(aOff + (long) k0 * (transA ? lda : 1));
            int bStart = Math.toIntExact(bOff + (long) k0 * ldb);
            args.of(kernels[index])
                    .i32(transA ? 1 : 0)
                    .i32(M)
                    .i32(N)
                    .i32(kc)
                    .f32(alpha)
                    .mem(A, aStart)
                    .i32(lda)
                    .mem(B, bStart)
                    .i32(ldb)
                    .f32(k0 == 0 ? beta : 1f)
                    .mem(C, cOff)
                    .i32(ldc)
                    .run(name, global, local);
        }
    }

    private static int indexOf(int rm) {
        for (int i = 0; i < ROW_BLOCKS.length; i++) if (ROW_BLOCKS[i] == rm) return i;
        throw new IllegalArgumentException("no gemm_cpu kernel with " + rm + " rows");
    }

    @Override
    public void close() {
        args.releaseKernels();
    }
}
