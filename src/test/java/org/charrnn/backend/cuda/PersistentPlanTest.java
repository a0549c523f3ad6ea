package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The host's copy of the persistent kernels' plan (persistent_common.cuh) gives the values that
 * cr_persistent_plan and persistent_shared_bytes give for the same shapes: the bench rows of every
 * cell, B = 1, and the awkward shapes of the native harnesses. A launch with fewer bytes than the
 * kernel's plan would let it write past its shared memory, so these must match exactly.
 */
class PersistentPlanTest {

    @ParameterizedTest(name = "G={0} U={1} H={2} B={3}")
    @CsvSource({
        // G, U, H, B, forward RP BP XS KT S bytes, backward RP BP XS KT S bytes, shared (from the .cuh)
        "4, 2, 256, 50, 8, 52, 52, 157, 8, 54160, 4, 52, 54, 151, 16, 54128, 54160",
        "4, 4, 512, 128, 16, 128, 144, 56, 2, 81408, 4, 128, 132, 62, 8, 81888, 81888",
        "4, 8, 1024, 128, 32, 128, 128, 64, 1, 180224, 8, 128, 136, 60, 4, 180096, 180224",
        "3, 2, 256, 50, 8, 52, 52, 157, 8, 52112, 4, 52, 54, 151, 16, 52080, 52112",
        "1, 2, 256, 50, 4, 52, 54, 151, 16, 47984, 4, 52, 54, 151, 16, 47984, 47984",
        "3, 8, 1024, 128, 24, 128, 128, 64, 1, 143360, 8, 128, 136, 60, 4, 147328, 147328",
        "1, 8, 1024, 128, 8, 128, 136, 60, 4, 81792, 8, 128, 136, 60, 4, 81792, 81792",
        "4, 1, 1, 1, 4, 4, 5, 1, 32, 2096, 4, 4, 5, 4, 32, 2144, 2144",
        "4, 5, 33, 3, 20, 4, 5, 33, 32, 13552, 8, 4, 5, 132, 32, 9376, 13552",
        "4, 33, 229, 37, 132, 40, 40, 204, 1, 174672, 36, 40, 48, 170, 2, 165072, 174672",
        "1, 2, 256, 1, 4, 4, 5, 256, 32, 9216, 4, 4, 5, 256, 32, 9216, 9216",
    })
    void matchesTheKernelsPlan(
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
        PersistentPlan f = PersistentPlan.forward(g, u, h, b), k = PersistentPlan.backward(g, u, h, b);
        assertEquals(new PersistentPlan(g * u, h, b, fRp, fBp, fXs, fKt, fS), f);
        assertEquals(fBytes, f.bytes());
        assertEquals(new PersistentPlan(u, g * h, b, bRp, bBp, bXs, bKt, bS), k);
        assertEquals(bBytes, k.bytes());
        assertEquals(shared, PersistentPlan.sharedBytes(g, u, h, b));
    }
}
