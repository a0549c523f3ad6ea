package org.charrnn.backend.cuda;

import org.charrnn.model.CellType;

/**
 * Which recurrence kernel the layers of a {@link StepTrace} run (auto's choice, or one forced) and
 * what a persistent pass of it costs: the step cost model's {@code StepCostModel.Recurrences} over
 * {@link RnnCostModel}, or a test's fixed prices.
 */
interface TracedRecurrence {
    /** The choice at batch B (null: stepwise); its forward / backward µs per layer-step below. */
    PersistentChoice choose(CellType cell, int H, int B);

    double forwardUs(PersistentChoice c, CellType cell, int H, int B);

    double backwardUs(PersistentChoice c, CellType cell, int H, int B);

    /** Whether the weight gradients run on a side stream at batch B ({@link SideStream}'s choice). */
    default boolean overlapsWeightGradients(int B) {
        return false;
    }

    /**
     * Whether the layers run pipelined by chunks at batch B in the forward pass ({@code forwardPass})
     * or the backward (CudaOps's auto: where that pass runs stepwise).
     */
    default boolean pipelinesLayers(int B, boolean forwardPass) {
        return false;
    }

    /**
     * Where two stacked layers of the cell at H and B run as one wavefront ({@link PersistentPairs}:
     * the choice is a {@link PairCostModel#candidate}, the pair's blocks fit and the wavefront knob
     * says so), what its ticks cost; null (the default) where the layers run one a launch.
     */
    default PairCostModel.Estimate pair(CellType cell, int H, int B) {
        return null;
    }

    /**
     * Bytes of the exchange buffer choice c's persistent backward holds at batch B (the grid
     * layout's row-stationary kernel: {@link RowsPlan#exchangeBytes}), 0 for the others.
     */
    default long exchangeBytes(PersistentChoice c, CellType cell, int H, int B) {
        return 0;
    }
}
