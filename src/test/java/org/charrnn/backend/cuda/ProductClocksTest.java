package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The FMA product's loads of x (persistent_fma.cuh's two layouts) in wavefronts of a warp, and the
 * issue slots its FFMAs share with its loads.
 */
class ProductClocksTest {

    /**
     * Vector layout (x[k XS + b], a thread's 4 rows b one 16-byte load): the LSTM H256 B50 forward
     * of a cluster block (8 lanes, one column of items, XS 4) reads 8 rows k of one chunk each, one
     * chunk in each quad of banks: one wavefront; the RNN pair's forward (16 lanes) 16 chunks: two;
     * 4 lanes over 4 columns of items (XS 24) 16 chunks, two in each quad: two; 32 lanes (XS 12) 32
     * chunks: four. Strided layout (4 loads of 4 bytes): each load's 32 words in 32 banks, one
     * wavefront each: four, whatever the vector layout's count.
     */
    @Test
    void aWarpsLoadsOfXTakeTheWavefrontsItsBanksNeed() {
        ProductArithmetic fp32 = ProductArithmetic.FP32;
        PersistentPlan lstm = PersistentPlan.forward(4, 32, 256, 4, fp32);
        assertEquals(8, lstm.lanes());
        assertEquals(4, lstm.stride());
        assertEquals(1, ProductClocks.xWavefronts(lstm));
        assertEquals(2, ProductClocks.xWavefronts(PersistentPairs.forwardPlan(32, 256, 4, fp32)));
        PersistentPlan four = PersistentPlan.of(64, 512, 13, fp32, true);
        assertEquals(4, four.lanes());
        assertEquals(24, four.stride());
        assertEquals(2, ProductClocks.xWavefronts(four));
        assertEquals(4, ProductClocks.xWavefronts(PersistentPlan.of(64, 512, 13, fp32, false)));
        PersistentPlan wide = PersistentPlan.of(8, 64, 8, fp32, true);
        assertEquals(32, wide.lanes());
        assertEquals(12, wide.stride()); // a multiple of 4 in the vector layout; the strided one's is 9
        assertEquals(9, PersistentPlan.of(8, 64, 8, fp32, false).stride());
        assertEquals(4, ProductClocks.xWavefronts(wide));
        assertEquals(4, ProductClocks.xWavefronts(PersistentPlan.backward(4, 2, 256, 50, fp32)));
    }

    /**
     * A warp's k issues its 16 FFMAs and its loads at 4 warp instructions a clock, one a scheduler:
     * the LSTM H256 B50 forward (256 k of a warp) resident 256 x (16 + 1) / 4 = 1088 clocks, over its
     * FMAs' 1024; with a's 4 loads (registers off) 256 x 21 / 4 = 1344, over its shared loads' 1312.
     * In the strided layout, x's 4 loads: 256 x 20 / 4 = 1280 resident.
     */
    @Test
    void theFfmasShareTheIssueSlotsWithTheLoads() {
        RnnRates r = RnnRates.ASSUMED;
        PersistentPlan vector = PersistentPlan.forward(4, 32, 256, 4, ProductArithmetic.FP32);
        assertEquals(1088, ProductClocks.of(r, vector, true), 1e-9);
        assertEquals(1344, ProductClocks.of(r, vector, false), 1e-9);
        PersistentPlan strided = PersistentPlan.of(128, 256, 4, ProductArithmetic.FP32, false);
        assertEquals(1280, ProductClocks.of(r, strided, true), 1e-9);
    }
}
