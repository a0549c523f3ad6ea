package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The price of the RNN's two layers as one wavefront (persistent_rnn_pair.cu): a tick of each pass
 * against the two layer-steps it replaces, where the pair fits, and what auto, on and off make of
 * it in the step cost model's trace. The rates are the assumed ones; only a GPU run can check them.
 */
class PairCostModelTest {
    private static final RnnCostModel.Device H200 = RnnCostModel.Device.h200();
    private static final ProductArithmetic FP32 = ProductArithmetic.FP32;
    private static final ProductArithmetic TF32 = ProductArithmetic.of(Precision.TF32, true);

    /** An H200 at the assumed rates but for its cluster barrier and DSMEM rate. */
    private static RnnCostModel.Device h200(double clusterBarrierUs, double dsmemBytesPerUs) {
        RnnRates r = RnnRates.ASSUMED;
        return RnnClusterModelTest.h200(r.gridBarrierUs(), r.l2BytesPerUs(), clusterBarrierUs, 0, dsmemBytesPerUs);
    }

    /**
     * One barrier a tick for both layers against one a layer-step each: a microsecond more of barrier
     * costs a tick one more and the two layer-steps it replaces two more (the cell loads hidden
     * beside it at either barrier).
     */
    @Test
    void aTickPaysOneBarrierWhereTheLayersPayTwo() {
        for (ProductArithmetic a : List.of(FP32, TF32)) {
            PairCostModel.Estimate e1 = PairCostModel.of(h200(1, RnnRates.DSMEM_ASSUMED), 256, 50, a);
            PairCostModel.Estimate e2 = PairCostModel.of(h200(2, RnnRates.DSMEM_ASSUMED), 256, 50, a);
            assertEquals(1, e2.forwardTickUs() - e1.forwardTickUs(), 1e-9, a.toString());
            assertEquals(1, e2.backwardTickUs() - e1.backwardTickUs(), 1e-9, a.toString());
            assertEquals(2, e2.forwardStepsUs() - e1.forwardStepsUs(), 1e-9, a.toString());
            assertEquals(2, e2.backwardStepsUs() - e1.backwardStepsUs(), 1e-9, a.toString());
        }
    }

    /**
     * Each pass exchanges both layers' values a tick, as many bytes as the two layer-steps it
     * replaces: while the layers exchange too, a slower DSMEM costs a tick what it costs them. Where
     * the layers would stage through L2 instead (a DSMEM far slower than assumed), the pair, which
     * cannot, loses.
     */
    @Test
    void aTickExchangesWhatTheTwoLayerStepsExchange() {
        double fast = 1e5, slow = 5e4; // bytes per µs: at both the layers take the exchange
        PairCostModel.Estimate e1 = PairCostModel.of(h200(0.5, fast), 256, 50, TF32);
        PairCostModel.Estimate e2 = PairCostModel.of(h200(0.5, slow), 256, 50, TF32);
        double tick = e2.forwardTickUs() - e1.forwardTickUs();
        // 4 rows of 32 units of both layers, 4 bytes each, to the 7 other blocks: 7168 bytes a tick
        assertEquals(7168 / slow - 7168 / fast, tick, 1e-9);
        assertEquals(tick, e2.forwardStepsUs() - e1.forwardStepsUs(), 1e-9);
        assertEquals(tick, e2.backwardTickUs() - e1.backwardTickUs(), 1e-9);
        assertEquals(tick, e2.backwardStepsUs() - e1.backwardStepsUs(), 1e-9);
        assertTrue(e1.pays() && e2.pays(), e2::toString);
        PairCostModel.Estimate staging = PairCostModel.of(h200(0.5, 1e3), 256, 50, TF32);
        assertTrue(staging.fits() && !staging.pays(), staging::toString);
    }

    /**
     * At the assumed rates the pair pays where the barrier outweighs a tick's larger products (the
     * bench's RNN row in both precisions, H 1, 33, B 1), not where fp32's 2U x 2H product outgrows
     * two layer-steps (H 256 at B 128), and does not fit past H 256 (the forward's 2U rows of 2H).
     */
    @ParameterizedTest(name = "{0} H{1} B{2}: fits {3}, pays {4}")
    @CsvSource({
        "fp32, 256, 50, true, true",
        "tf32, 256, 50, true, true",
        "fp32, 1, 1, true, true",
        "tf32, 33, 50, true, true",
        "tf32, 256, 128, true, true",
        "fp32, 256, 128, true, false",
        "fp32, 512, 50, false, false",
        "tf32, 1024, 128, false, false",
    })
    void paysWhereTheBarrierOutweighsTheLargerProducts(String p, int H, int B, boolean fits, boolean pays) {
        ProductArithmetic a = ProductArithmetic.of(Precision.parse(p), true);
        PairCostModel.Estimate e = PairCostModel.of(H200, H, B, a);
        assertEquals(fits, e.fits(), e::toString);
        assertEquals(pays, e.pays(), e::toString);
        assertEquals(RnnCostModel.clusters(H200, B), e.clusters());
        assertTrue(
                e.describe()
                        .startsWith(
                                !fits
                                        ? "one layer a launch: "
                                        : pays
                                                ? "two layers a launch (a tick "
                                                : "one layer a launch (two layer-steps "),
                e.describe());
    }

    /**
     * The forward's product skips layer a's zeros against h_b (cr_pair_forward_plan's ra = U, ka = H)
     * in the items of layer a's rows alone. fp32 at the bench's RNN row (U 32, 4 batch rows, 16
     * items of 4 rows, 16 lanes each, a resident slice): a warp's 16 FFMAs and one 16-byte load of
     * x a k, issued 4 a clock, 16 items x 512 k / 32 x 17 / 4 = 1088 clocks (the loads of x, 2
     * wavefronts a warp: 16 lanes' rows k of 16 bytes, plus the staging's 4 x 512 / 32, 576), become
     * (8 x 512 + 8 x 256) / 32 x 17 / 4 = 816 with layer a's 8 items at k 256. At U 5 (H 33, 3
     * items) layer a's second item holds layer b's
     * first rows: only its first stops early. TF32 on tensor cores: layer b's group of tiles still
     * runs all 64 k-steps, a chain of 16 a warp, which sets the time either way.
     */
    @Test
    void theForwardProductSkipsLayerAsZerosWhereItsItemsHoldThemAlone() {
        RnnRates r = RnnRates.ASSUMED;
        PersistentPlan f = PersistentPairs.forwardPlan(32, 256, 4, FP32);
        assertTrue(f.resident(), f::toString);
        assertEquals(1088, ProductClocks.of(r, f, true), 1e-9);
        assertEquals(816, ProductClocks.of(r, f, true, 32, 256), 1e-9);
        PersistentPlan odd = PersistentPairs.forwardPlan(5, 33, 4, FP32); // 12 rows padded: 3 items
        double full = ProductClocks.of(r, odd, true), skipped = ProductClocks.of(r, odd, true, 5, 33);
        assertEquals(ProductClocks.of(r, odd, true, 4, 33), skipped, 1e-9); // the first item alone
        assertTrue(skipped < full, () -> full + " " + skipped);
        PersistentPlan mma = PersistentPairs.forwardPlan(32, 256, 4, TF32);
        assertEquals(16 * r.mmaLatency(), ProductClocks.of(r, mma, true), 1e-9);
        assertEquals(ProductClocks.of(r, mma, true), ProductClocks.of(r, mma, true, 32, 256), 1e-9);
    }

    /**
     * The backward's plan a keeps its slice in the upper half of the registers where both plans'
     * parts fit in half of them: at the bench's RNN row fp32's plan b needs 16 of a thread's 32 k and
     * plan a 8, TF32's 8 and 4 of a warp's 16 k-steps; at 16 batch rows a cluster (B 128 in 8
     * clusters) fp32's plan b has 2 lanes a tile, 128 k a thread, and neither is resident. Plan a's
     * part of the tick, from shared memory before, at the bench's row: fp32 544 -> 288 clocks of x
     * and a loads, TF32 384 -> 128.
     */
    @Test
    void theBackwardsPlanATakesTheUpperHalfOfTheRegistersWhereBothFit() {
        RnnRates r = RnnRates.ASSUMED;
        for (ProductArithmetic a : List.of(FP32, TF32)) {
            PersistentPlan[] b = PersistentPairs.backwardPlans(32, 256, 4, a);
            assertTrue(b[0].resident() && b[0].halfFits() && b[1].halfFits(), a.toString());
            assertTrue(PersistentPairs.backwardResidentA(b), a.toString());
            assertEquals(a == FP32 ? 544 : 384, ProductClocks.of(r, b[1], false), 1e-9, a.toString());
            assertEquals(a == FP32 ? 288 : 128, ProductClocks.of(r, b[1], true), 1e-9, a.toString());
            assertFalse(
                    CudaTestSupport.withProperty(
                            PersistentKnobs.REGISTERS_PROPERTY, "off", () -> PersistentPairs.backwardResidentA(b)),
                    a.toString());
        }
        PersistentPlan[] wide = PersistentPairs.backwardPlans(32, 256, 16, FP32);
        assertFalse(wide[0].halfFits(), wide[0]::toString);
        assertFalse(PersistentPairs.backwardResidentA(wide));
    }

    /** On runs a pair that fits whatever it costs, off never, auto where it pays and there is a price. */
    @Test
    void theKnobRunsThePairWhereItSays() {
        PairCostModel.Estimate pays = PairCostModel.of(H200, 256, 50, TF32);
        PairCostModel.Estimate loses = PairCostModel.of(H200, 256, 128, FP32);
        assertTrue(PairCostModel.runs(PersistentPairs.Wavefront.ON, loses));
        assertTrue(PairCostModel.runs(PersistentPairs.Wavefront.ON, null));
        assertFalse(PairCostModel.runs(PersistentPairs.Wavefront.OFF, pays));
        assertTrue(PairCostModel.runs(PersistentPairs.Wavefront.AUTO, pays));
        assertFalse(PairCostModel.runs(PersistentPairs.Wavefront.AUTO, loses));
        assertFalse(PairCostModel.runs(PersistentPairs.Wavefront.AUTO, null));
    }

    /** A pair needs both passes persistent in the cluster layout, each with the exchange. */
    @Test
    void onlyAClusterChoiceWithTheExchangeBothWaysIsACandidate() {
        Exchange both = new Exchange(true, true);
        assertTrue(PairCostModel.candidate(new PersistentChoice(true, true, false, 32, 13, both, "")));
        assertFalse(PairCostModel.candidate(null));
        assertFalse(PairCostModel.candidate(new PersistentChoice(true, false, false, 32, 13, both, "")));
        assertFalse(PairCostModel.candidate(
                new PersistentChoice(true, true, false, 32, 13, new Exchange(true, false), "")));
        assertFalse(PairCostModel.candidate(PersistentChoice.grid(true, true, false, 2, 1, "")));
    }

    private static final ModelConfig RNN = new ModelConfig(CellType.RNN, 65, 256, 256, 2, 0.0);

    private static <T> T withWavefront(String v, java.util.function.Supplier<T> f) {
        return CudaTestSupport.withProperty(PersistentPairs.PROPERTY, v, f);
    }

    /**
     * In the step's trace auto runs the bench's RNN row's two layers as one launch a pass of T + 1
     * ticks, with neither of the upper layer's GEMMs at the pair's boundary (its input projection,
     * its input gradient): the step is cheaper than off's, by the model's own prices.
     */
    @Test
    void autoTracesThePairAndDropsTheUpperLayersBoundaryGemms() {
        int B = 50, T = 50;
        for (Precision p : List.of(Precision.FP32, Precision.TF32)) {
            StepCostModel.Prediction auto =
                    withWavefront("auto", () -> StepCostModel.predict(RNN, B, T, p, RnnKernel.AUTO));
            StepCostModel.Prediction off =
                    withWavefront("off", () -> StepCostModel.predict(RNN, B, T, p, RnnKernel.AUTO));
            assertEquals(off.gemmCount() - 2, auto.gemmCount(), p + ": " + auto);
            assertTrue(auto.recurrence().endsWith(", layers two a launch)"), auto.recurrence());
            assertFalse(off.recurrence().contains("layers two a launch"), off.recurrence());
            assertTrue(auto.total() < off.total(), auto + " vs " + off);
            PairCostModel.Estimate e = PairCostModel.of(H200, 256, B, ProductArithmetic.of(p, true));
            StepCostModel.Rates rates = StepCostModel.Rates.assumed(H200);
            assertEquals((rates.kernelUs(0) + (T + 1) * e.forwardTickUs()) / 1e3, auto.forwardRecurrence(), 1e-9);
            assertEquals((rates.kernelUs(0) + (T + 1) * e.backwardTickUs()) / 1e3, auto.backwardRecurrence(), 1e-9);
            List<String> names =
                    withWavefront("auto", () -> StepCostModel.trace(RNN, B, T, p, RnnKernel.AUTO)).ops().stream()
                            .map(StepTrace.Op::name)
                            .toList();
            assertTrue(
                    names.contains("persistent pair forward") && names.contains("persistent pair backward"),
                    names::toString);
            // the weight gradients after the pair's backward, no recurrence left to hide them: the upper
            // layer's dW_ih on the side stream, its dW_hh and layer 0's on the main one; one layer a
            // launch, all three on the side (layer 1's beside layer 0's recurrence)
            for (String w : List.of("auto", "off")) {
                List<StepTrace.Op> weights =
                        withWavefront(w, () -> StepCostModel.trace(RNN, B, T, p, RnnKernel.AUTO)).ops().stream()
                                .filter(o -> o.name().equals("gemm 256x256x2500"))
                                .toList();
                assertEquals(3, weights.size(), weights::toString);
                assertEquals(
                        w.equals("auto") ? 1 : 3,
                        weights.stream().filter(StepTrace.Op::side).count(),
                        w);
            }
            assertFalse(names.contains("persistent forward") || names.contains("persistent backward"), names::toString);
        }
    }

    /** On pairs even where auto would not; an LSTM, a single layer or dropout never pairs. */
    @Test
    void onPairsWhereAutoWouldNotAndOtherModelsNever() {
        ModelConfig wide = new ModelConfig(CellType.RNN, 65, 256, 256, 2, 0.0);
        String auto = withWavefront(
                        "auto", () -> StepCostModel.predict(wide, 128, 50, Precision.FP32, RnnKernel.PERSISTENT))
                .recurrence();
        String on = withWavefront(
                        "on", () -> StepCostModel.predict(wide, 128, 50, Precision.FP32, RnnKernel.PERSISTENT))
                .recurrence();
        assertFalse(auto.contains("layers two a launch"), auto);
        assertTrue(on.contains("layers two a launch"), on);
        for (ModelConfig cfg : List.of(
                new ModelConfig(CellType.LSTM, 65, 256, 256, 2, 0.0),
                new ModelConfig(CellType.RNN, 65, 256, 256, 1, 0.0),
                new ModelConfig(CellType.RNN, 65, 256, 256, 2, 0.25))) {
            int withPair = withWavefront("on", () -> StepCostModel.predict(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO))
                    .gemmCount();
            int without = withWavefront("off", () -> StepCostModel.predict(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO))
                    .gemmCount();
            assertEquals(without, withPair, cfg::toString);
        }
    }
}
