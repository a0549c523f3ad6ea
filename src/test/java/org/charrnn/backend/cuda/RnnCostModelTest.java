package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.model.CellType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What {@code --rnn-kernel auto} picks per pass on an H200's numbers (132 SMs, 1.98 GHz, 227 KiB
 * per block) for the rows of the bench grids: the cost model of
 * bench/results/persistent-cost-model-2026-12-02.md, no GPU needed.
 */
class RnnCostModelTest {
    private static final RnnCostModel.Device H200 = new RnnCostModel.Device(132, 1.98, 227 << 10);

    @ParameterizedTest(name = "{0} H{1} B{2}: forward {3}, backward {4}")
    @CsvSource({
        // the B <= 50 row: both passes persistent in 4 batch groups of 32 blocks, each block reading
        // a quarter of the rows of h (backward: of dgates) from L2; in one group the LSTM's and GRU's
        // backward, 4x (3x) the bytes of the forward, would stay stepwise (theSmallLstmRowsEstimatesAreTheDocs)
        "lstm, 256, 50, true, true",
        "gru, 256, 50, true, true",
        "rnn, 256, 50, true, true",
        // the large rows: the shared-memory loads of the product and the L2 reads of h outweigh a
        // stepwise GEMM at the fp32 peak (changes 2 and 3 of the doc are what would turn these)
        "lstm, 512, 128, false, false",
        "gru, 512, 128, false, false",
        "rnn, 512, 128, false, false",
        "lstm, 1024, 128, false, false",
        "gru, 1024, 128, false, false",
        "rnn, 1024, 128, false, false",
        // sampling (B = 1) is barrier-bound: persistent both ways
        "lstm, 256, 1, true, true",
    })
    void autoPicksPerPassOnAnH200(String cell, int h, int b, boolean forward, boolean backward) {
        CellType c = CellType.parse(cell);
        PersistentChoice choice = PersistentChoice.decide(H200, c, h, b);
        assertEquals(forward, choice.forward(), choice.line());
        assertEquals(backward, choice.backward(), choice.line());
        RnnCostModel.Estimate f = RnnCostModel.forward(H200, c, h, b);
        assertTrue(f.fits(), choice.line());
        assertEquals(forward, f.persistentUs() < f.stepwiseUs(), choice.line());
    }

    /**
     * Where both passes run stepwise, every layout ties at the stepwise times; the line then prices
     * the layout a forced persistent run takes (here 4 batch groups, 10.7 µs), not the first of the
     * tied ones (one group of 4 units: 19.9 µs), and names it.
     */
    @Test
    void aStepwiseLineNamesTheLayoutAForcedRunWouldTake() {
        PersistentChoice c = PersistentChoice.decide(H200, CellType.LSTM, 512, 128, ProductArithmetic.FP32, true);
        RnnCostModel.Device forced =
                PersistentChoice.forcedGrid(H200, CellType.LSTM, 512, 128, ProductArithmetic.FP32, 0);
        assertEquals(4, forced.groupsAt(128));
        assertEquals(
                "rnn kernel at batch size 128 (cost model, 132 SMs at 1.98 GHz, 227 KiB): forward stepwise 9.0 µs vs"
                        + " persistent 10.7 µs, backward stepwise 9.0 µs vs persistent 14.5 µs (rows) per layer-step"
                        + " (persistent in 4 batch groups of 32 blocks x 16 units)",
                c.line());
        assertEquals(
                10.70,
                RnnCostModel.forward(forced, CellType.LSTM, 512, 128, ProductArithmetic.FP32)
                        .persistentUs(),
                0.01);
        assertTrue(!c.forward() && !c.backward(), c.line());
    }

    @Test
    void theCellOperandsShowWhereNothingRunsBesideThem() {
        double all = RnnCostModel.CELL_LOAD_CLOCKS / 1980.0; // an L2 hit at 1.98 GHz: 0.136 µs
        assertEquals(all, RnnCostModel.cellLoadUs(H200, 0), 1e-12); // nothing beside them
        assertEquals(all - 0.1, RnnCostModel.cellLoadUs(H200, 0.1), 1e-12); // past a short product
        assertEquals(0, RnnCostModel.cellLoadUs(H200, 1.0)); // under a long one
    }

    @Test
    void theSmallLstmRowsEstimatesAreTheDocs() {
        RnnCostModel.Estimate f = RnnCostModel.forward(H200, CellType.LSTM, 256, 50);
        RnnCostModel.Estimate b = RnnCostModel.backward(H200, CellType.LSTM, 256, 50);
        // stepwise: 5 µs of launches + 26.2 MFLOP at 66.9 TFLOP/s; persistent: 1.05 µs of shared
        // loads + 1.19 µs of L2 + 2 tiles x 600 clocks + 1.5 µs of barrier
        assertEquals(5.39, f.stepwiseUs(), 0.01);
        assertEquals(4.35, f.persistentUs(), 0.01);
        assertEquals(5.39, b.stepwiseUs(), 0.01);
        // backward, row-stationary: 1.65 µs of shared loads + 2.38 µs of shares through L2 + 2 tiles
        // x 600 clocks (one of the gather, one of the scatter) + 1.5 µs of barrier; column-stationary:
        // 2.52 µs of shared loads + 4.77 µs of dgates from L2 + 7 tiles x 600 clocks + 1.5 µs (the
        // cell's operand loads, 270 clocks, run beside products longer than they are: nothing shows)
        assertTrue(b.rows());
        assertEquals(6.14, b.persistentUs(), 0.01);
        assertEquals(
                10.91,
                RnnCostModel.backwardColumns(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32)
                        .persistentUs(),
                0.01);
        // those are one batch group's (its k-tiled plans keep W_hh in shared memory); auto takes 4
        // groups of 32 blocks of 8 units (batchGroups... below), whose forward keeps its rows of W_hh
        // in registers (the resident FMA plan: 2.7 µs, 3.2 from shared memory), the backward
        // row-stationary (13 rows a group: 4.0 µs against the columns' 4.9)
        assertEquals(
                "rnn kernel at batch size 50 (cost model, 132 SMs at 1.98 GHz, 227 KiB): 8 units a block in 4 batch"
                        + " groups (128 blocks): forward persistent 2.7 µs vs stepwise 5.4 µs, backward persistent 4.0 µs"
                        + " (rows) vs stepwise 5.4 µs per layer-step",
                PersistentChoice.decide(H200, CellType.LSTM, 256, 50).line());
    }

    /**
     * The grid layout in G batch groups: a group's plan is the one-group plan of its ceil(B / G)
     * rows, and the grid reads G times that group's right-hand side from L2 (every block its group's
     * rows of h): the estimate differs from one group's at ceil(B / G) rows by (G - 1) P 4 B' K bytes
     * at the L2 rate alone (the cell operands' loads hide beside either product).
     */
    @Test
    void batchGroupsCutTheRowsEveryBlockReads() {
        RnnCostModel.Device four = H200.withBlocks(32).withGroups(4), one = H200.withBlocks(32);
        double l2 = 3.0 * 32 * 4 * 13 * 256 / RnnRates.ASSUMED.l2BytesPerUs(); // 3 more groups of 13 rows
        for (ProductArithmetic a : new ProductArithmetic[] {ProductArithmetic.FP32, ProductArithmetic.TF32_MMA}) {
            assertEquals(
                    RnnCostModel.forward(one, CellType.LSTM, 256, 13, a).persistentUs() + l2,
                    RnnCostModel.forward(four, CellType.LSTM, 256, 50, a).persistentUs(),
                    1e-9,
                    a.label);
            assertEquals( // backward: K = 4 H
                    RnnCostModel.backwardColumns(one, CellType.LSTM, 256, 13, a).persistentUs() + 4 * l2,
                    RnnCostModel.backwardColumns(four, CellType.LSTM, 256, 50, a)
                            .persistentUs(),
                    1e-9,
                    a.label);
        }
        // the row-stationary backward: a group's plan of 13 rows, and every group's blocks write and
        // read their shares (13 rows x H 256 a block, twice) through L2
        assertEquals(
                RnnCostModel.backwardRows(one, CellType.LSTM, 256, 13, ProductArithmetic.FP32)
                                .persistentUs()
                        + 2 * l2,
                RnnCostModel.backwardRows(four, CellType.LSTM, 256, 50, ProductArithmetic.FP32)
                        .persistentUs(),
                1e-9);
        // no group without rows: 3 groups of B 4 are 2 of 2 rows; B 1 is one group
        assertEquals(2, H200.withBlocks(32).withGroups(3).groupsAt(4));
        assertEquals(1, four.groupsAt(1));
        assertEquals(4, four.groupsAt(50));
        // at most one block per SM in all
        assertThrows(IllegalArgumentException.class, () -> H200.withBlocks(64).withGroups(3));
        assertThrows(IllegalArgumentException.class, () -> H200.withGroups(0));
    }

    @ParameterizedTest(name = "{0} H{1} B{2}: rows {3}")
    @CsvSource({
        // the row-stationary backward moves 2 B H floats per block and step through L2 against the
        // column-stationary's G B H, in no k-tiles: faster on every bench row of the LSTM and GRU
        "lstm, 256, 50, true",
        "gru, 256, 50, true",
        "lstm, 512, 128, true",
        "gru, 512, 128, true",
        "lstm, 1024, 128, true",
        "gru, 1024, 128, true",
        // sampling's B = 1 moves few bytes either way; the gather's round trip tips it to columns
        "lstm, 256, 1, false",
        // the RNN (G = 1) has the column-stationary backward only
        "rnn, 256, 50, false",
        "rnn, 1024, 128, false",
    })
    void theBackwardKernelByTheModel(String cell, int h, int b, boolean rows) {
        CellType c = CellType.parse(cell);
        for (ProductArithmetic a : ProductArithmetic.values()) {
            RnnCostModel.Estimate best = RnnCostModel.backward(H200, c, h, b, a);
            RnnCostModel.Estimate columns = RnnCostModel.backwardColumns(H200, c, h, b, a);
            // (on tensor cores the column-stationary product gets faster and the row-stationary one,
            // FMAs at every precision, does not: there the model may pick either)
            if (!a.mma) assertEquals(rows, best.rows(), a + " " + best.describe());
            assertTrue(best.persistentUs() <= columns.persistentUs(), a + " " + best.describe());
            assertEquals(columns.stepwiseUs(), best.stepwiseUs(), 1e-9);
            if (RnnCostModel.hasRows(c))
                assertTrue(RnnCostModel.backwardRows(H200, c, h, b, a).fits(), a + " " + best.describe());
        }
    }

    @Test
    void aBlockThatDoesNotFitRunsStepwiseWhateverTheEstimate() {
        // H 1056: U = 8, a 132 KiB W_hh slice; at B = 512 the products (32 x 512 floats) and an h
        // tile push the block past 227 KiB, at B = 128 it fits (180 KiB)
        RnnCostModel.Estimate f = RnnCostModel.forward(H200, CellType.LSTM, 1056, 512);
        assertFalse(f.fits());
        assertFalse(f.persistent());
        assertEquals("stepwise: the block does not fit in shared memory", f.describe());
        assertTrue(RnnCostModel.forward(H200, CellType.LSTM, 1056, 128).fits());
        assertFalse(PersistentChoice.decide(H200, CellType.LSTM, 1056, 512).backward());
    }

    @Test
    void aSlowerClockShiftsTheChoice() {
        // at under a sixth of the clock the product, the tiles' latency and the launches' FLOPs all
        // take longer, but the stepwise floor of launches does not: the small LSTM row's forward flips
        // (at a quarter, 0.5 GHz, it still runs persistent: 5.3 µs against 6.6)
        RnnCostModel.Device slow = new RnnCostModel.Device(132, 0.3, 227 << 10);
        assertTrue(PersistentChoice.decide(H200, CellType.LSTM, 256, 50).forward());
        assertFalse(PersistentChoice.decide(slow, CellType.LSTM, 256, 50).forward());
    }

    @ParameterizedTest(name = "{0} {1} H{2} B{3}: forward {4}, backward {5}")
    @CsvSource({
        // on tensor cores (TF32, bf16 from sm_80) the small row runs both passes persistent in batch
        // groups, as in fp32; sampling stays barrier-bound
        "TF32_MMA, lstm, 256, 50, true, true",
        "BF16_MMA, lstm, 256, 50, true, true",
        "TF32_MMA, rnn, 256, 50, true, true",
        "TF32_MMA, lstm, 256, 1, true, true",
        // the large rows: the product gets faster, but every block reading all of h (dgates) from
        // L2 alone takes longer than stepwise's GEMM at the tensor-core rate (change 2 of the doc),
        // and at H 1024 the slice of W_hh leaves no SMs for a second group
        "TF32_MMA, lstm, 1024, 128, false, false",
        "BF16_MMA, lstm, 1024, 128, false, false",
        // H 512 in bf16: 4 groups of 32 blocks read a quarter of h each, and the forward wins; the
        // backward's dgates, 3x the bytes, still lose
        "BF16_MMA, gru, 512, 128, true, false",
    })
    void autoOnTensorCores(ProductArithmetic a, String cell, int h, int b, boolean forward, boolean backward) {
        PersistentChoice choice = PersistentChoice.decide(H200, CellType.parse(cell), h, b, a);
        assertEquals(forward, choice.forward(), choice.line());
        assertEquals(backward, choice.backward(), choice.line());
    }

    @Test
    void tensorCoresShortenTheLargeRowsProducts() {
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN})
            for (ProductArithmetic a :
                    new ProductArithmetic[] {ProductArithmetic.TF32_MMA, ProductArithmetic.BF16_MMA}) {
                String what = c + " " + a;
                assertTrue(
                        RnnCostModel.forward(H200, c, 1024, 128, a).persistentUs()
                                < RnnCostModel.forward(H200, c, 1024, 128).persistentUs(),
                        what);
                assertTrue(
                        RnnCostModel.backwardColumns(H200, c, 1024, 128, a).persistentUs()
                                < RnnCostModel.backwardColumns(H200, c, 1024, 128, ProductArithmetic.FP32)
                                        .persistentUs(),
                        what);
                // and stepwise's GEMM runs at the tensor-core rate too
                assertTrue(
                        RnnCostModel.forward(H200, c, 1024, 128, a).stepwiseUs()
                                < RnnCostModel.forward(H200, c, 1024, 128).stepwiseUs(),
                        what);
            }
    }

    @Test
    void blockCountsRunFromOneBlockPerSmToAQuarterOfThat() {
        // U from ceil(H / SMs) to 4 times that, each distinct ceil(H / U)
        assertArrayEquals(new int[] {128, 86, 64, 52, 43, 37, 32}, RnnCostModel.blockCounts(256, 132));
        assertArrayEquals(new int[] {1}, RnnCostModel.blockCounts(1, 132));
        assertArrayEquals(new int[] {33, 17, 11, 9}, RnnCostModel.blockCounts(33, 132));
        int[] large = RnnCostModel.blockCounts(1024, 132);
        assertEquals(128, large[0]);
        assertEquals(32, large[large.length - 1]);
    }

    @Test
    void autoTakesFewerLargerBlocksWhereTheyPay() {
        // the small RNN row: 4 batch groups of 32 blocks of 8 units, a quarter of the rows of h read
        // by 128 blocks, 2.3 µs a pass (W_hh's rows in registers) against one group's 3.9 (64 blocks
        // of 4 units: 3.3; both k-tiled, so from shared memory)
        PersistentChoice rnn = PersistentChoice.decide(H200, CellType.RNN, 256, 50);
        assertEquals(8, rnn.units(), rnn.line());
        assertEquals(4, rnn.groups(), rnn.line());
        assertTrue(
                rnn.line()
                        .contains("(cost model, 132 SMs at 1.98 GHz, 227 KiB): 8 units a block in 4 batch groups (128"
                                + " blocks): forward persistent 2.3 µs"),
                rnn.line());
        assertEquals(
                3.3,
                RnnCostModel.forward(H200.withBlocks(64), CellType.RNN, 256, 50).persistentUs(),
                0.05);
        assertEquals(3.9, RnnCostModel.forward(H200, CellType.RNN, 256, 50).persistentUs(), 0.05);
        // so do the LSTM's and the GRU's, both passes, the backward row-stationary in the groups (LSTM
        // 4.0 µs against 6.9 in one group of 32 blocks and the columns' 4.9 in four; GRU 3.7, 6.0, 4.0)
        for (CellType cell : new CellType[] {CellType.LSTM, CellType.GRU}) {
            PersistentChoice c = PersistentChoice.decide(H200, cell, 256, 50);
            assertEquals(8, c.units(), c.line());
            assertEquals(4, c.groups(), c.line());
            assertTrue(c.forward() && c.backward() && c.rows(), c.line());
        }
        // sampling's one row is one group (of the fewest units that pay: 86 blocks of 3)
        assertEquals(1, PersistentChoice.decide(H200, CellType.LSTM, 256, 1).groups());
        // the large rows stay on the fewest: more units a block do not fit (LSTM) or cost more
        assertEquals(8, PersistentChoice.decide(H200, CellType.LSTM, 1024, 128).units());
        // stepwise's estimate has every SM whatever the blocks
        assertEquals(
                RnnCostModel.forward(H200, CellType.RNN, 256, 50).stepwiseUs(),
                RnnCostModel.forward(H200.withBlocks(64), CellType.RNN, 256, 50).stepwiseUs(),
                1e-12);
    }

    @Test
    void aForcedRunTakesTheUnitsWithTheLeastTimeForBothPasses() {
        // the small LSTM row forced: 4 batch groups of 32 blocks of 8 units (3.2 + 4.0 µs, rows)
        RnnCostModel.Device small =
                PersistentChoice.forcedGrid(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 0);
        assertEquals(8, RnnCostModel.units(256, small.maxBlocks()));
        assertEquals(4, small.groupsAt(50));
        // with the units given (-Dcharrnn.persistent.units) only the groups are the model's: at 2
        // units a block, 128 blocks leave no SMs for a second group; at 16, 16 blocks a group, 8
        // groups of 7 rows (3.0 + 3.6 µs, rows)
        assertEquals(
                1,
                PersistentChoice.forcedGrid(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 2)
                        .groupsAt(50));
        assertEquals(
                8,
                PersistentChoice.forcedGrid(H200, CellType.LSTM, 256, 50, ProductArithmetic.FP32, 16)
                        .groupsAt(50));
        // at H 1024 B 128 only the fewest units fit, in one group
        RnnCostModel.Device large =
                PersistentChoice.forcedGrid(H200, CellType.LSTM, 1024, 128, ProductArithmetic.FP32, 0);
        assertEquals(8, RnnCostModel.units(1024, large.maxBlocks()));
        assertEquals(1, large.groupsAt(128));
    }

    @Test
    void deviceNumbersMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RnnCostModel.Device(0, 1.98, 1 << 10));
        assertThrows(IllegalArgumentException.class, () -> new RnnCostModel.Device(132, 0, 1 << 10));
        assertThrows(IllegalArgumentException.class, () -> new RnnCostModel.Device(132, 1.98, 0));
        assertThrows(
                IllegalArgumentException.class,
                () -> new RnnCostModel.Device(132, 1.98, 1 << 10, RnnRates.ASSUMED, 133));
    }
}
