package org.charrnn.backend.cuda;

import java.util.function.ToDoubleFunction;
import org.charrnn.model.CellType;

/**
 * What a batch size runs ({@link PersistentRnn} keeps one per B): which passes run persistent, in
 * which layout (persistent_layout.cuh: the grid's cooperative launch of G batch groups of ceil(H /
 * U) blocks, or C clusters of {@link Kernels#CLUSTER} blocks, each group or cluster its own rows of
 * the batch), whether a
 * persistent backward is the row-stationary kernel (LSTM, GRU: {@link RowsPlan} in the grid
 * layout, {@link ClusterRowsPlan} in the cluster layout), the units U of each block of both
 * passes, and the line that says why; and how auto and a forced run pick them by {@link
 * RnnCostModel}.
 *
 * @param forward the forward pass runs as one persistent launch per layer
 * @param backward the backward pass does
 * @param rows a persistent backward is the row-stationary kernel
 * @param units U: at least ceil(H / SMs) in the grid layout, ceil(H / CLUSTER) in the cluster layout
 * @param groups G, the grid layout's batch groups of its persistent passes; 1 in the cluster layout
 * @param clusters C, the clusters of the cluster layout; 0 for the grid layout
 * @param exchange the cluster layout's passes that exchange through distributed shared memory
 *     ({@link Exchange#NONE} in the grid layout)
 * @param line the log line with the model's estimates ("" for a forced run without them)
 */
record PersistentChoice(
        boolean forward,
        boolean backward,
        boolean rows,
        int units,
        int groups,
        int clusters,
        Exchange exchange,
        String line) {
    PersistentChoice {
        if (groups < 1 || (clusters > 0 && groups != 1))
            throw new IllegalArgumentException(
                    groups + " batch groups: at least 1 in the grid layout, 1 in the cluster layout");
    }

    /** A cluster-layout choice (or one of a single batch group in the grid layout). */
    PersistentChoice(
            boolean forward, boolean backward, boolean rows, int units, int clusters, Exchange exchange, String line) {
        this(forward, backward, rows, units, 1, clusters, exchange, line);
    }

    /** A grid-layout choice of one batch group, or a cluster-layout one without the exchange. */
    PersistentChoice(boolean forward, boolean backward, boolean rows, int units, int clusters, String line) {
        this(forward, backward, rows, units, 1, clusters, Exchange.NONE, line);
    }

    /** A grid-layout choice of {@code groups} batch groups. */
    static PersistentChoice grid(boolean forward, boolean backward, boolean rows, int units, int groups, String line) {
        return new PersistentChoice(forward, backward, rows, units, groups, 0, Exchange.NONE, line);
    }

    /** Device d as the grid layout of this choice runs on it: ceil(H / U) blocks a group, its groups. */
    RnnCostModel.Device gridOn(RnnCostModel.Device d, int H) {
        return d.withBlocks((H + units - 1) / units).withGroups(groups);
    }

    /**
     * Auto's choice for a cell at hidden size H and batch B on a device: each pass persistent where
     * the block fits and the cost model predicts it faster; the line gives both estimates.
     */
    static PersistentChoice decide(RnnCostModel.Device d, CellType cell, int H, int B) {
        return decide(d, cell, H, B, ProductArithmetic.FP32);
    }

    /**
     * As {@link #decide(RnnCostModel.Device, CellType, int, int)} with products in arithmetic
     * {@code a}, over every block count of {@link RnnCostModel#blockCounts} and batch groups of them
     * ({@link #cheapest}): the one whose passes, each persistent or stepwise as predicted faster,
     * take the least time together (ties: the fewest units, then the fewest groups). The line names
     * the units where they are not the fewest, and the groups where more than one.
     */
    static PersistentChoice decide(RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a) {
        return decide(d, cell, H, B, a, false);
    }

    /**
     * As {@link #decide(RnnCostModel.Device, CellType, int, int, ProductArithmetic)}, and where
     * {@code clusters} (the device runs the cluster kernels: sm_90 and newer) also the cluster layout
     * ({@link RnnCostModel#forwardCluster}, {@link RnnCostModel#backwardCluster}), each pass in it
     * persistent or stepwise as predicted faster: the layout whose two passes take the least time
     * (ties: the grid layout).
     */
    static PersistentChoice decide(
            RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, boolean clusters) {
        RnnCostModel.Device best = cheapest(
                d,
                H,
                B,
                dp -> chosenUs(RnnCostModel.forward(dp, cell, H, B, a))
                        + chosenUs(RnnCostModel.backward(dp, cell, H, B, a)));
        RnnCostModel.Estimate f = RnnCostModel.forward(best, cell, H, B, a);
        RnnCostModel.Estimate b = RnnCostModel.backward(best, cell, H, B, a);
        int u = RnnCostModel.units(H, best.maxBlocks());
        String head = "rnn kernel at batch size " + B + " (cost model, " + d + "): ";
        if (clusters) {
            RnnCostModel.Estimate fc = RnnCostModel.forwardCluster(d, cell, H, B, a);
            RnnCostModel.Estimate bc = RnnCostModel.backwardCluster(d, cell, H, B, a);
            if ((fc.persistent() || bc.persistent()) && chosenUs(fc) + chosenUs(bc) < chosenUs(f) + chosenUs(b))
                return new PersistentChoice(
                        fc.persistent(),
                        bc.persistent(),
                        bc.persistent() && bc.rows(),
                        RnnCostModel.clusterUnits(H),
                        fc.clusters(),
                        new Exchange(fc.persistent() && fc.exchange(), bc.persistent() && bc.exchange()),
                        head + clusterBlocks(H, fc.clusters()) + estimates(fc, bc));
        }
        if (!f.persistent() && !b.persistent())
            return grid(false, false, false, u, 1, head + stepwiseEstimates(d, cell, H, B, a, clusters));
        int groups = best.groupsAt(B);
        return grid(
                f.persistent(),
                b.persistent(),
                b.persistent() && b.rows(),
                u,
                groups,
                head + blocks(d, H, u, groups) + estimates(f, b));
    }

    /**
     * Where both passes run stepwise, their estimates beside the persistent ones of the layout a
     * forced persistent run would take ({@link #forcedGrid}, or the cluster layout where {@link
     * #forcedClusters} takes it), so that the line names the nearest alternative rather than any of
     * the tied ones: "forward stepwise 9.0 µs vs persistent 10.7 µs, backward ... per layer-step
     * (persistent in 4 batch groups of 32 blocks x 16 units)".
     */
    private static String stepwiseEstimates(
            RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, boolean clusters) {
        RnnCostModel.Device dp = forcedGrid(d, cell, H, B, a, 0);
        int c = clusters ? forcedClusters(d, cell, H, B, a, dp) : 0;
        if (c > 0)
            return estimates(
                            RnnCostModel.forwardCluster(d, cell, H, B, a),
                            RnnCostModel.backwardCluster(d, cell, H, B, a))
                    + " (persistent in " + layout(c, RnnCostModel.clusterUnits(H)) + ")";
        return estimates(RnnCostModel.forward(dp, cell, H, B, a), RnnCostModel.backward(dp, cell, H, B, a))
                + " (persistent in " + gridLayout(dp.groupsAt(B), H, RnnCostModel.units(H, dp.maxBlocks())) + ")";
    }

    /**
     * A forced persistent run's clusters at batch B where the device runs the cluster kernels: C of
     * {@link RnnCostModel#clusters} where the cluster layout's block fits and its two passes are
     * predicted faster than the grid layout's on {@code dp} (its blocks and groups, {@link
     * #forcedGrid}); else 0, the grid layout.
     */
    static int forcedClusters(
            RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, RnnCostModel.Device dp) {
        RnnCostModel.Estimate fc = RnnCostModel.forwardCluster(d, cell, H, B, a);
        if (!fc.fits()) return 0;
        double grid = RnnCostModel.forward(dp, cell, H, B, a).persistentUs()
                + RnnCostModel.backward(dp, cell, H, B, a).persistentUs();
        double cluster = fc.persistentUs()
                + RnnCostModel.backwardCluster(d, cell, H, B, a).persistentUs();
        return cluster < grid ? fc.clusters() : 0;
    }

    /**
     * The passes a run in the cluster layout's C clusters exchanges: those the model predicts faster
     * with the exchange ({@link RnnCostModel.Estimate#exchange}; the backward's where it runs the
     * column-stationary kernel).
     */
    static Exchange forcedExchange(
            RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, int clusters) {
        return new Exchange(
                RnnCostModel.forwardCluster(d, cell, H, B, a, clusters).exchange(),
                RnnCostModel.backwardClusterColumns(d, cell, H, B, a, clusters).exchange());
    }

    /** "13 clusters of 8 blocks x 32 units: " (the cluster layout). */
    private static String clusterBlocks(int H, int clusters) {
        return layout(clusters, RnnCostModel.clusterUnits(H)) + ": ";
    }

    /** "4 batch groups of 32 blocks x 16 units", "128 blocks x 4 units" (one group): the grid layout of H. */
    static String gridLayout(int groups, int H, int units) {
        return (groups > 1 ? groups + " batch groups of " : "") + (H + units - 1) / units + " blocks x " + units
                + " units";
    }

    /** "13 clusters of 8 blocks x 32 units", "1 cluster of 8 blocks x 32 units". */
    static String layout(int clusters, int units) {
        return clusters + (clusters == 1 ? " cluster" : " clusters") + " of " + Kernels.CLUSTER + " blocks x " + units
                + " units";
    }

    /**
     * A forced persistent run's grid layout at batch B: of {@link RnnCostModel#blockCounts} and their
     * batch groups ({@link #cheapest}; only {@code units} a block where that is more than 0) whose
     * forward block fits, the one with the least predicted time for both passes persistent (ties:
     * the fewest units, then the fewest groups); the fewest units in one group where none fits (the
     * caller then says why). Its {@link RnnCostModel#units} and {@link RnnCostModel.Device#groupsAt}
     * are the run's.
     */
    static RnnCostModel.Device forcedGrid(
            RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, int units) {
        RnnCostModel.Device on = units > 0 ? d.withBlocks((H + units - 1) / units) : d;
        int[] counts = units > 0 ? new int[] {on.maxBlocks()} : RnnCostModel.blockCounts(H, d.sms());
        return cheapest(on, counts, B, dp -> {
            RnnCostModel.Estimate f = RnnCostModel.forward(dp, cell, H, B, a);
            return f.fits()
                    ? f.persistentUs()
                            + RnnCostModel.backward(dp, cell, H, B, a).persistentUs()
                    : Double.POSITIVE_INFINITY;
        });
    }

    /** {@link #cheapest(RnnCostModel.Device, int[], int, ToDoubleFunction)} over {@link RnnCostModel#blockCounts}. */
    private static RnnCostModel.Device cheapest(
            RnnCostModel.Device d, int H, int B, ToDoubleFunction<RnnCostModel.Device> us) {
        return cheapest(d, RnnCostModel.blockCounts(H, d.sms()), B, us);
    }

    /**
     * Device d limited to the block count of {@code counts} (the fewest units first) and the batch
     * groups G of them (G counts <= SMs, G <= B, no group without rows) with the least {@code us}
     * (ties: the fewest units, then the fewest groups); d itself where every one costs infinity.
     */
    private static RnnCostModel.Device cheapest(
            RnnCostModel.Device d, int[] counts, int B, ToDoubleFunction<RnnCostModel.Device> us) {
        RnnCostModel.Device best = d;
        double bestUs = Double.POSITIVE_INFINITY;
        for (int p : counts)
            for (int g = 1; g <= Math.min(d.sms() / p, B); g++) {
                RnnCostModel.Device dp = d.withBlocks(p).withGroups(g);
                if (dp.groupsAt(B) != g) continue; // as g - 1 groups: some group would own no rows
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
        return forcedLine(d, cell, H, B, a, u, 1, 0);
    }

    /**
     * As {@link #forcedLine(RnnCostModel.Device, CellType, int, int, ProductArithmetic, int)}, in the
     * cluster layout's C clusters where {@code clusters} > 0, else in the grid layout's {@code groups}.
     */
    static String forcedLine(
            RnnCostModel.Device d, CellType cell, int H, int B, ProductArithmetic a, int u, int groups, int clusters) {
        if (clusters > 0)
            return "rnn kernel at batch size " + B + ": persistent, forced (cost model, " + d + ": "
                    + clusterBlocks(H, clusters)
                    + estimates(
                            RnnCostModel.forwardCluster(d, cell, H, B, a, clusters),
                            RnnCostModel.backwardCluster(d, cell, H, B, a, clusters))
                    + ")";
        RnnCostModel.Device dp = d.withBlocks((H + u - 1) / u).withGroups(groups);
        return "rnn kernel at batch size " + B + ": persistent, forced (cost model, " + d + ": "
                + blocks(d, H, u, groups)
                + estimates(RnnCostModel.forward(dp, cell, H, B, a), RnnCostModel.backward(dp, cell, H, B, a)) + ")";
    }

    /**
     * "4 units a block (64 blocks): " where u is not the fewest units on device d, "... in 2 batch
     * groups (128 blocks): " where there are several groups, else "".
     */
    static String blocks(RnnCostModel.Device d, int H, int u, int groups) {
        int p = (H + u - 1) / u;
        if (groups > 1) return u + " units a block in " + groups + " batch groups (" + groups * p + " blocks): ";
        return u == RnnCostModel.units(H, d.sms()) ? "" : u + " units a block (" + p + " blocks): ";
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
