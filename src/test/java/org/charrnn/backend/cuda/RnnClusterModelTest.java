package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import org.charrnn.model.CellType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The cost model of the persistent kernels' cluster layout (persistent_layout.cuh; {@link
 * RnnCostModel#forwardCluster}, {@link RnnCostModel#backwardCluster}) and auto's and a forced
 * run's choice of it ({@link PersistentChoice}), at the assumed rates on an H200.
 */
class RnnClusterModelTest {
    private static final RnnCostModel.Device H200 = RnnCostModel.Device.h200();

    /** C: one cluster per 8 SMs at most, no more than B, none without rows. */
    @ParameterizedTest(name = "{0} SMs, B {1}: {2} clusters")
    @CsvSource({"132, 50, 13", "132, 128, 16", "132, 1, 1", "132, 16, 16", "2, 50, 1", "16, 3, 2"})
    void clusterCounts(int sms, int batch, int clusters) {
        assertEquals(clusters, RnnCostModel.clusters(sms, batch));
    }

    @ParameterizedTest(name = "at most {0} over B {1}: {2}")
    @CsvSource({"3, 7, 3", "3, 4, 2", "0, 5, 1", "100, 5, 5", "13, 50, 13"})
    void atMostSoManyClustersWithRowsEach(int most, int batch, int clusters) {
        assertEquals(clusters, RnnCostModel.clustersOf(most, batch));
        int rows = (batch + clusters - 1) / clusters;
        assertTrue((clusters - 1) * rows < batch, "the last cluster owns rows");
    }

    @Test
    void unitsAreHOverTheBlocksOfOneCluster() {
        assertEquals(32, RnnCostModel.clusterUnits(256));
        assertEquals(5, RnnCostModel.clusterUnits(33));
        assertEquals(1, RnnCostModel.clusterUnits(1));
    }

    @Test
    void autoRunsTheSmallRowsInClustersWhereTheDeviceHasThem() {
        PersistentChoice c = PersistentChoice.decide(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, true);
        assertEquals(13, c.clusters(), c.line());
        assertEquals(32, c.units(), c.line());
        // both passes keep their part of W_hh in registers (the resident FMA plans): the forward's
        // rows, the row-stationary scatter's columns
        assertTrue(c.forward() && c.backward() && c.rows(), c.line());
        assertTrue(
                c.line()
                        .endsWith("13 clusters of 8 blocks x 32 units: forward persistent 1.2 µs (clusters, exchange)"
                                + " vs stepwise 5.4 µs, backward persistent 1.3 µs (clusters, rows) vs stepwise 5.4 µs"
                                + " per layer-step"),
                c.line());
        assertEquals(new Exchange(true, false), c.exchange(), c.line());
        // without clusters (before sm_90) the grid layout, in batch groups
        PersistentChoice grid = PersistentChoice.decide(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, false);
        assertEquals(0, grid.clusters());
        assertEquals(4, grid.groups(), grid.line());
        for (CellType cell : new CellType[] {CellType.GRU, CellType.RNN}) {
            PersistentChoice k = PersistentChoice.decide(H200, cell, 256, 50, ProductArithmetic.FP32, true);
            assertEquals(13, k.clusters(), k.line());
            assertTrue(k.forward() && k.backward(), k.line());
        }
    }

    /**
     * In the cluster layout a step's cell operands load between the two halves of the barrier before
     * its product (cr_forward_steps, the backward's loop; the row-stationary backward before its
     * scatter and barrier): a barrier at least as long as the loads hides them, so a longer one adds
     * all its time, and a shorter one adds less, the loads shrinking as it grows. The grid layout
     * loads after its whole barrier: every µs of barrier adds a µs.
     */
    @Test
    void theClusterLayoutLoadsTheNextOperandsBesideItsBarrier() {
        double l2 = RnnRates.ASSUMED.l2BytesPerUs(), dsmem = RnnRates.ASSUMED.dsmemBytesPerUs();
        ProductArithmetic a = ProductArithmetic.TF32_MMA;
        for (int pass = 0; pass < 3; pass++) {
            DoubleUnaryOperator us = pass(pass, l2, dsmem, a);
            assertEquals(
                    0.10, us.applyAsDouble(0.40) - us.applyAsDouble(0.30), 1e-9, "pass " + pass + ": past the loads");
            if (pass == 2) continue; // its scatter alone outlasts the loads at this shape
            double shorter = us.applyAsDouble(0.011) - us.applyAsDouble(0.001);
            assertTrue(shorter < 0.01 - 1e-9, "pass " + pass + ": short barriers hide part of the loads: " + shorter);
        }
        double g1 = RnnCostModel.forward(h200(0.001, l2, 0.5, 0, dsmem), CellType.LSTM, 128, 50, a)
                .persistentUs();
        double g2 = RnnCostModel.forward(h200(0.011, l2, 0.5, 0, dsmem), CellType.LSTM, 128, 50, a)
                .persistentUs();
        assertEquals(0.01, g2 - g1, 1e-9, "the grid layout loads after its barrier");
    }

    /** µs of one LSTM H 128 B 50 layer-step in 13 clusters at cluster barrier x: 0 forward, 1 columns backward, 2 rows backward. */
    private static DoubleUnaryOperator pass(int pass, double l2, double dsmem, ProductArithmetic a) {
        return x -> {
            RnnCostModel.Device d = h200(1.5, l2, x, 0, dsmem);
            return switch (pass) {
                case 0 ->
                    RnnCostModel.forwardCluster(d, CellType.LSTM, 128, 50, a).persistentUs();
                case 1 ->
                    RnnCostModel.backwardClusterColumns(d, CellType.LSTM, 128, 50, a, 13)
                            .persistentUs();
                default ->
                    RnnCostModel.backwardClusterRows(d, CellType.LSTM, 128, 50, a, 13)
                            .persistentUs();
            };
        };
    }

    /**
     * A device whose stepwise layer-step costs 0.5 µs runs LSTM H16 B50 stepwise; its line prices
     * the layout a forced persistent run takes there, the cluster layout (13 clusters of 8 blocks),
     * and names it.
     */
    @Test
    void aStepwiseLineNamesTheClusterLayoutWhereAForcedRunTakesIt() {
        RnnCostModel.Device cheapSteps = new RnnCostModel.Device(
                132,
                1.98,
                227 << 10,
                new RnnRates(
                        1.5,
                        600,
                        5.5e6,
                        32,
                        512,
                        1024,
                        0.5,
                        0,
                        RnnRates.DSMEM_ASSUMED,
                        "x",
                        0,
                        new RnnRates.Stepwise(0.5, 0.2, java.util.Map.of())));
        ProductArithmetic fp32 = ProductArithmetic.FP32;
        PersistentChoice c = PersistentChoice.decide(cheapSteps, CellType.LSTM, 16, 50, fp32, true);
        assertTrue(!c.forward() && !c.backward(), c.line());
        RnnCostModel.Device grid = PersistentChoice.forcedGrid(cheapSteps, CellType.LSTM, 16, 50, fp32, 0);
        assertEquals(13, PersistentChoice.forcedClusters(cheapSteps, CellType.LSTM, 16, 50, fp32, grid), c.line());
        assertTrue(c.line().endsWith(" per layer-step (persistent in 13 clusters of 8 blocks x 2 units)"), c.line());
        assertTrue(
                c.line()
                        .contains("forward "
                                + RnnCostModel.forwardCluster(cheapSteps, CellType.LSTM, 16, 50, fp32)
                                        .describe()),
                c.line());
    }

    @Test
    void weightsThatDoNotFitInOneClusterStayInTheGridLayoutOrStepwise() {
        // LSTM H 1024: W_hh is 16 MiB, 2 MiB a block of 8
        assertFalse(RnnCostModel.forwardCluster(H200, CellType.LSTM, 1024, 128, ProductArithmetic.FP32)
                .fits());
        assertEquals(
                0,
                PersistentChoice.decide(H200, CellType.LSTM, 1024, 128, ProductArithmetic.FP32, true)
                        .clusters());
        // GRU H 512 in bf16 fits (W_hh 1.5 MiB, 192 KiB a block): 16 clusters of 64 units
        PersistentChoice gru = PersistentChoice.decide(H200, CellType.GRU, 512, 128, ProductArithmetic.BF16_MMA, true);
        assertEquals(16, gru.clusters(), gru.line());
        assertEquals(64, gru.units(), gru.line());
    }

    @Test
    void aForcedRunTakesTheClusterLayoutWhereItIsPredictedFaster() {
        assertEquals(
                13,
                PersistentChoice.forcedClusters(
                        H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, H200.withBlocks(86)));
        assertEquals(
                0,
                PersistentChoice.forcedClusters(
                        H200, CellType.LSTM, 1024, 128, ProductArithmetic.FP32, H200.withBlocks(128)));
        String line = PersistentChoice.forcedLine(H200, CellType.LSTM, 256, 1, ProductArithmetic.FP32, 32, 1, 1);
        assertTrue(line.contains(": 1 cluster of 8 blocks x 32 units: forward persistent"), line);
        // a forced count (-Dcharrnn.persistent.clusters) is priced at that count, not the model's 13
        String three = PersistentChoice.forcedLine(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 32, 1, 3);
        String us = String.format(
                java.util.Locale.ROOT,
                "persistent %.1f µs (clusters)",
                RnnCostModel.forwardCluster(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 3)
                        .persistentUs());
        assertTrue(
                three.contains(": 3 clusters of 8 blocks x 32 units: forward persistent ") && three.contains(us),
                three);
        assertFalse(
                three.contains(String.format(
                        java.util.Locale.ROOT,
                        "persistent %.1f µs (clusters)",
                        RnnCostModel.forwardCluster(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32)
                                .persistentUs())),
                three);
    }

    /** An H200 at the assumed rates but for these four, distributed shared memory too slow to pay. */
    private static RnnCostModel.Device h200(
            double gridBarrierUs, double l2BytesPerUs, double clusterBarrierUs, int resident) {
        return h200(gridBarrierUs, l2BytesPerUs, clusterBarrierUs, resident, 1);
    }

    /** An H200 at the assumed rates but for these five. */
    static RnnCostModel.Device h200(
            double gridBarrierUs, double l2BytesPerUs, double clusterBarrierUs, int resident, double dsmemBytesPerUs) {
        RnnRates r = RnnRates.ASSUMED;
        return new RnnCostModel.Device(
                132,
                1.98,
                227 << 10,
                new RnnRates(
                        gridBarrierUs,
                        r.tileClocks(),
                        l2BytesPerUs,
                        r.mmaLatency(),
                        r.mmaFmasTf32(),
                        r.mmaFmasBf16(),
                        clusterBarrierUs,
                        resident,
                        dsmemBytesPerUs,
                        "test",
                        132,
                        r.stepwise()));
    }

    /**
     * The cluster layout pays its cluster barrier ({@link RnnRates#clusterBarrierUs}), not the grid's,
     * C 8 blocks' reads of PB rows from L2, and runs no more clusters than are resident.
     */
    @Test
    void clustersPayTheClusterBarrierAndTheirOwnRowsOfL2() {
        RnnRates r = RnnRates.ASSUMED;
        double grid = r.gridBarrierUs(), l2 = r.l2BytesPerUs(), cluster = r.clusterBarrierUs();
        double base = forwardUs(h200(grid, l2, cluster, 0));
        assertEquals(base, forwardUs(h200(9.0, l2, cluster, 0)), 1e-12);
        // 13 clusters x 8 blocks x 4 rows x 256 floats x 4 bytes at 5.5 TB/s, once more at half the rate
        assertEquals(base + 13.0 * 8 * 4 * 256 * 4 / l2, forwardUs(h200(grid, l2 / 2, cluster, 0)), 1e-9);
        assertEquals(base + 1, forwardUs(h200(grid, l2, cluster + 1, 0)), 1e-9);
        // 10 clusters resident: 10 of 5 rows each at B 50 (not 13 of 4)
        RnnCostModel.Device ten = h200(grid, l2, cluster, 10);
        assertEquals(10, RnnCostModel.clusters(ten, 50));
        assertEquals(13, RnnCostModel.clusters(H200, 50));
        assertEquals(
                10,
                RnnCostModel.backwardCluster(ten, CellType.RNN, 256, 50, ProductArithmetic.FP32)
                        .clusters());
    }

    /**
     * With the exchange ({@link Exchange}) a pass pays the stores into its cluster's blocks instead
     * of the L2 reads and the k-tile: LSTM H 256 at B 50, 13 clusters of 4 rows, 32 units a block;
     * forward 4 rows x 32 values, backward 4 x 128 (the 4 gate rows of its units), 4 bytes each into
     * 7 peers through DSMEM and the block's own shared memory, a warp's 32 values a clock.
     */
    @Test
    void theExchangeTradesTheL2ReadsAndTheKTileForStoresIntoTheCluster() {
        RnnRates r = RnnRates.ASSUMED;
        double grid = r.gridBarrierUs(), l2 = r.l2BytesPerUs(), cluster = r.clusterBarrierUs();
        double tile = r.tileClocks() / 1980.0;
        for (ProductArithmetic a : new ProductArithmetic[] {ProductArithmetic.FP32, ProductArithmetic.TF32_MMA}) {
            RnnCostModel.Device slow = h200(grid, l2, cluster, 0, 1), fast = h200(grid, l2, cluster, 0, 1e6);
            RnnCostModel.Estimate staged = RnnCostModel.forwardCluster(slow, CellType.LSTM, 256, 50, a);
            RnnCostModel.Estimate exchanged = RnnCostModel.forwardCluster(fast, CellType.LSTM, 256, 50, a);
            assertFalse(staged.exchange());
            assertTrue(exchanged.exchange());
            double l2Us = 13.0 * 8 * 4 * 256 * 4 / l2;
            assertEquals(
                    staged.persistentUs() - l2Us - tile + 4.0 * 32 * 7 * 4 / 1e6 + 4.0 * 32 / 32 / 1980,
                    exchanged.persistentUs(),
                    1e-9);
            RnnCostModel.Estimate back = RnnCostModel.backwardClusterColumns(fast, CellType.LSTM, 256, 50, a, 13);
            RnnCostModel.Estimate backStaged = RnnCostModel.backwardClusterColumns(slow, CellType.LSTM, 256, 50, a, 13);
            assertTrue(back.exchange());
            assertEquals(
                    backStaged.persistentUs() - 4 * l2Us - tile + 4.0 * 128 * 7 * 4 / 1e6 + 4.0 * 128 / 32 / 1980,
                    back.persistentUs(),
                    1e-9);
        }
        // at the assumed 25 GB/s per SM the forward's 3.5 KiB to its peers pay, and the backward's 14 KiB
        // just do (0.58 µs against 0.31 of L2 and 0.30 of k-tile); at 22 GB/s the backward's do not
        assertTrue(RnnCostModel.forwardCluster(H200, CellType.LSTM, 256, 50, ProductArithmetic.TF32_MMA)
                .exchange());
        assertTrue(RnnCostModel.backwardClusterColumns(H200, CellType.LSTM, 256, 50, ProductArithmetic.TF32_MMA, 13)
                .exchange());
        assertFalse(RnnCostModel.backwardClusterColumns(
                        h200(grid, l2, cluster, 0, 22e3), CellType.LSTM, 256, 50, ProductArithmetic.TF32_MMA, 13)
                .exchange());
        // bf16 on tensor cores stores 2 bytes a value
        PersistentPlan bf16 = PersistentPlan.forward(4, 32, 256, 4, ProductArithmetic.BF16_MMA);
        assertEquals(
                4.0 * 32 * 7 * 2 / 1e6 + 4.0 * 32 / 32 / 1980,
                RnnCostModel.exchangeUs(h200(grid, l2, cluster, 0, 1e6), bf16, 32, 256),
                1e-12);
    }

    /** A plan of more than one k-tile cannot exchange, however fast distributed shared memory is. */
    @Test
    void aPlanOfSeveralKTilesStages() {
        RnnCostModel.Device fast = h200(1.5, 5.5e6, 0.5, 0, 1e9);
        // fp32 LSTM H 256 at B 128: 16 clusters of 8 rows; backward K 1024 x XS 12 > 8192 floats
        PersistentPlan p = PersistentPlan.backward(4, 32, 256, 8, ProductArithmetic.FP32);
        assertTrue(p.tiles() > 1);
        assertFalse(p.exchangeable());
        assertFalse(RnnCostModel.backwardClusterColumns(fast, CellType.LSTM, 256, 128, ProductArithmetic.FP32, 16)
                .exchange());
        assertTrue(RnnCostModel.forwardCluster(fast, CellType.LSTM, 256, 128, ProductArithmetic.FP32)
                .exchange());
        assertEquals(
                new Exchange(true, false),
                PersistentChoice.forcedExchange(fast, CellType.LSTM, 256, 128, ProductArithmetic.FP32, 16));
    }

    /**
     * The row-stationary backward in the cluster layout (persistent_cluster_rows.cuh): its terms at
     * TF32 L2 H256 B50 (13 clusters of 4 rows; a block's 128 rows into 256 columns on tensor cores:
     * 16 tiles of 16 x 8, 16 k-steps, the A fragments in registers or with {@link
     * PersistentKnobs#REGISTERS_PROPERTY} off read every step), the stores of its shares instead of every block's dgates rows,
     * and auto's and the step model's choice of it for the LSTM and GRU (the RNN has none).
     */
    @Test
    void theRowStationaryClusterBackwardStoresSharesNotDgates() {
        RnnRates r = RnnRates.ASSUMED;
        ProductArithmetic a = ProductArithmetic.TF32_MMA;
        RnnCostModel.Estimate rows = RnnCostModel.backwardClusterRows(H200, CellType.LSTM, 256, 50, a, 13);
        assertTrue(rows.rows() && rows.fits() && !rows.exchange());
        // 2 of the 6 fragment words a tile and k-step: the A fragments stay in registers (resident)
        assertTrue(ClusterRowsPlan.of(4, 32, 256, 4, a).resident());
        double fma = 16.0 * 16 * 16 * 8 * 8 / r.mmaFmas(4), loads = 16.0 * 16 * 2, chain = 16 * r.mmaLatency();
        // 4 rows of 32 units into each of 8 blocks: 7 peers' through DSMEM, its own a warp's 32 a clock
        double stores = 4.0 * 4 * 32 * 7 / r.dsmemBytesPerUs() + 4.0 * 32 / 32 / 1980;
        // the next step's cell operands (an L2 hit, 270 clocks) load beside the scatter: what outlasts it shows
        double scatter = Math.max(fma, Math.max(loads, chain)) / 1980.0 + stores;
        double expected =
                scatter + r.clusterBarrierUs() + Math.max(0, RnnCostModel.CELL_LOAD_CLOCKS / 1980.0 - scatter);
        assertEquals(expected, rows.persistentUs(), 1e-9);
        System.setProperty(PersistentKnobs.REGISTERS_PROPERTY, "off");
        try {
            double slower = Math.max(fma, Math.max(16.0 * 16 * 6, chain)) / 1980.0 + stores;
            double shared =
                    slower + r.clusterBarrierUs() + Math.max(0, RnnCostModel.CELL_LOAD_CLOCKS / 1980.0 - slower);
            assertEquals(
                    shared,
                    RnnCostModel.backwardClusterRows(H200, CellType.LSTM, 256, 50, a, 13)
                            .persistentUs(),
                    1e-9);
        } finally {
            System.clearProperty(PersistentKnobs.REGISTERS_PROPERTY);
        }
        RnnCostModel.Estimate columns = RnnCostModel.backwardClusterColumns(H200, CellType.LSTM, 256, 50, a, 13);
        assertTrue(rows.persistentUs() < columns.persistentUs(), rows + " vs " + columns);
        assertEquals(rows, RnnCostModel.backwardCluster(H200, CellType.LSTM, 256, 50, a, 13));
        assertTrue(
                RnnCostModel.backwardCluster(H200, CellType.GRU, 256, 50, a, 13).rows());
        assertFalse(
                RnnCostModel.backwardCluster(H200, CellType.RNN, 256, 50, a, 13).rows());
        PersistentChoice c = PersistentChoice.decide(H200, CellType.LSTM, 256, 50, a, true);
        assertTrue(c.clusters() > 0 && c.backward() && c.rows(), c.toString());
        assertFalse(c.exchange().backward(), "the row-stationary backward exchanges nothing");
        // fp32: the same products in FMAs (128 rows x 256 columns x 4 rows / 128 lanes: 1024 clocks);
        // each of the 256 items keeps its column of the slice in registers (the resident FMA
        // scatter), so the shared loads are dgates' alone: 256 items x 128 rows / 32 lanes, 1024
        // clocks a step, but a row's 4 FFMAs and its load issue at 4 warp instructions a clock:
        // 1024 x 5 / 4 = 1280; from shared memory (registers off) the loads, twice 1024
        RnnCostModel.Estimate fp32 =
                RnnCostModel.backwardClusterRows(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 13);
        assertTrue(ClusterRowsPlan.of(4, 32, 256, 4, ProductArithmetic.FP32).resident());
        assertEquals(1280 / 1980.0 + stores + r.clusterBarrierUs(), fp32.persistentUs(), 1e-9); // loads beside
        System.setProperty(PersistentKnobs.REGISTERS_PROPERTY, "off");
        try {
            assertEquals(
                    2048 / 1980.0 + stores + r.clusterBarrierUs(),
                    RnnCostModel.backwardClusterRows(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 13)
                            .persistentUs(),
                    1e-9);
        } finally {
            System.clearProperty(PersistentKnobs.REGISTERS_PROPERTY);
        }
    }

    /**
     * The resident plans (persistent_common.cuh) take the W_hh slice from registers, so a step of
     * LSTM H256 at B50 forward in clusters loads only the right-hand side from shared memory. TF32
     * (8 tiles of 16 rows x 8 rows b in 4 groups, 2 warps each, 32 k-steps): per group and k-step
     * x's fragment, 2 words, not a's two of 4 as well: 4 x 32 x 2 + the staging's 64 = 320 clocks
     * instead of 1344, under the mma's 512 (and the chain's). fp32 (32 register tiles of 4 rows x 4
     * rows b, 8 lanes each, 32 k a thread: 256 k of a warp): per warp and k its 16 FFMAs and x's one
     * 16-byte load (the 8 lanes' rows k in 8 quads of banks: one wavefront), not a's 4 loads as
     * well, issued 4 a clock: 256 x 17 / 4 = 1088 clocks instead of 256 x 21 / 4 = 1344 (the FMAs
     * 1024; the shared loads 256 x 1 + the staging's 32 = 288, or 256 x 5 + 32 = 1312). {@link
     * PersistentKnobs#REGISTERS_PROPERTY} off prices a's loads again.
     */
    @ParameterizedTest(name = "{0}: {1} clocks from shared memory, {2} resident")
    @CsvSource({"TF32_MMA, 1344, 512", "FP32, 1344, 1088"})
    void theResidentPlanLoadsOnlyTheRightHandSide(ProductArithmetic a, int sharedClocks, int residentClocks) {
        assertTrue(PersistentPlan.forward(4, 32, 256, 4, a).resident());
        double resident =
                RnnCostModel.forwardCluster(H200, CellType.LSTM, 256, 50, a).persistentUs();
        System.setProperty(PersistentKnobs.REGISTERS_PROPERTY, "off");
        try {
            double shared =
                    RnnCostModel.forwardCluster(H200, CellType.LSTM, 256, 50, a).persistentUs();
            assertEquals((sharedClocks - residentClocks) / 1980.0, shared - resident, 1e-9);
        } finally {
            System.clearProperty(PersistentKnobs.REGISTERS_PROPERTY);
        }
    }

    private static double forwardUs(RnnCostModel.Device d) {
        return RnnCostModel.forwardCluster(d, CellType.LSTM, 256, 50, ProductArithmetic.FP32)
                .persistentUs();
    }
}
