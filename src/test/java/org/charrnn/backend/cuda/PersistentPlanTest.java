package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * bf16, on FMAs and on tensor cores. A launch with fewer bytes than the kernel's plan would let it
 * write past its shared memory, so these must match exactly.
 */
class PersistentPlanTest {

    @ParameterizedTest(name = "{0} G={1} U={2} H={3} B={4}")
    @CsvSource({
        // arithmetic, G, U, H, B, forward RP BP XS KT S AS bytes, backward RP BP XS KT S AS bytes, shared:
        // printed by cr_persistent_plan and persistent_shared_bytes of persistent_common.cuh, the forward
        // with cr_forward_x_prec(G) (TF32 without tensor cores has FP32's plan; an mma plan with RP a
        // multiple of 8 only is transposed; G > 1 forward: x in the vector layout, XS a multiple of 4)
        "FP32, 4, 2, 256, 50, 8, 52, 52, 157, 8, 256, 54160, 4, 52, 54, 151, 16, 1024, 54128, 54160",
        "FP32, 4, 4, 512, 128, 16, 128, 144, 56, 2, 512, 81408, 4, 128, 132, 62, 8, 2048, 81888, 81888",
        "FP32, 4, 8, 1024, 128, 32, 128, 128, 64, 1, 1024, 180224, 8, 128, 136, 60, 4, 4096, 180096, 180224",
        "FP32, 3, 2, 256, 50, 8, 52, 52, 157, 8, 256, 52112, 4, 52, 54, 151, 16, 768, 52080, 52112",
        "FP32, 1, 2, 256, 50, 4, 52, 54, 151, 16, 256, 47984, 4, 52, 54, 151, 16, 256, 47984, 47984",
        "FP32, 3, 8, 1024, 128, 24, 128, 128, 64, 1, 1024, 143360, 8, 128, 136, 60, 4, 3072, 147328, 147328",
        "FP32, 1, 8, 1024, 128, 8, 128, 136, 60, 4, 1024, 81792, 8, 128, 136, 60, 4, 1024, 81792, 81792",
        "FP32, 4, 1, 1, 1, 4, 4, 4, 1, 32, 1, 2080, 4, 4, 5, 4, 32, 4, 2144, 2144",
        "FP32, 4, 5, 33, 3, 20, 4, 4, 33, 32, 33, 13408, 8, 4, 5, 132, 32, 132, 9376, 13408",
        "FP32, 4, 33, 229, 37, 132, 40, 40, 204, 1, 229, 174672, 36, 40, 48, 170, 2, 916, 165072, 174672",
        "FP32, 1, 2, 256, 1, 4, 4, 5, 256, 32, 256, 9216, 4, 4, 5, 256, 32, 256, 9216, 9216",
        "FP32, 4, 12, 1500, 128, 48, 128, 128, 64, 1, 1500, 345344, 12, 128, 144, 56, 2, 6000, 332544, 345344",
        "FP32, 4, 3, 33, 5, 12, 8, 12, 33, 32, 33, 15456, 4, 8, 9, 132, 32, 132, 10432, 15456",
        "FP32, 4, 6, 48, 40, 24, 40, 40, 48, 4, 48, 27648, 8, 40, 44, 186, 8, 192, 47584, 47584",
        "BF16, 4, 2, 256, 50, 8, 52, 52, 157, 8, 256, 50064, 4, 52, 54, 151, 16, 1024, 50032, 50064",
        "BF16, 4, 4, 512, 128, 16, 128, 144, 56, 2, 512, 65024, 4, 128, 132, 62, 8, 2048, 65504, 65504",
        "BF16, 4, 8, 1024, 128, 32, 128, 128, 64, 1, 1024, 114688, 8, 128, 136, 60, 4, 4096, 114560, 114688",
        "BF16, 3, 2, 256, 50, 8, 52, 52, 157, 8, 256, 49040, 4, 52, 54, 151, 16, 768, 49008, 49040",
        "BF16, 1, 2, 256, 50, 4, 52, 54, 151, 16, 256, 46960, 4, 52, 54, 151, 16, 256, 46960, 46960",
        "BF16, 3, 8, 1024, 128, 24, 128, 128, 64, 1, 1024, 94208, 8, 128, 136, 60, 4, 3072, 98176, 98176",
        "BF16, 1, 8, 1024, 128, 8, 128, 136, 60, 4, 1024, 65408, 8, 128, 136, 60, 4, 1024, 65408, 65408",
        "BF16, 4, 1, 1, 1, 4, 4, 4, 1, 32, 1, 2080, 4, 4, 5, 4, 32, 4, 2144, 2144",
        "BF16, 4, 5, 33, 3, 20, 4, 4, 33, 32, 33, 12096, 8, 4, 5, 132, 32, 132, 8064, 12096",
        "BF16, 4, 33, 229, 37, 132, 40, 40, 204, 1, 229, 114224, 36, 40, 48, 170, 2, 916, 104624, 114224",
        "BF16, 1, 2, 256, 1, 4, 4, 5, 256, 32, 256, 8192, 4, 4, 5, 256, 32, 256, 8192, 8192",
        "BF16, 4, 12, 1500, 128, 48, 128, 128, 64, 1, 1500, 201344, 12, 128, 144, 56, 2, 6000, 188544, 201344",
        "BF16, 4, 3, 33, 5, 12, 8, 12, 33, 32, 33, 14672, 4, 8, 9, 132, 32, 132, 9648, 14672",
        "TF32_MMA, 4, 2, 256, 50, 8, 64, 132, 128, 4, 260, 50304, 8, 64, 132, 128, 4, 1028, 50208, 50304",
        "TF32_MMA, 4, 4, 512, 128, 16, 128, 68, 64, 1, 516, 76032, 8, 128, 68, 64, 2, 2052, 75840, 76032",
        "TF32_MMA, 4, 8, 1024, 128, 32, 128, 68, 64, 1, 1028, 182784, 8, 128, 68, 64, 2, 4100, 174208, 182784",
        "TF32_MMA, 3, 2, 256, 50, 8, 64, 132, 128, 4, 260, 48224, 8, 64, 132, 128, 4, 772, 48160, 48224",
        "TF32_MMA, 1, 2, 256, 50, 8, 64, 132, 128, 4, 260, 44064, 8, 64, 132, 128, 4, 260, 44064, 44064",
        "TF32_MMA, 3, 8, 1024, 128, 24, 128, 68, 64, 1, 1028, 145792, 8, 128, 68, 64, 2, 3076, 141440, 145792",
        "TF32_MMA, 1, 8, 1024, 128, 8, 128, 68, 64, 2, 1028, 75904, 8, 128, 68, 64, 2, 1028, 75904, 75904",
        "TF32_MMA, 4, 1, 1, 1, 16, 8, 12, 8, 8, 12, 4672, 16, 8, 12, 8, 8, 12, 4528, 4672",
        "TF32_MMA, 4, 5, 33, 3, 32, 8, 44, 40, 8, 44, 13120, 16, 8, 140, 136, 8, 140, 11376, 13120",
        "TF32_MMA, 4, 33, 229, 37, 144, 40, 204, 200, 1, 236, 180288, 48, 40, 204, 200, 1, 924, 162288, 180288",
        "TF32_MMA, 1, 2, 256, 1, 16, 8, 260, 256, 8, 260, 14496, 16, 8, 260, 256, 8, 260, 14496, 14496",
        "TF32_MMA, 4, 12, 1500, 128, 48, 128, 68, 64, 1, 1508, 348928, 16, 128, 68, 64, 1, 6004, 331200, 348928",
        "TF32_MMA, 4, 3, 33, 5, 16, 8, 44, 40, 8, 44, 7616, 16, 8, 140, 136, 8, 140, 10256, 10256",
        "TF32_MMA, 4, 6, 48, 40, 24, 48, 52, 48, 2, 52, 24192, 8, 48, 172, 168, 4, 196, 43872, 43872",
        "BF16_MMA, 4, 2, 256, 50, 8, 64, 132, 256, 4, 264, 46208, 8, 64, 132, 256, 4, 1032, 46112, 46208",
        "BF16_MMA, 4, 4, 512, 128, 16, 128, 68, 128, 1, 520, 59648, 8, 128, 68, 128, 2, 2056, 59456, 59648",
        "BF16_MMA, 4, 8, 1024, 128, 32, 128, 68, 128, 1, 1032, 117248, 8, 128, 68, 128, 2, 4104, 108672, 117248",
        "BF16_MMA, 3, 2, 256, 50, 8, 64, 132, 256, 4, 264, 45152, 8, 64, 132, 256, 4, 776, 45088, 45152",
        "BF16_MMA, 1, 2, 256, 50, 8, 64, 132, 256, 4, 264, 43040, 8, 64, 132, 256, 4, 264, 43040, 43040",
        "BF16_MMA, 3, 8, 1024, 128, 24, 128, 68, 128, 1, 1032, 96640, 8, 128, 68, 128, 2, 3080, 92288, 96640",
        "BF16_MMA, 1, 8, 1024, 128, 8, 128, 68, 128, 2, 1032, 59520, 8, 128, 68, 128, 2, 1032, 59520, 59520",
        "BF16_MMA, 4, 1, 1, 1, 16, 8, 12, 16, 8, 24, 4672, 16, 8, 12, 16, 8, 24, 4528, 4672",
        "BF16_MMA, 4, 5, 33, 3, 32, 8, 28, 48, 8, 56, 11328, 16, 8, 76, 144, 8, 152, 8048, 11328",
        "BF16_MMA, 4, 33, 229, 37, 144, 40, 124, 240, 1, 248, 108352, 48, 40, 204, 400, 1, 936, 102096, 108352",
        "BF16_MMA, 1, 2, 256, 1, 16, 8, 132, 256, 8, 264, 9376, 16, 8, 132, 256, 8, 264, 9376, 9376",
        "BF16_MMA, 4, 12, 1500, 128, 48, 128, 68, 128, 1, 1512, 204544, 16, 128, 68, 128, 1, 6008, 187200, 204544",
        "BF16_MMA, 4, 3, 33, 5, 16, 8, 28, 48, 8, 56, 6336, 16, 8, 76, 144, 8, 152, 7440, 7440",
        "BF16_MMA, 3, 6, 48, 40, 24, 48, 28, 48, 2, 56, 16608, 8, 48, 76, 144, 4, 152, 22560, 22560",
    })
    void matchesTheKernelsPlan(
            ProductArithmetic a,
            int g,
            int u,
            int h,
            int b,
            int fRp,
            int fBp,
            int fXs,
            int fKt,
            int fS,
            int fAs,
            long fBytes,
            int bRp,
            int bBp,
            int bXs,
            int bKt,
            int bS,
            int bAs,
            long bBytes,
            long shared) {
        PersistentPlan f = PersistentPlan.forward(g, u, h, b, a), k = PersistentPlan.backward(g, u, h, b, a);
        assertEquals(new PersistentPlan(g * u, h, b, fRp, fBp, fXs, fKt, fS, fAs, a, !a.mma && g > 1), f);
        assertEquals(fBytes, f.bytes());
        assertEquals(new PersistentPlan(u, g * h, b, bRp, bBp, bXs, bKt, bS, bAs, a, false), k);
        assertEquals(bBytes, k.bytes());
        assertEquals(shared, PersistentPlan.sharedBytes(g, u, h, b, a));
        if (a == ProductArithmetic.FP32) {
            PersistentPlan t = PersistentPlan.forward(g, u, h, b, ProductArithmetic.TF32);
            assertEquals(f.bytes(), t.bytes());
        }
    }

    /**
     * Whether each pass's plan keeps its part of a in registers (cr_persistent_plan's resident, as a
     * host program over persistent_common.cuh printed it): the tensor-core plan's fragments and the
     * FMA plan's rows in the cluster layout's B50 rows (PB 4) in both passes, not the grid layout's
     * (several groups a warp or items a thread, or k-tiles), and the native harnesses' shapes both
     * ways.
     */
    @ParameterizedTest(name = "{0} G={1} U={2} H={3} B={4}")
    @CsvSource({
        "TF32_MMA, 4, 32, 256, 4, true, true",
        "TF32_MMA, 3, 32, 256, 4, true, true",
        "TF32_MMA, 1, 32, 256, 4, true, true",
        "TF32_MMA, 4, 16, 128, 4, true, true",
        "TF32_MMA, 4, 64, 512, 4, false, false",
        "TF32_MMA, 4, 2, 256, 50, false, false",
        "TF32_MMA, 4, 4, 512, 128, false, false",
        "TF32_MMA, 4, 8, 1024, 128, false, false",
        "TF32_MMA, 4, 6, 48, 40, true, false",
        "TF32_MMA, 4, 33, 229, 37, false, false",
        "TF32_MMA, 4, 5, 33, 3, true, true",
        "TF32_MMA, 4, 1, 1, 1, true, true",
        "BF16_MMA, 4, 32, 256, 4, true, true",
        "BF16_MMA, 4, 64, 512, 4, false, false",
        "BF16_MMA, 4, 2, 256, 50, true, false",
        "BF16_MMA, 4, 6, 48, 40, true, true",
        "BF16_MMA, 4, 33, 229, 37, false, false",
        "BF16_MMA, 4, 29, 229, 13, true, true",
        "FP32, 4, 32, 256, 4, true, true",
        "FP32, 3, 32, 256, 4, true, true",
        "FP32, 1, 32, 256, 4, true, true",
        "FP32, 4, 16, 128, 4, true, true",
        "FP32, 4, 64, 512, 4, false, false",
        "FP32, 4, 2, 256, 50, false, false",
        "FP32, 4, 4, 512, 128, false, false",
        "FP32, 4, 8, 1024, 128, false, false",
        "FP32, 4, 6, 48, 40, true, false",
        "FP32, 4, 33, 229, 37, false, false",
        "FP32, 4, 5, 33, 3, true, true",
        "FP32, 4, 1, 1, 1, true, true",
        "FP32, 1, 4, 512, 13, false, false",
        "TF32, 4, 32, 256, 4, true, true",
        "TF32, 4, 6, 48, 40, true, false",
        "BF16, 4, 32, 256, 4, true, true",
        "BF16, 4, 2, 256, 50, false, false",
    })
    void theResidentPlanMatchesTheKernels(
            ProductArithmetic a, int g, int u, int h, int b, boolean forward, boolean backward) {
        assertEquals(forward, PersistentPlan.forward(g, u, h, b, a).resident());
        assertEquals(backward, PersistentPlan.backward(g, u, h, b, a).resident());
    }

    /**
     * Whether the cluster rows backward's tensor-core scatter keeps its A fragments in registers
     * (cr_cluster_rows_plan's tiles and resident, printed by a host program over
     * persistent_cluster_rows.cuh): at most 2 tiles a warp, at most 16 k-steps.
     */
    @ParameterizedTest(name = "G={0} U={1} H={2} PB={3}")
    @CsvSource({
        "4, 32, 256, 4, 16, true",
        "3, 32, 256, 4, 16, true",
        "4, 16, 128, 4, 8, true",
        "4, 8, 64, 17, 12, true",
        "3, 8, 64, 17, 12, true",
        "4, 32, 229, 13, 32, false",
        "4, 1, 1, 1, 1, true",
        "4, 64, 512, 4, 32, false",
        "4, 32, 256, 8, 16, true",
        "4, 32, 256, 10, 32, false",
    })
    void theClusterRowsResidentPlanMatchesTheKernels(int g, int u, int h, int pb, int tiles, boolean resident) {
        ClusterRowsPlan p = ClusterRowsPlan.of(g, u, h, pb, ProductArithmetic.TF32_MMA);
        assertEquals(tiles, p.tiles());
        assertEquals(resident, p.resident());
    }

    /**
     * Whether the cluster rows backward's FMA scatter (fp32, TF32 before sm_80, bf16) keeps each
     * thread's column of the slice in registers (cr_cluster_rows_plan's resident, printed by a host
     * program over persistent_cluster_rows.cuh): every item (a column of the cluster's 8 U, 4 rows b)
     * a thread of its own, at most 128 rows (G U).
     */
    @ParameterizedTest(name = "G={0} U={1} H={2} PB={3}")
    @CsvSource({
        "4, 32, 256, 4, true",
        "3, 32, 256, 4, true",
        "4, 16, 128, 4, true",
        "3, 16, 128, 4, true",
        "4, 64, 512, 4, false",
        "4, 32, 256, 7, false",
        "4, 33, 257, 4, false",
        "4, 5, 33, 3, true",
        "4, 1, 1, 1, true",
        "4, 6, 48, 40, false",
        "3, 43, 343, 4, false",
        "4, 4, 33, 5, true",
    })
    void theClusterRowsFmaResidentPlanMatchesTheKernels(int g, int u, int h, int pb, boolean resident) {
        for (ProductArithmetic a :
                new ProductArithmetic[] {ProductArithmetic.FP32, ProductArithmetic.TF32, ProductArithmetic.BF16_MMA})
            assertEquals(resident, ClusterRowsPlan.of(g, u, h, pb, a).resident(), a.toString());
    }

    /**
     * The cluster layout's exchange (persistent_exchange.cuh): persistent_shared_bytes without and
     * with CR_PREC_EXCHANGE, and whether each pass's plan takes it (cr_persistent_plan's exchange: one
     * k-tile), as a host program over persistent_common.cuh printed them. Cluster shapes: PB rows
     * of a cluster, U = ceil(H / 8).
     */
    @ParameterizedTest(name = "{0} G={1} U={2} H={3} PB={4}")
    @CsvSource({
        // arithmetic, G, U, H, PB, shared, shared with the exchange, forward exchanges, backward exchanges
        "TF32_MMA, 4, 32, 256, 4, 172672, 205568, true, true",
        "FP32, 4, 32, 256, 4, 167936, 188416, true, true",
        "FP32, 4, 32, 256, 8, 180224, 180224, true, false", // backward K 1024 x XS 12 floats: k-tiles
        "TF32_MMA, 3, 32, 256, 4, 131712, 156416, true, true",
        "BF16_MMA, 3, 32, 256, 4, 70272, 82688, true, true",
        "TF32, 1, 32, 256, 4, 54272, 59392, true, true",
        "FP32, 4, 5, 33, 3, 13408, 13936, true, true",
        "TF32_MMA, 4, 16, 128, 4, 53632, 70144, true, true",
        "BF16_MMA, 3, 64, 512, 8, 230528, 255232, true, true", // more than 227 KiB with it
        "BF16, 4, 32, 256, 13, 114640, 114688, true, false",
    })
    void theExchangeAddsASecondXBufferWhereAPlanIsOneKTile(
            ProductArithmetic a,
            int g,
            int u,
            int h,
            int pb,
            long shared,
            long exchanged,
            boolean forward,
            boolean backward) {
        assertEquals(shared, PersistentPlan.sharedBytes(g, u, h, pb, a));
        assertEquals(shared, PersistentPlan.sharedBytes(g, u, h, pb, a, Exchange.NONE));
        assertEquals(exchanged, PersistentPlan.sharedBytes(g, u, h, pb, a, new Exchange(true, true)));
        assertEquals(forward, PersistentPlan.forward(g, u, h, pb, a).exchangeable());
        assertEquals(backward, PersistentPlan.backward(g, u, h, pb, a).exchangeable());
        PersistentPlan f = PersistentPlan.forward(g, u, h, pb, a);
        long x = f.bytes(true) - f.bytes(false); // one more x: [KT][XS] floats, or [BP][XS] words
        assertEquals(4L * (((long) (a.mma ? f.batchPad() : f.tile()) * f.stride() + 3) / 4 * 4), x);
    }

    @Test
    void bf16FitsALargerHidden() {
        int limit = 227 << 10, sms = 132;
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN})
            for (boolean tensorCores : new boolean[] {false, true}) {
                ProductArithmetic tf32 = ProductArithmetic.of(Precision.TF32, tensorCores),
                        bf16 = ProductArithmetic.of(Precision.BF16, tensorCores);
                int fp32 = PersistentLimits.largestHidden(c, sms, limit, ProductArithmetic.FP32),
                        t = PersistentLimits.largestHidden(c, sms, limit, tf32),
                        h = PersistentLimits.largestHidden(c, sms, limit, bf16);
                String what = c + (tensorCores ? " on tensor cores" : "") + ": fp32 H <= " + fp32 + ", tf32 " + t
                        + ", bf16 " + h;
                assertTrue(h > fp32 * 5 / 4, what);
                assertTrue(t >= fp32 * 95 / 100, what); // the same 4-byte slice; the mma plan's x and acc differ
            }
    }

    @Test
    void theMmaPlanTransposesWhereThatTakesFewerTiles() {
        // backward at U = 2, B = 50: 1 x 7 tiles of 16 rows of a, 4 x 1 transposed
        assertTrue(PersistentPlan.transposed(2, 50));
        // forward at H 1024, B 128: 2 x 16 either way, so not transposed
        assertFalse(PersistentPlan.transposed(32, 128));
        assertFalse(PersistentPlan.transposed(4, 1));
    }

    @Test
    void aWarpsGroupOfMmaTilesSharesFragments() {
        // up to 2 x 2 tiles a warp: H 1024 B 128 forward, 2 x 16 tiles, is 8 groups, one per warp
        assertEquals(8, PersistentPlan.groups(2, 16));
        assertEquals(1, PersistentPlan.groupSide(1));
        assertEquals(2, PersistentPlan.groupSide(3));
        // a ragged grid: 3 x 4 tiles take 2 x 2 groups, the last row of groups half empty
        assertEquals(4, PersistentPlan.groups(3, 4));
        // fewer groups than warps: warps split k (S) until groups x S fills half the block or more
        PersistentPlan p = PersistentPlan.forward(4, 8, 1024, 128, ProductArithmetic.TF32_MMA);
        assertEquals(1, p.lanes());
        assertEquals(
                4,
                PersistentPlan.forward(4, 2, 256, 50, ProductArithmetic.TF32_MMA)
                        .lanes());
    }

    @Test
    void theKernelsPrecisionArgument() {
        assertEquals(ProductArithmetic.FP32, ProductArithmetic.of(Precision.FP32, true));
        assertEquals(1, ProductArithmetic.of(Precision.TF32, false).code);
        assertEquals(2, ProductArithmetic.of(Precision.BF16, false).code);
        assertEquals(5, ProductArithmetic.of(Precision.TF32, true).code); // CR_PREC_TF32 | CR_PREC_MMA
        assertEquals(6, ProductArithmetic.of(Precision.BF16, true).code);
        assertEquals(2, ProductArithmetic.BF16_MMA.elemBytes);
        assertTrue(ProductArithmetic.tensorCores(8) && !ProductArithmetic.tensorCores(7));
    }

    /** ClusterRowsPlan's bytes against persistent_cluster_rows_shared_bytes (printed by a host program over the header). */
    @ParameterizedTest(name = "{4} G={0} U={1} H={2} PB={3}")
    @CsvSource({
        "4, 32, 256, 4, FP32, 141312",
        "4, 32, 256, 4, TF32_MMA, 143360",
        "3, 32, 256, 4, TF32_MMA, 109568",
        "4, 5, 33, 3, FP32, 3920",
        "4, 5, 33, 3, TF32_MMA, 4368",
        "3, 5, 33, 17, BF16, 7632",
        "3, 5, 33, 17, BF16_MMA, 7632",
        "4, 1, 1, 1, TF32, 144",
        "4, 64, 512, 10, TF32_MMA, 581632",
    })
    void clusterRowsPlanMatchesTheKernels(int G, int U, int H, int PB, ProductArithmetic a, long bytes) {
        assertEquals(bytes, ClusterRowsPlan.of(G, U, H, PB, a).bytes());
    }

    /**
     * The grid layout's launch in G batch groups: G ceil(H / U) blocks, each with the shared memory of
     * one group's ceil(B / G) rows (what persistent_layout.cuh's cr_persistent_slice plans a block
     * with: fewer bytes would let it write past them), the row-stationary backward's too ({@link
     * RowsPlan} of those rows); one group is ceil(H / U) blocks of B rows.
     */
    @ParameterizedTest(name = "{0} G={1} U={2} H={3} B={4} groups={5}")
    @CsvSource({
        "FP32, 4, 17, 33, 7, 3, 6, 3",
        "TF32_MMA, 4, 8, 256, 50, 4, 128, 13",
        "BF16_MMA, 3, 16, 512, 128, 4, 128, 32",
        "FP32, 1, 8, 256, 50, 1, 32, 50",
    })
    void gridLaunchesTheGroupsBlocksWithOneGroupsRows(
            ProductArithmetic a, int g, int u, int h, int b, int groups, int blocks, int rows) {
        PersistentChoice c = PersistentChoice.grid(true, true, false, u, groups, "");
        PersistentLaunches.Grid grid = PersistentLaunches.grid(c, g, h, b, a);
        assertEquals(blocks, grid.blocks());
        assertEquals(PersistentPlan.sharedBytes(g, u, h, rows, a), grid.sharedBytes());
        if (g > 1) { // the row-stationary backward (LSTM, GRU): the same blocks, its plan of one group's rows
            PersistentLaunches.Grid rows2 = PersistentLaunches.rowsGrid(c, g, h, b, a);
            assertEquals(blocks, rows2.blocks());
            assertEquals(RowsPlan.of(g, u, h, rows, a).bytes(), rows2.sharedBytes());
        }
    }
}
