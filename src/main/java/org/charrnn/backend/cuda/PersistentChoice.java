package org.charrnn.backend.cuda;

import java.util.function.ToDoubleFunction;
import org.charrnn.model.CellType;

/**
 * What a batch size runs ({@link PersistentRnn} keeps one per B): which passes run persistent,
 * whether a persistent backward is the row-stationary kernel (LSTM, GRU: {@link RowsPlan}), the
 * units U of each block of both passes (ceil(H / U) blocks), and the line that says why; and how
 * auto and a forced run pick them by {@link RnnCostModel}.
 *
 * @param forward the forward pass runs as one persistent launch per layer
 * @param backward the backward pass does
 * @param rows a persistent backward is the row-stationary kernel
 * @param units U, at least ceil(H / SMs)
 * @param line the log line with the model's estimates ("" for a forced run without them)
 */
record PersistentChoice(boolean forward, boolean backward, boolean rows, int units, String line) {

    /**
     * Auto's choice for a cell at hidden size H and batch B on a device: each pass persistent where
     * the block fits and the cost model predicts it faster; the line gives both estimates.
     */
    static PersistentChoice decide(RnnCostModel.Device d, CellType cell, int H, int B) {
        return decide(d, cell, H, B, ProductArithmetic.FP32);
    }

    /**
     * As {@link #decide(RnnCostModel.Device, CellType, int, int)} with products in arithmetic
     * {@code a}, over every block count of {@link RnnCostModel#blockCounts}: the one whose passes,
     * each persistent or stepwise as predicted faster, take the least time together (ties: the
     * fewest units). The line names the units where they are not the fewest.
     */
    static PersistentChoice decide(RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a) {
        RnnCostModel.Device best = cheapest(
                d,
                H,
                dp -> chosenUs(RnnCostModel.forward(dp, cell, H, B, a))
                        + chosenUs(RnnCostModel.backward(dp, cell, H, B, a)));
        RnnCostModel.Estimate f = RnnCostModel.forward(best, cell, H, B, a);
        RnnCostModel.Estimate b = RnnCostModel.backward(best, cell, H, B, a);
        int u = RnnCostModel.units(H, best.maxBlocks());
        String line =
                "rnn kernel at batch size " + B + " (cost model, " + d + "): " + blocks(d, H, u) + estimates(f, b);
        return new PersistentChoice(f.persistent(), b.persistent(), b.persistent() && b.rows(), u, line);
    }

    /**
     * A forced persistent run's units per block at batch B: of {@link RnnCostModel#blockCounts}
     * whose forward block fits, the one with the least predicted time for both passes persistent
     * (ties: the fewest units); the fewest where none fits (the caller then says why).
     */
    static int forcedUnits(RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a) {
        RnnCostModel.Device best = cheapest(d, H, dp -> {
            RnnCostModel.Estimate f = RnnCostModel.forward(dp, cell, H, B, a);
            return f.fits()
                    ? f.persistentUs()
                            + RnnCostModel.backward(dp, cell, H, B, a).persistentUs()
                    : Double.POSITIVE_INFINITY;
        });
        return RnnCostModel.units(H, best.maxBlocks());
    }

    /**
     * Device d limited to the block count of {@link RnnCostModel#blockCounts} with the least {@code
     * us} (ties: the fewest units); d itself, the fewest units, where every count costs infinity.
     */
    private static RnnCostModel.Device cheapest(
            RnnCostModel.Device d, int H, ToDoubleFunction<RnnCostModel.Device> us) {
        RnnCostModel.Device best = d;
        double bestUs = Double.POSITIVE_INFINITY;
        for (int p : RnnCostModel.blockCounts(H, d.sms())) { // the fewest units first
            RnnCostModel.Device dp = d.withBlocks(p);
            double v = us.applyAsDouble(dp);
            if (v < bestUs) {
                best = dp;
                bestUs = v;
            }
        }
        return best;
    }

    /**
     * Forced persistent's log line at batch B with blocks of u units: the model's estimates, to set
     * beside what the kernels take.
     */
    static String forcedLine(RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, int u) {
        RnnCostModel.Device dp = d.withBlocks((H + u - 1) / u);
        return "rnn kernel at batch size " + B + ": persistent, forced (cost model, " + d + ": " + blocks(d, H, u)
                + estimates(RnnCostModel.forward(dp, cell, H, B, a), RnnCostModel.backward(dp, cell, H, B, a)) + ")";
    }

    /** "4 units a block (64 blocks): " where u is not the fewest units on device d, else "". */
    private static String blocks(RnnCostModel.Device d, int H, int u) {
        return u == RnnCostModel.units(H, d.sms()) ? "" : u + " units a block (" + (H + u - 1) / u + " blocks): ";
    }

    /** What auto's pass takes per layer-step: the persistent estimate where it runs persistent. */
    private static double chosenUs(RnnCostModel.Estimate e) {
        return e.persistent() ? e.persistentUs() : e.stepwiseUs();
    }

    /** "forward persistent 4.3 µs vs stepwise 5.4 µs, backward ... per layer-step": both passes' estimates. */
    private static String estimates(RnnCostModel.Estimate forward, RnnCostModel.Estimate backward) {
        return "forward " + forward.describe() + ", backward " + backward.describe() + " per layer-step";
    }
}
