package org.charrnn.backend.cuda;

/**
 * How a block of a persistent kernel computes its R x B products of length K per timestep, and
 * the dynamic shared memory that takes: the host's copy of {@code cr_persistent_plan} and {@code
 * persistent_shared_bytes} (kernels/cuda/persistent_common.cuh), which it must match exactly. The
 * block keeps a (its W_hh slice, R rows of a stride of elements, fp32 or at bf16 bf16), x (one
 * k-tile of the right-hand side) and acc (the products, RP x BP x S partial sums) in shared memory.
 * FMA plan: x is [KT][XS] floats, register tiles of {@link #TILE_ROWS} x {@link #TILE_BATCH}, S
 * lanes per tile. Tensor-core plan ({@link ProductArithmetic#mma}): a and x hold 32-bit words, x
 * is [BP][XS] words, tiles of {@link #MMA_ROWS} rows of a x {@link #MMA_BATCH} rows b (or the other
 * way round, {@link #transposed}), S warps per tile.
 *
 * @param rows       R: G U rows forward, U backward
 * @param k          K: H forward, G H backward
 * @param batch      B
 * @param rowsPad    RP: R rounded up to the tile's rows
 * @param batchPad   BP: B rounded up to the tile's batch rows
 * @param stride     XS: x's row stride (floats or words), a little more than a row so lanes spread over banks
 * @param tile       KT: elements of k staged at a time (all of K, rounded up to the mma's k-step, when they fit)
 * @param lanes      S: threads (FMA) or warps (mma) that split k of one tile (a power of two)
 * @param aStride    AS: a's row stride in elements (K for the FMA plan)
 * @param arithmetic the products' arithmetic
 * @param vectorX    vx: the FMA product reads x in the vector layout (CR_PREC_VECTOR_X: x[k XS +
 *     b], a thread's TILE_BATCH rows b one 16-byte load, XS a multiple of 4), else the strided one
 *     (persistent_fma.cuh's CrXLayout); false for the mma plan
 */
record PersistentPlan(
        int rows,
        int k,
        int batch,
        int rowsPad,
        int batchPad,
        int stride,
        int tile,
        int lanes,
        int aStride,
        ProductArithmetic arithmetic,
        boolean vectorX) {
    /** CR_PERSISTENT_STAGE_FLOATS: floats of one x tile. */
    static final int STAGE_FLOATS = 8192;
    /** CR_PERSISTENT_RR, CR_PERSISTENT_RB: a thread's register tile, rows of a by rows b. */
    static final int TILE_ROWS = 4, TILE_BATCH = 4;
    /** CR_PERSISTENT_MAX_LANES. */
    static final int MAX_LANES = 32;
    /** CR_MMA_M, CR_MMA_N, CR_MMA_KW: an mma's tile, and the 32-bit words of one k-step. */
    static final int MMA_ROWS = 16, MMA_BATCH = 8, MMA_WORDS = 8;
    /** CR_WARPS. */
    static final int WARPS = Kernels.BLOCK / 32;
    /** CR_MMA_ASTEPS: the most k-steps of a warp's fragments of a that stay in its registers. */
    static final int MMA_ASTEPS = 16;
    /** CR_FMA_KSTEPS: the most k of a thread's TILE_ROWS rows of a that stay in its registers (the same 128). */
    static final int FMA_KSTEPS = MMA_ASTEPS * 2 * 4 / TILE_ROWS;

    /** cr_persistent_plan(R, K, B, prec), prec with CR_PREC_VECTOR_X where {@code vectorX}. */
    static PersistentPlan of(int rows, int k, int batch, ProductArithmetic a, boolean vectorX) {
        if (a.mma) return mma(rows, k, batch, a);
        int rp = ceil(rows, TILE_ROWS) * TILE_ROWS, bp = ceil(batch, TILE_BATCH) * TILE_BATCH;
        long items = (long) (rp / TILE_ROWS) * (bp / TILE_BATCH);
        int s = 1;
        while (s < MAX_LANES && items * s * 2 <= Kernels.BLOCK) s *= 2;
        int m = vectorX ? Math.max(4, 32 / s) : 32 / s; // a warp's words (chunks of 4) of one row k
        int xs = s == 1 ? bp : bp + (m - bp % (2 * m) + 2 * m) % (2 * m);
        int kt = (long) xs * k <= STAGE_FLOATS ? k : Math.max(1, STAGE_FLOATS / xs);
        return new PersistentPlan(rows, k, batch, rp, bp, xs, kt, s, k, a, vectorX);
    }

    /** cr_persistent_plan_mma. */
    private static PersistentPlan mma(int rows, int k, int batch, ProductArithmetic a) {
        int perWord = 4 / a.elemBytes, words = ceil(k, MMA_WORDS * perWord) * MMA_WORDS;
        boolean t = transposed(rows, batch);
        int mr = t ? MMA_BATCH : MMA_ROWS, mb = t ? MMA_ROWS : MMA_BATCH;
        int rp = ceil(rows, mr) * mr, bp = ceil(batch, mb) * mb;
        int tile = STAGE_FLOATS / bp; // rows b of that many words, their padding on top
        tile = Math.min(words, tile < MMA_WORDS ? MMA_WORDS : tile / MMA_WORDS * MMA_WORDS);
        int groups = groups(rp / mr, bp / mb), s = 1;
        while (s < WARPS && groups * s * 2 <= WARPS) s *= 2;
        return new PersistentPlan(rows, k, batch, rp, bp, tile + 4, tile * perWord, s, (words + 4) * perWord, a, false);
    }

    /** CR_MMA_GROUP: a warp's group of tiles is up to this many tiles of a by as many of b. */
    static final int MMA_GROUP = 2;

    /** cr_mma_group_side: the tiles of a warp's group along a side of {@code tiles} tiles. */
    static int groupSide(int tiles) {
        return Math.min(tiles, MMA_GROUP);
    }

    /** cr_mma_groups: the warps' groups over an {@code rt} x {@code nt} grid of tiles (the last ones ragged). */
    static int groups(int rt, int nt) {
        return ceil(rt, groupSide(rt)) * ceil(nt, groupSide(nt));
    }

    /**
     * The mma plan's swap: tiles of 16 rows b by 8 rows of a where that takes fewer tiles than 16
     * rows of a by 8 rows b (a block's few units backward).
     */
    static boolean transposed(int rows, int batch) {
        return ceil(batch, MMA_ROWS) * ceil(rows, MMA_BATCH) < ceil(rows, MMA_ROWS) * ceil(batch, MMA_BATCH);
    }

    /**
     * The forward pass's plan: the G gate rows of each of U units against h_{t-1}; x in the vector
     * layout for the LSTM and the GRU (cr_forward_x_prec), the strided one for the RNN.
     */
    static PersistentPlan forward(int gates, int units, int hidden, int batch, ProductArithmetic a) {
        return of(gates * units, hidden, batch, a, gates > 1);
    }

    /** The column-stationary backward's plan: U columns of W_hh (all G H rows) against dgates[t], x strided. */
    static PersistentPlan backward(int gates, int units, int hidden, int batch, ProductArithmetic a) {
        return of(units, gates * hidden, batch, a, false);
    }

    /** The mma plan's tiles along a's rows and along b (16 x 8 tiles, or 8 x 16 transposed). */
    int[] mmaTiles() {
        boolean t = transposed(rows, batch);
        return new int[] {rowsPad / (t ? MMA_BATCH : MMA_ROWS), batchPad / (t ? MMA_ROWS : MMA_BATCH)};
    }

    /** Tiles of the block before the lanes (or warps) split them: register tiles, or the mma's 16 x 8. */
    long items() {
        if (!arithmetic.mma) return (long) (rowsPad / TILE_ROWS) * (batchPad / TILE_BATCH);
        return (long) rowsPad * batchPad / (MMA_ROWS * MMA_BATCH);
    }

    /**
     * CrPersistentPlan.resident (without CR_PREC_SHARED_A): each thread keeps its part of a in its
     * registers for the whole launch, where the plan is one k-tile and the tensor-core plan gives a
     * warp at most one group of tiles and at most {@link #MMA_ASTEPS} of the k-steps, the FMA plan a
     * thread at most one item (register tile and lane) and at most {@link #FMA_KSTEPS} of the k.
     */
    boolean resident() {
        if (tile < k) return false;
        if (!arithmetic.mma) return items() * lanes <= Kernels.BLOCK && ceil(k, lanes) <= FMA_KSTEPS;
        int[] t = mmaTiles();
        int steps = ceil(k, MMA_WORDS * (4 / arithmetic.elemBytes));
        return groups(t[0], t[1]) <= WARPS && ceil(steps, lanes) <= MMA_ASTEPS;
    }

    /**
     * cr_persistent_half_fits: this plan's part of a fits in half of a thread's resident registers
     * (a second resident plan beside it, the RNN pair's backward): as {@link #resident} with half
     * the k-steps (mma) or k (FMA).
     */
    boolean halfFits() {
        if (tile < k) return false;
        if (!arithmetic.mma) return items() * lanes <= Kernels.BLOCK && ceil(k, lanes) <= FMA_KSTEPS / 2;
        int[] t = mmaTiles();
        int steps = ceil(k, MMA_WORDS * (4 / arithmetic.elemBytes));
        return groups(t[0], t[1]) <= WARPS && ceil(steps, lanes) <= MMA_ASTEPS / 2;
    }

    /** k-tiles per step. */
    int tiles() {
        return ceil(k, tile);
    }

    /** Dynamic shared memory of this plan: a (R x AS elements) padded to 16 bytes, x to 4 floats, then acc. */
    long bytes() {
        return bytes(false);
    }

    /**
     * Whether the plan can take the cluster layout's exchange ({@link Exchange}, the plan's {@code
     * exchange}): its right-hand side in one k-tile.
     */
    boolean exchangeable() {
        return tile >= k;
    }

    /** {@link #bytes()}, with two x buffers where {@code exchange} and the plan is {@link #exchangeable}. */
    long bytes(boolean exchange) {
        long a = ((long) rows * aStride * arithmetic.elemBytes + 15) / 16 * 16;
        long x = ((long) (arithmetic.mma ? batchPad : tile) * stride + 3) / 4 * 4;
        return a + 4L * (x * (exchange && exchangeable() ? 2 : 1) + (long) rowsPad * batchPad * lanes);
    }

    /** persistent_shared_bytes(G, U, H, B, prec): what a launch of either pass gets, the larger plan's. */
    static long sharedBytes(int gates, int units, int hidden, int batch, ProductArithmetic a) {
        return sharedBytes(gates, units, hidden, batch, a, Exchange.NONE);
    }

    /**
     * As {@link #sharedBytes(int, int, int, int, ProductArithmetic)} with the passes of {@code x}
     * exchanging (persistent_shared_bytes with CR_PREC_EXCHANGE gives both passes' plans two buffers:
     * the same where both exchange).
     */
    static long sharedBytes(int gates, int units, int hidden, int batch, ProductArithmetic a, Exchange x) {
        return Math.max(
                forward(gates, units, hidden, batch, a).bytes(x.forward()),
                backward(gates, units, hidden, batch, a).bytes(x.backward()));
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }
}
