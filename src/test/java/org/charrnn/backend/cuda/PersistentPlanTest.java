package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.backend.Precision;
import org.charrnn.model.CellType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The host's copy of the persistent kernels' plan (persistent_common.cuh) gives the values that
 * cr_persistent_plan and persistent_shared_bytes give for the same shapes: the bench rows of every
 * cell, B = 1, and the awkward shapes of the native harnesses, with the W_hh slice in fp32 and in
 * bf16. A launch with fewer bytes than the
 * kernel's plan would let it write past its shared memory, so these must match exactly.
 */
class PersistentPlanTest {

    @ParameterizedTest(name = "elem={0} G={1} U={2} H={3} B={4}")
    @CsvSource({
        // elem (4 fp32/tf32, 2 bf16), G, U, H, B, forward RP BP XS KT S bytes, backward RP BP XS KT S bytes,
        // shared: printed by cr_persistent_plan and persistent_shared_bytes of persistent_common.cuh
        "4, 4, 2, 256, 50, 8, 52, 52, 157, 8, 54160, 4, 52, 54, 151, 16, 54128, 54160",
        "4, 4, 4, 512, 128, 16, 128, 144, 56, 2, 81408, 4, 128, 132, 62, 8, 81888, 81888",
        "4, 4, 8, 1024, 128, 32, 128, 128, 64, 1, 180224, 8, 128, 136, 60, 4, 180096, 180224",
        "4, 3, 2, 256, 50, 8, 52, 52, 157, 8, 52112, 4, 52, 54, 151, 16, 52080, 52112",
        "4, 1, 2, 256, 50, 4, 52, 54, 151, 16, 47984, 4, 52, 54, 151, 16, 47984, 47984",
        "4, 3, 8, 1024, 128, 24, 128, 128, 64, 1, 143360, 8, 128, 136, 60, 4, 147328, 147328",
        "4, 1, 8, 1024, 128, 8, 128, 136, 60, 4, 81792, 8, 128, 136, 60, 4, 81792, 81792",
        "4, 4, 1, 1, 1, 4, 4, 5, 1, 32, 2096, 4, 4, 5, 4, 32, 2144, 2144",
        "4, 4, 5, 33, 3, 20, 4, 5, 33, 32, 13552, 8, 4, 5, 132, 32, 9376, 13552",
        "4, 4, 33, 229, 37, 132, 40, 40, 204, 1, 174672, 36, 40, 48, 170, 2, 165072, 174672",
        "4, 1, 2, 256, 1, 4, 4, 5, 256, 32, 9216, 4, 4, 5, 256, 32, 9216, 9216",
        "4, 4, 12, 1500, 128, 48, 128, 128, 64, 1, 345344, 12, 128, 144, 56, 2, 332544, 345344",
        "4, 4, 3, 33, 5, 12, 8, 9, 33, 32, 15072, 4, 8, 9, 132, 32, 10432, 15072",
        "2, 4, 2, 256, 50, 8, 52, 52, 157, 8, 50064, 4, 52, 54, 151, 16, 50032, 50064",
        "2, 4, 4, 512, 128, 16, 128, 144, 56, 2, 65024, 4, 128, 132, 62, 8, 65504, 65504",
        "2, 4, 8, 1024, 128, 32, 128, 128, 64, 1, 114688, 8, 128, 136, 60, 4, 114560, 114688",
        "2, 3, 2, 256, 50, 8, 52, 52, 157, 8, 49040, 4, 52, 54, 151, 16, 49008, 49040",
        "2, 1, 2, 256, 50, 4, 52, 54, 151, 16, 46960, 4, 52, 54, 151, 16, 46960, 46960",
        "2, 3, 8, 1024, 128, 24, 128, 128, 64, 1, 94208, 8, 128, 136, 60, 4, 98176, 98176",
        "2, 1, 8, 1024, 128, 8, 128, 136, 60, 4, 65408, 8, 128, 136, 60, 4, 65408, 65408",
        "2, 4, 1, 1, 1, 4, 4, 5, 1, 32, 2096, 4, 4, 5, 4, 32, 2144, 2144",
        "2, 4, 5, 33, 3, 20, 4, 5, 33, 32, 12240, 8, 4, 5, 132, 32, 8064, 12240",
        "2, 4, 33, 229, 37, 132, 40, 40, 204, 1, 114224, 36, 40, 48, 170, 2, 104624, 114224",
        "2, 1, 2, 256, 1, 4, 4, 5, 256, 32, 8192, 4, 4, 5, 256, 32, 8192, 8192",
        "2, 4, 12, 1500, 128, 48, 128, 128, 64, 1, 201344, 12, 128, 144, 56, 2, 188544, 201344",
        "2, 4, 3, 33, 5, 12, 8, 9, 33, 32, 14288, 4, 8, 9, 132, 32, 9648, 14288",
    })
    void matchesTheKernelsPlan(
            int elem,
            int g,
            int u,
            int h,
            int b,
            int fRp,
            int fBp,
            int fXs,
            int fKt,
            int fS,
            long fBytes,
            int bRp,
            int bBp,
            int bXs,
            int bKt,
            int bS,
            long bBytes,
            long shared) {
        PersistentPlan f = PersistentPlan.forward(g, u, h, b, elem), k = PersistentPlan.backward(g, u, h, b, elem);
        assertEquals(new PersistentPlan(g * u, h, b, fRp, fBp, fXs, fKt, fS, elem), f);
        assertEquals(fBytes, f.bytes());
        assertEquals(new PersistentPlan(u, g * h, b, bRp, bBp, bXs, bKt, bS, elem), k);
        assertEquals(bBytes, k.bytes());
        assertEquals(shared, PersistentPlan.sharedBytes(g, u, h, b, elem));
    }

    @Test
    void bf16FitsALargerHidden() {
        int limit = 227 << 10, sms = 132;
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
            int fp32 = PersistentRnn.largestHidden(c, sms, limit, 4),
                    bf16 = PersistentRnn.largestHidden(c, sms, limit, 2);
            assertTrue(bf16 > fp32 * 5 / 4, c + ": bf16 H <= " + bf16 + ", fp32 H <= " + fp32);
        }
        assertEquals(4, PersistentPlan.elemBytes(Precision.TF32));
        assertEquals(2, PersistentPlan.elemBytes(Precision.BF16));
        assertEquals(1, PersistentPlan.kernelPrecision(Precision.TF32));
        assertEquals(2, PersistentPlan.kernelPrecision(Precision.BF16));
    }
}
