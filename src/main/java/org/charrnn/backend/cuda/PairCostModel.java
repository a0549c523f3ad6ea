package org.charrnn.backend.cuda;

import java.util.Locale;
import org.charrnn.model.CellType;

/**
 * Microseconds per tick of the RNN's two stacked layers as one wavefront (kernels/cuda/
 * persistent_rnn_pair.cu, {@link PersistentPairs}), in {@link RnnCostModel}'s terms, and whether
 * a pair pays against the two layers one launch each. In C clusters of {@link Kernels#CLUSTER}
 * blocks, U = ceil(H / CLUSTER) units of both layers a block, PB = ceil(B / C) rows a cluster:
 *
 * <ul>
 *   <li>forward tick: the product of 2U rows by K = 2H ([W_hh_a, 0; W_ih_b, W_hh_b] against [h_a,
 *       h_b]; {@link ProductClocks}, its slice in registers where the plan keeps it there, layer
 *       a's rows to K = H where its items or groups of tiles hold them alone), the
 *       exchange of both layers' states (2 PB U values a block to every block of its cluster,
 *       {@link RnnCostModel#exchangeUs}), one {@link RnnRates#clusterBarrierUs}, and the cell
 *       operands' loads where they outlast the barrier and the product;
 *   <li>backward tick: plan b (2U rows of K = H, W_hh_b's and W_ih_b's columns; in registers where
 *       it can) and plan a (U rows of W_hh_a; in the upper half of the same registers where both
 *       fit half, {@link PersistentPairs#backwardResidentA}), both layers' dgates
 *       exchanged (2 PB U values), one barrier, the loads likewise.
 * </ul>
 *
 * A window takes T + 1 ticks a pass where the layers one at a time take 2 T layer-steps ({@link
 * RnnCostModel#forwardCluster}, {@link RnnCostModel#backwardCluster}) and two GEMMs more (layer
 * b's input projection and its input gradient), so the pair pays where a tick of both passes costs
 * less than the two layer-steps of both passes it replaces, the GEMMs it saves not counted: the
 * choice needs no window length and errs towards the launches one layer each, which are measured.
 */
final class PairCostModel {
    /**
     * The backward's static shared memory (its two plans, persistent_rnn_pair.cu; 320 bytes at nvcc
     * 13.0), rounded up, which the dynamic shared memory of the pair's blocks must leave free.
     */
    static final int STATIC_BYTES = 1 << 10;

    /**
     * One tick of each pass in C clusters, the two layer-steps of each pass it replaces (the layers
     * one launch each in the same clusters), and whether the pair's blocks fit the device at all.
     */
    record Estimate(
            double forwardTickUs,
            double backwardTickUs,
            double forwardStepsUs,
            double backwardStepsUs,
            int clusters,
            boolean fits) {
        /** Whether the pair is predicted faster: fits, and a tick of both passes costs less than their two layer-steps. */
        boolean pays() {
            return fits && forwardTickUs + backwardTickUs < forwardStepsUs + backwardStepsUs;
        }

        /**
         * "two layers a launch (a tick 1.0 + 1.1 µs vs two layer-steps 1.4 + 1.6 µs)", the chosen
         * one first, or why the pair cannot run.
         */
        String describe() {
            if (!fits) return "one layer a launch: the pair's blocks do not fit in shared memory";
            String tick = String.format(Locale.ROOT, "a tick %.2f + %.2f µs", forwardTickUs, backwardTickUs);
            String steps =
                    String.format(Locale.ROOT, "two layer-steps %.2f + %.2f µs", forwardStepsUs, backwardStepsUs);
            return pays()
                    ? "two layers a launch (" + tick + " vs " + steps + ")"
                    : "one layer a launch (" + steps + " vs " + tick + ")";
        }
    }

    private PairCostModel() {}

    /** The pair at hidden size H and batch B in arithmetic a on device d's {@link RnnCostModel#clusters}. */
    static Estimate of(RnnCostModel.Device d, int hidden, int batch, ProductArithmetic a) {
        return of(d, hidden, batch, a, RnnCostModel.clusters(d, batch));
    }

    /** As {@link #of(RnnCostModel.Device, int, int, ProductArithmetic)} in {@code c} clusters. */
    static Estimate of(RnnCostModel.Device d, int hidden, int batch, ProductArithmetic a, int c) {
        int u = RnnCostModel.clusterUnits(hidden), pb = (batch + c - 1) / c;
        RnnRates r = d.rates();
        PersistentPlan f = PersistentPairs.forwardPlan(u, hidden, pb, a);
        PersistentPlan[] b = PersistentPairs.backwardPlans(u, hidden, pb, a);
        double forwardClocks = ProductClocks.of(r, f, u, hidden); // layer a's rows stop at h_b (its zeros)
        double forward = tick(d, forwardClocks / d.clocksPerUs(), RnnCostModel.exchangeUs(d, f, u, hidden));
        double backward = tick(
                d,
                (ProductClocks.of(r, b[0]) + ProductClocks.of(r, b[1], PersistentPairs.backwardResidentA(b)))
                        / d.clocksPerUs(),
                RnnCostModel.exchangeUs(d, b[0], u, hidden) + RnnCostModel.exchangeUs(d, b[1], u, hidden));
        long bytes = Math.max(
                PersistentPairs.forwardBytes(u, hidden, pb, a), PersistentPairs.backwardBytes(u, hidden, pb, a));
        boolean fits = d.sms() >= Kernels.CLUSTER
                && PersistentPairs.exchangeable(u, hidden, pb, a)
                && bytes <= d.sharedBytes() - STATIC_BYTES;
        RnnCostModel.Estimate layerForward = RnnCostModel.forwardCluster(d, CellType.RNN, hidden, batch, a, c);
        RnnCostModel.Estimate layerBackward = RnnCostModel.backwardCluster(d, CellType.RNN, hidden, batch, a, c);
        return new Estimate(
                forward, backward, 2 * layerForward.persistentUs(), 2 * layerBackward.persistentUs(), c, fits);
    }

    /** A tick: the products, the exchange, one cluster barrier, and the cell operands' loads that outlast the barrier and the products. */
    private static double tick(RnnCostModel.Device d, double computeUs, double exchangeUs) {
        double barrier = d.rates().clusterBarrierUs();
        return computeUs + exchangeUs + barrier + RnnCostModel.cellLoadUs(d, computeUs + barrier);
    }

    /**
     * Whether choice c lets two layers run as one: both passes persistent in the cluster layout,
     * each with the exchange (which the pair kernels require).
     */
    static boolean candidate(PersistentChoice c) {
        return c != null
                && c.forward()
                && c.backward()
                && c.clusters() > 0
                && c.exchange().forward()
                && c.exchange().backward();
    }

    /**
     * The wavefront knob's answer where the layers' choice is a {@link #candidate} and the pair's
     * blocks fit: on runs the pair, off does not, auto where estimate e (null: no clock rate to
     * price it by) says it {@link Estimate#pays}.
     */
    static boolean runs(PersistentPairs.Wavefront w, Estimate e) {
        return switch (w) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> e != null && e.pays();
        };
    }
}
