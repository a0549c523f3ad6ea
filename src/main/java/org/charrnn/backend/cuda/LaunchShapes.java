package org.charrnn.backend.cuda;

/**
 * The host's copy of common.cuh's launch shapes that follow the problem's size: the reduction
 * kernels' blocks are no wider than the rows and columns they sum (a thread past them still takes
 * part in every barrier of the block's tree). {@link Kernels} launches with these;
 * LaunchShapesTest and the native harnesses pin the same values.
 */
final class LaunchShapes {
    static final int ROW_BLOCK = 256; // CR_ROW_BLOCK: the most threads of a softmax_xent block
    static final int ROW_VALUES_PER_THREAD = 4; // CR_ROW_VALUES_PER_THREAD: a row's values a thread, below the most
    static final int MAX_PARTIALS = 1024; // CR_MAX_PARTIALS: the most global_norm blocks
    static final long PARTIALS_BYTES = 4L * MAX_PARTIALS; // global_norm's partial sums, one float a block
    static final long TICKETS_BYTES = 4L * 2; // the last-block counters of the loss sum and the norm
    static final int NORM_PER_THREAD = 8; // CR_NORM_PER_THREAD: values a global_norm thread adds at least
    static final int COL_WIDTH = 32; // CR_COL_WIDTH: the most columns of a column-sum block
    static final int COL_LANES = 32; // CR_COL_LANES: its most row lanes
    static final int COL_ROWS_PER_LANE = 8; // CR_COL_ROWS_PER_LANE: rows a lane at least, below the most lanes
    static final int WAVE_THREADS_PER_SM = 2048; // CR_WAVE_THREADS_PER_SM: a grid-stride kernel's threads an SM

    private LaunchShapes() {}

    /** The threads of a softmax_xent block for rows of V values, one per ROW_VALUES_PER_THREAD: cr_row_block. */
    static int rowBlock(int V) {
        return pow2Between(((long) V + ROW_VALUES_PER_THREAD - 1) / ROW_VALUES_PER_THREAD, 32, ROW_BLOCK);
    }

    /** The columns of a column sum's block over C columns: cr_col_width. */
    static int colWidth(long C) {
        return pow2Between(C, 1, COL_WIDTH);
    }

    /** The row lanes of a column sum's block over N rows, one per COL_ROWS_PER_LANE rows: cr_col_lanes. */
    static int colLanes(long N) {
        return pow2Between((N + COL_ROWS_PER_LANE - 1) / COL_ROWS_PER_LANE, 1, COL_LANES);
    }

    /** A grid-stride kernel's most blocks on a device of {@code sms} SMs, one wave: cr_wave_blocks. */
    static int waveBlocks(int sms) {
        return Math.max(1, sms) * (WAVE_THREADS_PER_SM / Kernels.BLOCK);
    }

    /** global_norm's blocks (partial sums) for n values: cr_norm_partials. */
    static int partials(long n) {
        long perBlock = (long) NORM_PER_THREAD * Kernels.BLOCK;
        return (int) Math.max(1, Math.min(MAX_PARTIALS, (n + perBlock - 1) / perBlock));
    }

    /** The power of two at or above v, lo at least and hi at most: cr_pow2_between. */
    private static int pow2Between(long v, int lo, int hi) {
        int b = lo;
        while (b < v && b < hi) b *= 2;
        return b;
    }
}
