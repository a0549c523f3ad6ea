package org.charrnn.backend.cuda;

/**
 * The cluster layout's row-stationary backward's layout (kernels/cuda/persistent_cluster_rows.cuh,
 * {@code cr_cluster_rows_plan} and {@code persistent_cluster_rows_shared_bytes}, which this must
 * match exactly): a block keeps the forward's slice of W_hh (its G U gate rows of H elements), its
 * dgates rows of the cluster's PB batch rows ([RP][BP] floats) and the shares of dh_next its
 * cluster's blocks store into it ([2][CLUSTER][PB][U] floats).
 *
 * @param rows R = G U: the block's gate rows
 * @param rowsPad RP: R rounded up to 8 on tensor cores (the mma's k-steps), else R
 * @param batch PB: the cluster's batch rows
 * @param batchPad BP: PB rounded up to 8 on tensor cores (the mma's 8 columns), else to 4
 * @param hidden H
 * @param units U: units per block
 * @param mma the scatter runs on tensor cores (TF32 only: bf16 multiplies in FMAs here)
 * @param arithmetic the products' operands (the slice is bf16 at bf16, else fp32)
 */
record ClusterRowsPlan(
        int rows,
        int rowsPad,
        int batch,
        int batchPad,
        int hidden,
        int units,
        boolean mma,
        ProductArithmetic arithmetic) {
    /** CR_ROWS_MMA_TILES: the mma tiles a warp runs at once, their chains interleaved. */
    static final int MMA_TILES = 4;

    /** cr_cluster_rows_plan(G, U, H, PB, prec). */
    static ClusterRowsPlan of(int gates, int units, int hidden, int batch, ProductArithmetic a) {
        boolean mma = a == ProductArithmetic.TF32_MMA;
        int r = gates * units;
        return new ClusterRowsPlan(
                r,
                mma ? (r + 7) / 8 * 8 : r,
                batch,
                mma ? (batch + 7) / 8 * 8 : (batch + 3) / 4 * 4,
                hidden,
                units,
                mma,
                a);
    }

    /** The tensor-core scatter's tiles (cr_cluster_rows_plan's tiles): 16 columns by 8 rows b each. */
    int tiles() {
        return (columns() + 15) / 16 * (batchPad / 8);
    }

    /** CR_ROWS_FMA_RESIDENT: the most rows of its column a thread of the FMA scatter keeps in registers. */
    static final int FMA_RESIDENT_ROWS = PersistentPlan.MMA_ASTEPS * PersistentPlan.MMA_GROUP * 4;

    /**
     * cr_cluster_rows_plan's resident (without CR_PREC_SHARED_A): the scatter keeps its part of the
     * slice in registers for the whole launch; on tensor cores each warp's A fragments, where a warp
     * has at most {@link PersistentPlan#MMA_GROUP} tiles and RP / 8 k-steps are at most {@link
     * PersistentPlan#MMA_ASTEPS}; with FMAs each thread's column of R rows, where every item (a
     * column and 4 rows b) has a thread and R is at most {@link #FMA_RESIDENT_ROWS}.
     */
    boolean resident() {
        if (!mma) return (long) columns() * (batchPad / 4) <= Kernels.BLOCK && rows <= FMA_RESIDENT_ROWS;
        return tiles() <= PersistentPlan.WARPS * PersistentPlan.MMA_GROUP && rowsPad / 8 <= PersistentPlan.MMA_ASTEPS;
    }

    /** The columns a block's scatter computes: every unit of the cluster's blocks, CLUSTER U. */
    int columns() {
        return Kernels.CLUSTER * units;
    }

    /** persistent_cluster_rows_shared_bytes: the slice padded to 16 bytes, then dg and in (padded to 4 floats). */
    long bytes() {
        long w = ((long) rows * hidden * arithmetic.elemBytes + 15) / 16 * 16;
        long dg = (long) rowsPad * batchPad;
        long in = (2L * Kernels.CLUSTER * batch * units + 3) / 4 * 4;
        return w + 4L * (dg + in);
    }
}
