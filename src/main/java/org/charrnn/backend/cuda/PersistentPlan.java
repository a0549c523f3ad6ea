package org.charrnn.backend.cuda;

import org.charrnn.backend.Precision;

/**
 * How a block of a persistent kernel computes its R x B products of length K per timestep, and
 * the dynamic shared memory that takes: the host's copy of {@code cr_persistent_plan} and {@code
 * persistent_shared_bytes} (kernels/cuda/persistent_common.cuh), which it must match exactly. The
 * block keeps a (its W_hh slice, R x K, fp32 or at bf16 precision bf16), x (one k-tile of the
 * right-hand side, KT x BP) and acc (the products, RP x BP x S partial sums) in shared memory.
 *
 * @param rows      R: G U rows forward, U backward
 * @param k         K: H forward, G H backward
 * @param batch     B
 * @param rowsPad   RP: R rounded up to the register tile's {@link #TILE_ROWS}
 * @param batchPad  BP: B rounded up to the register tile's {@link #TILE_BATCH}
 * @param stride    XS: x's row stride, BP or (with S lanes) a little more to spread them over banks
 * @param tile      KT: columns of the right-hand side staged at a time (K when all fit)
 * @param lanes     S: threads that split k of one register tile (a power of two)
 * @param elem      bytes of one element of a: 4, or 2 at bf16 precision ({@link #elemBytes})
 */
record PersistentPlan(
        int rows, int k, int batch, int rowsPad, int batchPad, int stride, int tile, int lanes, int elem) {
    /** CR_PERSISTENT_STAGE_FLOATS: floats of one x tile. */
    static final int STAGE_FLOATS = 8192;
    /** CR_PERSISTENT_RR, CR_PERSISTENT_RB: a thread's register tile, rows of a by rows b. */
    static final int TILE_ROWS = 4, TILE_BATCH = 4;
    /** CR_PERSISTENT_MAX_LANES. */
    static final int MAX_LANES = 32;

    /** cr_persistent_elem: bytes of an element of the W_hh slice at precision {@code p}. */
    static int elemBytes(Precision p) {
        return p == Precision.BF16 ? 2 : 4;
    }

    /** The kernels' {@code prec} argument (CR_PREC_FP32, _TF32, _BF16) for precision {@code p}. */
    static int kernelPrecision(Precision p) {
        return switch (p) {
            case FP32, FP64 -> 0;
            case TF32 -> 1;
            case BF16 -> 2;
        };
    }

    static PersistentPlan of(int rows, int k, int batch, int elem) {
        int rp = ceil(rows, TILE_ROWS) * TILE_ROWS, bp = ceil(batch, TILE_BATCH) * TILE_BATCH;
        long items = (long) (rp / TILE_ROWS) * (bp / TILE_BATCH);
        int s = 1;
        while (s < MAX_LANES && items * s * 2 <= Kernels.BLOCK) s *= 2;
        int m = 32 / s;
        int xs = s == 1 ? bp : bp + (m - bp % (2 * m) + 2 * m) % (2 * m);
        int kt = (long) xs * k <= STAGE_FLOATS ? k : Math.max(1, STAGE_FLOATS / xs);
        return new PersistentPlan(rows, k, batch, rp, bp, xs, kt, s, elem);
    }

    /** The forward pass's plan: the G gate rows of each of U units against h_{t-1}. */
    static PersistentPlan forward(int gates, int units, int hidden, int batch, int elem) {
        return of(gates * units, hidden, batch, elem);
    }

    /** The backward pass's plan: U columns of W_hh (all G H rows) against dgates[t]. */
    static PersistentPlan backward(int gates, int units, int hidden, int batch, int elem) {
        return of(units, gates * hidden, batch, elem);
    }

    /** Register tiles of the block (work items before the lanes split them). */
    long items() {
        return (long) (rowsPad / TILE_ROWS) * (batchPad / TILE_BATCH);
    }

    /** k-tiles per step. */
    int tiles() {
        return ceil(k, tile);
    }

    /** Dynamic shared memory of this plan: a (R x K elements) padded to 16 bytes, x to 4 floats, then acc. */
    long bytes() {
        long a = ((long) rows * k * elem + 15) / 16 * 16, x = ((long) tile * stride + 3) / 4 * 4;
        return a + 4L * (x + (long) rowsPad * batchPad * lanes);
    }

    /** persistent_shared_bytes(G, U, H, B, prec): what a launch of either pass gets, the larger plan's. */
    static long sharedBytes(int gates, int units, int hidden, int batch, int elem) {
        return Math.max(
                forward(gates, units, hidden, batch, elem).bytes(),
                backward(gates, units, hidden, batch, elem).bytes());
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }
}
