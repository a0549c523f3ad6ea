package org.charrnn.backend.opencl;

import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.device.Ref;
import org.charrnn.model.CellType;
import org.charrnn.util.UserError;
import org.jocl.cl_kernel;

/**
 * The whole-window recurrence kernels of window_cpu.cl for one queue: one launch per layer and
 * pass runs all T steps, each work-item owning {@link #rowsPerItem} batch rows, in place of a
 * recurrent GEMM and a cell kernel per step (about 50 us of host and runtime cost per command on
 * PoCL). Only the CPU variant runs them: they read the transposed weight copies that variant keeps,
 * and one work-item's serial loop over T suits a CPU core, not a GPU.
 *
 * <p>Every work-item reads all of W_hh at every step, so the launch has few work-items: {@link
 * #ITEMS_PER_THREAD} per thread of the device, enough to even out a thread that another process
 * delays. A work-item's GEMM walks its rows in sub-blocks of {@link #rowBlock} rows, the kernel's
 * register block.
 */
final class ClWindowKernels implements AutoCloseable {
    /** The largest register block of rows of the kernels (win_*_r1 .. win_*_r8). */
    static final int MAX_BLOCK = 8;

    /** Work-items per thread of the device (compute unit). */
    static final int ITEMS_PER_THREAD = 2;

    private static final String[] KINDS = {
        "lstm_forward", "lstm_backward", "gru_forward", "gru_backward", "rnn_forward", "rnn_backward"
    };

    private final ClArgs args;
    private final int computeUnits;
    /** [kind][block - 1], created at first use. */
    private final cl_kernel[][] kernels = new cl_kernel[KINDS.length][MAX_BLOCK];

    ClWindowKernels(ClQueue q, int computeUnits) {
        this.args = new ClArgs(q);
        this.computeUnits = Math.max(1, computeUnits);
    }

    /**
     * Why the recurrence runs stepwise on a queue of {@code variant} for {@code cell} under
     * {@code choice}; null when the window kernels run. {@link RnnKernel#PERSISTENT} that cannot
     * run is a {@link UserError} saying why.
     */
    static String stepwiseReason(RnnKernel choice, ClQueue.Variant variant, CellType cell) {
        if (choice == RnnKernel.STEPWISE) return "--rnn-kernel stepwise";
        String why = null;
        if (variant != ClQueue.Variant.CPU) why = "the window kernels are for CPU devices";
        else if (!hasKernel(cell)) why = "no window kernel for " + cell.id();
        if (why != null && choice == RnnKernel.PERSISTENT)
            throw UserError.naming("{BackendOptions.rnnKernel} persistent: " + why);
        return why;
    }

    static boolean hasKernel(CellType cell) {
        return cell == CellType.LSTM || cell == CellType.GRU || cell == CellType.RNN;
    }

    /** Rows per work-item for B rows on {@code units} threads: B over {@link #ITEMS_PER_THREAD} items a thread, rounded up. */
    static int rowsPerItem(int B, int units) {
        if (B < 1 || units < 1) throw new IllegalArgumentException("B = " + B + ", units = " + units);
        long items = Math.min(B, (long) units * ITEMS_PER_THREAD);
        return (int) ((B + items - 1) / items);
    }

    /**
     * The register block RB (1..{@link #MAX_BLOCK}, at most {@code rows}) for a work-item's rows:
     * the one that wastes least, counting each sub-block's fixed cost (its loads of the weights)
     * as two rows, ceil(rows/RB) (RB + 2), as {@link ClGemm#rowBlock}. Ties go to the larger block.
     */
    static int rowBlock(int rows) {
        if (rows < 1) throw new IllegalArgumentException("rows = " + rows);
        int best = 1;
        long bestCost = Long.MAX_VALUE;
        for (int rb = Math.min(MAX_BLOCK, rows); rb >= 1; rb--) {
            long cost = (long) ((rows + rb - 1) / rb) * (rb + 2);
            if (cost < bestCost) {
                best = rb;
                bestCost = cost;
            }
        }
        return best;
    }

    /** hs, cs [T+1,B,H] slots 1..T and gates [T,B,4H] (=); wT = W_hh^T [H,4H] at wOff, ld ldw. */
    void lstmForward(
            Ref gx, ClBuffer wT, int wOff, int ldw, Ref bih, Ref bhh, Ref hs, Ref cs, Ref gates, int T, int B, int H) {
        int rows = rowsPerItem(B, computeUnits);
        kernel(0, rows)
                .mem(gx)
                .mem(wT, wOff)
                .i32(ldw)
                .mem(bih)
                .mem(bhh)
                .mem(hs)
                .mem(cs)
                .mem(gates)
                .i32(T)
                .i32(B)
                .i32(H)
                .i32(rows);
        run(0, rows, B);
    }

    /** dgx [T,B,4H] (=); dhNext, dc [B,H] (=) dL/dh_{-1}, dL/dc_{-1}; w = W_hh [4H,H] at wOff, ld ldw. */
    void lstmBackward(
            Ref dhOut,
            ClBuffer w,
            int wOff,
            int ldw,
            Ref dhNext,
            Ref dc,
            Ref gates,
            Ref cs,
            Ref dgx,
            int T,
            int B,
            int H) {
        int rows = rowsPerItem(B, computeUnits);
        kernel(1, rows)
                .mem(dhOut)
                .mem(w, wOff)
                .i32(ldw)
                .mem(dhNext)
                .mem(dc)
                .mem(gates)
                .mem(cs)
                .mem(dgx)
                .i32(T)
                .i32(B)
                .i32(H)
                .i32(rows);
        run(1, rows, B);
    }

    /** hs slots 1..T and gates [T,B,4H] = r, z, n, gh_n + b_hn (=); wT = W_hh^T [H,3H]. */
    void gruForward(Ref gx, ClBuffer wT, int wOff, int ldw, Ref bih, Ref bhh, Ref hs, Ref gates, int T, int B, int H) {
        int rows = rowsPerItem(B, computeUnits);
        kernel(2, rows)
                .mem(gx)
                .mem(wT, wOff)
                .i32(ldw)
                .mem(bih)
                .mem(bhh)
                .mem(hs)
                .mem(gates)
                .i32(T)
                .i32(B)
                .i32(H)
                .i32(rows);
        run(2, rows, B);
    }

    /** dgx, dgh [T,B,3H] (=); dhNext [B,H] (=) dL/dh_{-1}; w = W_hh [3H,H]. */
    void gruBackward(
            Ref dhOut,
            ClBuffer w,
            int wOff,
            int ldw,
            Ref dhNext,
            Ref gates,
            Ref hs,
            Ref dgx,
            Ref dgh,
            int T,
            int B,
            int H) {
        int rows = rowsPerItem(B, computeUnits);
        kernel(3, rows)
                .mem(dhOut)
                .mem(w, wOff)
                .i32(ldw)
                .mem(dhNext)
                .mem(gates)
                .mem(hs)
                .mem(dgx)
                .mem(dgh)
                .i32(T)
                .i32(B)
                .i32(H)
                .i32(rows);
        run(3, rows, B);
    }

    /** hs slots 1..T (=); wT = W_hh^T [H,H]. */
    void rnnForward(Ref gx, ClBuffer wT, int wOff, int ldw, Ref bih, Ref bhh, Ref hs, int T, int B, int H) {
        int rows = rowsPerItem(B, computeUnits);
        kernel(4, rows)
                .mem(gx)
                .mem(wT, wOff)
                .i32(ldw)
                .mem(bih)
                .mem(bhh)
                .mem(hs)
                .i32(T)
                .i32(B)
                .i32(H)
                .i32(rows);
        run(4, rows, B);
    }

    /** dgx [T,B,H] (=); dhNext [B,H] (=) dL/dh_{-1}; w = W_hh [H,H]. */
    void rnnBackward(Ref dhOut, ClBuffer w, int wOff, int ldw, Ref dhNext, Ref hs, Ref dgx, int T, int B, int H) {
        int rows = rowsPerItem(B, computeUnits);
        kernel(5, rows)
                .mem(dhOut)
                .mem(w, wOff)
                .i32(ldw)
                .mem(dhNext)
                .mem(hs)
                .mem(dgx)
                .i32(T)
                .i32(B)
                .i32(H)
                .i32(rows);
        run(5, rows, B);
    }

    static String kernelName(int kind, int block) {
        return "win_" + KINDS[kind] + "_r" + block;
    }

    /** The kernel of {@code kind} with the register block for {@code rows} rows per work-item. */
    private ClArgs kernel(int kind, int rows) {
        int block = rowBlock(rows);
        cl_kernel k = kernels[kind][block - 1];
        if (k == null) {
            k = args.kernel(kernelName(kind, block));
            kernels[kind][block - 1] = k;
        }
        return args.of(k);
    }

    private void run(int kind, int rows, int B) {
        args.run(kernelName(kind, rowBlock(rows)), new long[] {(B + rows - 1) / rows}, new long[] {1});
    }

    @Override
    public void close() {
        args.releaseKernels();
    }
}
