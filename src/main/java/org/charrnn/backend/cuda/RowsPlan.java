package org.charrnn.backend.cuda;

/**
 * The row-stationary backward's layout (kernels/cuda/persistent_rows.cuh, {@code cr_rows_plan} and
 * {@code persistent_rows_shared_bytes}, which this must match exactly): a block keeps the forward's
 * slice of W_hh (its G U gate rows of H elements), its rows of dgates[t] ([R][BP] floats), the
 * shares of ND blocks at a time ([ND][B][U] floats: the scatter's for ND destinations, the gather's
 * from ND writers) and the gather's sums ([B][U] floats), and the blocks of each batch group
 * exchange their shares of dh_next through a [2][NG][P][P][B][U] float buffer in device memory. B
 * is the rows of one batch group of the launch (ceil(B / NG) of the window's B; all of them in one
 * group).
 *
 * @param rows         R = G U: the block's gate rows
 * @param batch        B: one batch group's rows
 * @param batchPad     BP: B rounded up to 4
 * @param hidden       H
 * @param units        U: units per block
 * @param blocks       P = ceil(H / U)
 * @param destinations ND: blocks whose shares are staged at a time (scatter and gather alike)
 * @param arithmetic   the products' operands (the slice is bf16 at bf16, else fp32)
 */
record RowsPlan(
        int rows,
        int batch,
        int batchPad,
        int hidden,
        int units,
        int blocks,
        int destinations,
        ProductArithmetic arithmetic) {
    /** CR_ROWS_STAGE_FLOATS: floats of o. */
    static final int STAGE_FLOATS = 2 * PersistentPlan.STAGE_FLOATS;

    /** cr_rows_plan(G, U, H, B, prec). */
    static RowsPlan of(int gates, int units, int hidden, int batch, ProductArithmetic a) {
        int p = (hidden + units - 1) / units;
        long nd = STAGE_FLOATS / ((long) batch * units);
        int destinations = (int) Math.max(1, Math.min(p, nd));
        return new RowsPlan(gates * units, batch, (batch + 3) / 4 * 4, hidden, units, p, destinations, a);
    }

    /** persistent_rows_shared_bytes: the slice padded to 16 bytes, then dg, o and carry (padded to 4 floats). */
    long bytes() {
        long w = ((long) rows * hidden * arithmetic.elemBytes + 15) / 16 * 16;
        long dg = (long) rows * batchPad;
        long o = ((long) destinations * batch * units + 3) / 4 * 4;
        long carry = ((long) batch * units + 3) / 4 * 4;
        return w + 4L * (dg + o + carry);
    }

    /**
     * persistent_rows_exchange_floats(U, H, B, NG) of a launch in NG = {@code groups} batch groups of
     * this plan's rows each: the two slots of every group's blocks' shares for its every block.
     */
    long exchangeFloats(int groups) {
        return 2L * groups * blocks * blocks * batch * units;
    }

    /**
     * Bytes of the exchange buffer of the grid layout's row-stationary backward at batch B in G =
     * {@code groups} batch groups of ceil(B / G) rows (PersistentRnn's, which the step cost model's
     * trace holds as well).
     */
    static long exchangeBytes(int gates, int units, int hidden, int batch, int groups, ProductArithmetic a) {
        return 4L * of(gates, units, hidden, (batch + groups - 1) / groups, a).exchangeFloats(groups);
    }

    /** Tiles of ND blocks a step's scatter stages and writes out, and its gather reads and stages. */
    int tiles() {
        return (blocks + destinations - 1) / destinations;
    }
}
