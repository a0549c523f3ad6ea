package org.charrnn.backend.cuda;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Clocks of one step's product of a persistent block's plan ({@link PersistentPlan}: its slice of
 * rows a against the right-hand side x), on FMAs or tensor cores, for {@link RnnCostModel} and
 * {@link PairCostModel}: whichever is longest of the arithmetic, the shared-memory loads, the FMA
 * product's instructions at {@link RnnCostModel#ISSUE_SLOTS} a clock and one thread's (or warp's)
 * chain of dependent products.
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

    /** As {@link #of(RnnRates, PersistentPlan)} with the short rows of {@link #of(RnnRates, PersistentPlan, boolean, int, int)}. */
    static double of(RnnRates r, PersistentPlan p, int shortRows, int shortK) {
        return of(r, p, p.resident() && PersistentKnobs.registersAllowed(), shortRows, shortK);
    }

    /** Plan p's clocks with its slice of a in registers ({@code resident}) or read from shared memory. */
    static double of(RnnRates r, PersistentPlan p, boolean resident) {
        return of(r, p, resident, 0, p.k());
    }

    /**
     * Plan p's clocks where its rows below {@code shortRows} are zero past column {@code shortK}
     * (cr_persistent_plan's ra and ka: the RNN pair's forward, layer a's rows against h_b): an
     * item (FMA) or group of tiles (mma) of those rows alone stops at shortK.
     */
    static double of(RnnRates r, PersistentPlan p, boolean resident, int shortRows, int shortK) {
        return p.arithmetic().mma ? mma(r, p, resident, shortRows, shortK) : fma(p, resident, shortRows, shortK);
    }

    /**
     * The FMA product's clocks per step (persistent_fma.cuh), whichever is longest of: its FMAs; its
     * shared loads, per warp and k the TILE_ROWS 4-byte loads of a (none where the plan keeps them in
     * registers, {@code resident}, 32 lanes a wavefront) and those of x in the plan's layout ({@link
     * #xWavefronts}), plus the staging; the instructions, per warp and k its TILE_ROWS x TILE_BATCH
     * FFMAs and those loads at {@link RnnCostModel#ISSUE_SLOTS} a clock; and one thread's chain. The
     * items of rows below shortRows alone count shortK of the k.
     */
    private static double fma(PersistentPlan p, boolean resident, int shortRows, int shortK) {
        double k = p.k();
        int rowItems = p.rowsPad() / PersistentPlan.TILE_ROWS;
        int shortItems = shortK < p.k() ? Math.min(rowItems, shortRows / PersistentPlan.TILE_ROWS) : 0;
        double itemK = (rowItems - shortItems) * k + shortItems * (double) shortK; // k over one column of items
        double fma = (double) PersistentPlan.TILE_ROWS * p.batchPad() * itemK / RnnCostModel.FMA_LANES;
        double warpSteps = (double) p.items() / rowItems * itemK / 32; // a warp's k, over all of them
        int aLoads = resident ? 0 : PersistentPlan.TILE_ROWS;
        int xLoads = p.vectorX() ? 1 : PersistentPlan.TILE_BATCH;
        double loads = warpSteps * (aLoads + xWavefronts(p)) + (double) p.batchPad() * k / 32;
        double issue = warpSteps
                * (PersistentPlan.TILE_ROWS * PersistentPlan.TILE_BATCH + aLoads + xLoads)
                / RnnCostModel.ISSUE_SLOTS;
        double perThread = Math.ceil((double) p.items() * p.lanes() / Kernels.BLOCK);
        double longest = shortItems < rowItems ? k : shortK;
        double chain = perThread * Math.ceil(longest / p.lanes()) * RnnCostModel.FMA_LATENCY;
        return Math.max(Math.max(fma, issue), Math.max(loads, chain));
    }

    /**
     * Wavefronts of a warp's loads of x at one k, the first warp's (lane e: lane s = e % S of item
     * e / S, its rows b from g = e / S % NG times TILE_BATCH, its first k s; lanes of other rows of a
     * read the same words, a broadcast): in the vector layout (x[k XS + b]) one 16-byte load, the
     * most distinct 16-byte chunks in one quad of banks; in the strided layout (x[k XS + (b % TB) NG
     * + b / TB]) TILE_BATCH 4-byte loads, each the most distinct words in one bank.
     */
    static int xWavefronts(PersistentPlan p) {
        int s = p.lanes(), ng = p.batchPad() / PersistentPlan.TILE_BATCH, xs = p.stride();
        int lanes = (int) Math.min(32, p.items() * s);
        int loads = p.vectorX() ? 1 : PersistentPlan.TILE_BATCH, banks = p.vectorX() ? 8 : 32;
        int total = 0;
        for (int i = 0; i < loads; i++) {
            List<Set<Long>> hit = new ArrayList<>();
            for (int b = 0; b < banks; b++) hit.add(new HashSet<>());
            for (int e = 0; e < lanes; e++) {
                long kk = e % s, g = e / s % ng;
                long word = p.vectorX()
                        ? (kk * xs + g * PersistentPlan.TILE_BATCH) / 4 // a 16-byte chunk
                        : kk * xs + (long) i * ng + g;
                hit.get((int) (word % banks)).add(word);
            }
            total += hit.stream().mapToInt(Set::size).max().orElse(1);
        }
        return total;
    }

    /**
     * The tensor-core product's clocks per step: the mma FMAs at {@link RnnRates#mmaFmas}; the
     * fragments' warp-wide shared loads, per group of GR x GN tiles and k-step GR fragments of a and
     * GN of x (4 words for the mma's A operand, 2 for its B; none of a where the plan keeps them in
     * registers, {@code resident}) plus the staging; or one warp's chain of
     * dependent mma ({@link RnnRates#mmaLatency} each, a group's GR GN chains interleaved), whichever
     * is longest; the groups of rows below shortRows alone count the k-steps of shortK.
     */
    private static double mma(RnnRates r, PersistentPlan p, boolean resident, int shortRows, int shortK) {
        int perWord = 4 / p.arithmetic().elemBytes, kstep = PersistentPlan.MMA_WORDS * perWord;
        double steps = Math.ceil((double) p.k() / kstep), shortSteps = Math.ceil((double) shortK / kstep);
        int[] tiles = p.mmaTiles();
        int gr = PersistentPlan.groupSide(tiles[0]), gn = PersistentPlan.groupSide(tiles[1]);
        int columns = PersistentPlan.groups(1, tiles[1]); // groups along b
        boolean t = PersistentPlan.transposed(p.rows(), p.batch());
        int tileRows = t ? PersistentPlan.MMA_BATCH : PersistentPlan.MMA_ROWS;
        double tileSteps = 0, groupSteps = 0, longest = 0; // over the groups along a's rows
        for (int g0 = 0; g0 < tiles[0]; g0 += gr) {
            int end = Math.min(g0 + gr, tiles[0]);
            double st = shortK < p.k() && end * tileRows <= shortRows ? shortSteps : steps;
            tileSteps += (end - g0) * st;
            groupSteps += st;
            longest = Math.max(longest, st);
        }
        double fma = tileSteps
                * tiles[1]
                * PersistentPlan.MMA_ROWS
                * PersistentPlan.MMA_BATCH
                * kstep
                / r.mmaFmas(p.arithmetic().elemBytes);
        double perGroupStep = (resident ? 0 : gr * (t ? 2 : 4)) + gn * (t ? 4 : 2);
        double loads =
                groupSteps * columns * perGroupStep + (double) p.batchPad() * steps * PersistentPlan.MMA_WORDS / 32;
        int groups = PersistentPlan.groups(tiles[0], tiles[1]);
        double perWarp = Math.ceil((double) groups * p.lanes() / PersistentPlan.WARPS);
        double chain = perWarp * Math.ceil(longest / p.lanes()) * r.mmaLatency();
        return Math.max(fma, Math.max(loads, chain));
    }
}
