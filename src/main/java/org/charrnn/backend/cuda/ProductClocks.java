package org.charrnn.backend.cuda;

/**
 * Clocks of one step's product of a persistent block's plan ({@link PersistentPlan}: its slice of
 * rows a against the right-hand side x), on FMAs or tensor cores, for {@link RnnCostModel} and
 * {@link PairCostModel}: whichever is longest of the arithmetic, the shared-memory loads and one
 * thread's (or warp's) chain of dependent products.
 */
final class ProductClocks {
    private ProductClocks() {}

    /**
     * Plan p's clocks, its slice of a in registers where the plan keeps it there ({@link
     * PersistentPlan#resident}) and {@link PersistentKnobs#registersAllowed}.
     */
    static double of(RnnRates r, PersistentPlan p) {
        return of(r, p, p.resident() && PersistentKnobs.registersAllowed());
    }

    /** Plan p's clocks with its slice of a in registers ({@code resident}) or read from shared memory. */
    static double of(RnnRates r, PersistentPlan p, boolean resident) {
        return p.arithmetic().mma ? mma(r, p, resident) : fma(p, resident);
    }

    /**
     * The FMA product's clocks per step: FMAs, shared loads (per item and k the TILE_ROWS values of
     * a, none where the plan keeps them in registers, {@code resident}, and the
     * TILE_BATCH of x; plus the staging) or one thread's chain, whichever is longest.
     */
    private static double fma(PersistentPlan p, boolean resident) {
        double k = p.k();
        double fma = (double) p.rowsPad() * p.batchPad() * k / RnnCostModel.FMA_LANES;
        double loads = p.items() * k * ((resident ? 0 : PersistentPlan.TILE_ROWS) + PersistentPlan.TILE_BATCH) / 32
                + (double) p.batchPad() * k / 32;
        double perThread = Math.ceil((double) p.items() * p.lanes() / Kernels.BLOCK);
        double chain = perThread * Math.ceil(k / p.lanes()) * RnnCostModel.FMA_LATENCY;
        return Math.max(fma, Math.max(loads, chain));
    }

    /**
     * The tensor-core product's clocks per step: the mma FMAs at {@link RnnRates#mmaFmas}; the
     * fragments' warp-wide shared loads, per group of GR x GN tiles and k-step GR fragments of a and
     * GN of x (4 words for the mma's A operand, 2 for its B; none of a where the plan keeps them in
     * registers, {@code resident}) plus the staging; or one warp's chain of
     * dependent mma ({@link RnnRates#mmaLatency} each, a group's GR GN chains interleaved), whichever
     * is longest.
     */
    private static double mma(RnnRates r, PersistentPlan p, boolean resident) {
        int perWord = 4 / p.arithmetic().elemBytes, kstep = PersistentPlan.MMA_WORDS * perWord;
        double steps = Math.ceil((double) p.k() / kstep), mmas = p.items() * steps;
        double fma =
                mmas * PersistentPlan.MMA_ROWS * PersistentPlan.MMA_BATCH * kstep / r.mmaFmas(p.arithmetic().elemBytes);
        int[] tiles = p.mmaTiles();
        int gr = PersistentPlan.groupSide(tiles[0]), gn = PersistentPlan.groupSide(tiles[1]);
        int groups = PersistentPlan.groups(tiles[0], tiles[1]);
        boolean t = PersistentPlan.transposed(p.rows(), p.batch());
        double perGroupStep = (resident ? 0 : gr * (t ? 2 : 4)) + gn * (t ? 4 : 2);
        double loads = groups * steps * perGroupStep + (double) p.batchPad() * steps * PersistentPlan.MMA_WORDS / 32;
        double perWarp = Math.ceil((double) groups * p.lanes() / PersistentPlan.WARPS);
        double chain = perWarp * Math.ceil(steps / p.lanes()) * r.mmaLatency();
        return Math.max(fma, Math.max(loads, chain));
    }
}
