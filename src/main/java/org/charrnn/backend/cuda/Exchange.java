package org.charrnn.backend.cuda;

/**
 * Which passes of a cluster-layout launch take the exchange through distributed shared memory
 * (kernels/cuda/persistent_exchange.cuh, {@code CR_PREC_EXCHANGE} or'ed into the kernels' prec):
 * each block's cell phase stores h_t (backward: dgates[t]) into the x buffer of every block of its
 * cluster instead of every block staging them from L2 after the barrier. A pass takes it only
 * where its plan is one k-tile ({@link PersistentPlan#exchangeable}); its blocks then keep two x
 * buffers.
 *
 * @param forward the forward pass exchanges h_t
 * @param backward the column-stationary backward exchanges dgates[t] (a GRU's dgh[t])
 */
record Exchange(boolean forward, boolean backward) {
    /** CR_PREC_EXCHANGE. */
    static final int BIT = 8;

    /** Neither pass: the grid layout, and the cluster layout staging from L2. */
    static final Exchange NONE = new Exchange(false, false);

    /** Whether the forward ({@code forwardPass}) or the backward pass exchanges. */
    boolean of(boolean forwardPass) {
        return forwardPass ? forward : backward;
    }

    /** The kernels' prec for a pass: the arithmetic's code, with {@link #BIT} where the pass exchanges. */
    int prec(boolean forwardPass, ProductArithmetic a) {
        return a.code | (of(forwardPass) ? BIT : 0);
    }

    /** "", or " with the exchange (forward)" and the like, for log lines. */
    String describe() {
        if (!forward && !backward) return "";
        return " with the DSMEM exchange (" + (forward && backward ? "both passes" : forward ? "forward" : "backward")
                + ")";
    }
}
