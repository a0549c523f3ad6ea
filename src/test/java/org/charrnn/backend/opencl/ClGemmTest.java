package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GEMM variants: the per-device choice and the CPU kernels' row-block and K-slice choices, then
 * every kernel (each gemm_cpu_r* forced, and gemm_tiled) against double-precision loops on shapes
 * built from 1, 3, 7, 33 and 257, transposed or not, writing (beta 0, over NaN) or accumulating.
 */
class ClGemmTest {

    /** (M, N, K): every size both below and above the 32 columns and 12 rows of a block. */
    private static final int[][] SHAPES = {
        {1, 1, 1},
        {3, 7, 33},
        {7, 33, 3},
        {33, 257, 7},
        {257, 33, 257},
        {33, 3, 257},
        {257, 257, 1},
        {7, 1, 257},
        {12, 64, 33},
        {50, 512, 128}
    };

    private static ClDevice device(boolean gpu, boolean cpu) {
        return new ClDevice(0, null, null, "platform", "device", 1L << 30, 1L << 28, gpu, cpu, 1024);
    }

    @Test
    void variantFollowsTheDeviceTypeUnlessOverridden() {
        assertEquals(ClQueue.Variant.CPU, ClQueue.variant(device(false, true), null));
        assertEquals(ClQueue.Variant.GPU, ClQueue.variant(device(true, false), null));
        assertEquals(ClQueue.Variant.GPU, ClQueue.variant(device(false, false), " "), "accelerators: GPU");
        assertEquals(ClQueue.Variant.GPU, ClQueue.variant(device(false, true), "gpu"));
        assertEquals(ClQueue.Variant.CPU, ClQueue.variant(device(true, false), " CPU "));
        UserError e = assertThrows(UserError.class, () -> ClQueue.variant(device(true, false), "fast"));
        assertTrue(e.getMessage().contains("expected gpu or cpu"), e.getMessage());
    }

    @ParameterizedTest(name = "M={0}: {1} rows")
    @CsvSource({
        "1,1", "2,2", "3,2", "4,4", "5,4", "6,6", "8,8", "10,10", "12,12", "24,12", "50,10", "64,8", "100,10", "128,12",
        "512,12", "2500,12"
    })
    void rowBlockWastesLeast(int M, int rm) {
        assertEquals(rm, ClGemm.rowBlock(M));
    }

    @Test
    void rowBlockIsAKernelAndNeverTallerThanM() {
        for (int M = 1; M <= 3000; M++) {
            int rm = ClGemm.rowBlock(M);
            assertTrue(rm <= M, "M=" + M);
            assertTrue(IntStream.of(ClGemm.ROW_BLOCKS).anyMatch(r -> r == rm), "M=" + M + ": " + rm);
        }
        assertThrows(IllegalArgumentException.class, () -> ClGemm.rowBlock(0));
    }

    @Test
    void kChunkSlicesOnlyLongTransposedProducts() {
        assertEquals(2500, ClGemm.kChunk(false, 512, 128, 2500), "A not transposed: one launch");
        assertEquals(1000, ClGemm.kChunk(true, 65, 128, 1000), "fits the budget: one launch");
        // 2^18 / (512 + 128) = 409 values of k at most: 7 slices of 358 (the last 352)
        assertEquals(358, ClGemm.kChunk(true, 512, 128, 2500));
        assertEquals(ClGemm.MIN_CHUNK, ClGemm.kChunk(true, 100_000, 100_000, 640), "never below the minimum");
        for (int K : new int[] {1, 63, 409, 410, 2500, 100_000}) {
            int c = ClGemm.kChunk(true, 512, 128, K);
            assertTrue(c >= 1 && c <= Math.max(K, 1) && c <= 409, "K=" + K + ": " + c);
            int slices = (K + c - 1) / c;
            assertTrue((long) slices * c - K < slices, "near-equal slices: K=" + K + " c=" + c);
        }
    }

    static Stream<Arguments> cpuKernels() {
        List<Arguments> a = new ArrayList<>();
        for (int rm : ClGemm.ROW_BLOCKS) for (int tA = 0; tA < 2; tA++) a.add(Arguments.of(rm, tA == 1));
        return a.stream();
    }

    @Tag("opencl")
    @ParameterizedTest(name = "gemm_cpu_r{0} transA={1}")
    @MethodSource("cpuKernels")
    void everyCpuKernelMatchesDoubleLoops(int rm, boolean transA) {
        OpenClTestSupport.assumeOpenCl();
        try (ClQueue q = OpenClTestSupport.queue(ClQueue.Variant.CPU)) {
            int n = 0;
            for (int[] s : SHAPES) {
                if (s[0] < rm) continue;
                float beta = new float[] {0f, 1f, 0.5f}[n++ % 3];
                // whole K, then (when K > 1) slices of K that do not divide it
                int slice = s[2] > 1 ? Math.max(1, s[2] / 3 + 1) : 1;
                for (int chunk : new int[] {s[2], slice})
                    check(
                            q,
                            transA,
                            false,
                            s[0],
                            s[1],
                            s[2],
                            beta,
                            (g, c) -> q.kernels()
                                    .cpuGemm()
                                    .gemm(
                                            rm, chunk, transA, g.M, g.N, g.K, g.alpha, g.a, g.aOff, g.lda, g.b, g.bOff,
                                            g.ldb, g.beta, c, g.cOff, g.ldc));
            }
        }
    }

    @Tag("opencl")
    @ParameterizedTest(name = "{0} transA={1} transB={2}")
    @CsvSource({
        "CPU,false,false",
        "CPU,true,false",
        "CPU,false,true",
        "CPU,true,true",
        "GPU,false,false",
        "GPU,true,false",
        "GPU,false,true",
        "GPU,true,true"
    })
    void dispatchedGemmMatchesDoubleLoops(ClQueue.Variant variant, boolean transA, boolean transB) {
        OpenClTestSupport.assumeOpenCl();
        try (ClQueue q = OpenClTestSupport.queue(variant)) {
            int n = 0;
            for (int[] s : SHAPES) {
                float beta = new float[] {0.5f, 0f, 1f}[n++ % 3];
                check(
                        q,
                        transA,
                        transB,
                        s[0],
                        s[1],
                        s[2],
                        beta,
                        (g, c) -> q.kernels()
                                .gemm(
                                        g.transA, g.transB, g.M, g.N, g.K, g.alpha, g.a, g.aOff, g.lda, g.b, g.bOff,
                                        g.ldb, g.beta, c, g.cOff, g.ldc));
            }
        }
    }

    @Tag("opencl")
    @Test
    void cpuKernelNeedsMAtLeastItsRows() {
        OpenClTestSupport.assumeOpenCl();
        try (ClQueue q = OpenClTestSupport.queue(ClQueue.Variant.CPU)) {
            ClBuffer b = q.alloc(64, "x");
            assertThrows(
                    IllegalArgumentException.class,
                    () -> q.kernels().cpuGemm().gemm(4, 1, false, 3, 1, 1, 1f, b, 0, 1, b, 0, 1, 0f, b, 0, 1));
        }
    }

    /** One product's operands: offsets and leading dimensions wider than the matrices. */
    private record Gemm(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            ClBuffer a,
            int aOff,
            int lda,
            ClBuffer b,
            int bOff,
            int ldb,
            float beta,
            int cOff,
            int ldc) {}

    private interface Launch {
        void run(Gemm g, ClBuffer c);
    }

    private static void check(
            ClQueue q, boolean transA, boolean transB, int M, int N, int K, float beta, Launch launch) {
        SplittableRandom r =
                new SplittableRandom(M * 1_000_003L + N * 1009L + K + (transA ? 7 : 0) + (transB ? 13 : 0));
        int aOff = 3, bOff = 5, cOff = 2;
        int lda = (transA ? M : K) + 1, ldb = (transB ? K : N) + 2, ldc = N + 1;
        float[] A = random(r, aOff + (transA ? K : M) * lda), B = random(r, bOff + (transB ? N : K) * ldb);
        float[] C = random(r, cOff + M * ldc + 1);
        if (beta == 0) for (int i = 0; i < C.length; i++) C[i] = Float.NaN; // beta = 0 must not read C
        ClBuffer a = upload(q, A), b = upload(q, B), c = upload(q, C);
        try {
            float alpha = 0.75f;
            launch.run(new Gemm(transA, transB, M, N, K, alpha, a, aOff, lda, b, bOff, ldb, beta, cOff, ldc), c);
            float[] got = q.read(c, 0, C.length);
            String what =
                    "transA=" + transA + " transB=" + transB + " M=" + M + " N=" + N + " K=" + K + " beta=" + beta;
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) {
                        double av = transA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
                        double bv = transB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
                        s += av * bv;
                    }
                    double want = alpha * s + (beta == 0 ? 0 : beta * C[cOff + i * ldc + j]);
                    float g = got[cOff + i * ldc + j];
                    assertTrue(
                            Math.abs(g - want) <= 1e-5 * (1 + Math.sqrt(K)),
                            what + ": C[" + i + "," + j + "] = " + g + ", want " + want);
                }
                // the padding column of each row (j = N) is untouched
                assertEquals(
                        Float.floatToIntBits(C[cOff + i * ldc + N]),
                        Float.floatToIntBits(got[cOff + i * ldc + N]),
                        what + ": row " + i);
            }
            for (int i = 0; i < cOff; i++) assertEquals(Float.floatToIntBits(C[i]), Float.floatToIntBits(got[i]), what);
            int end = cOff + M * ldc;
            assertEquals(Float.floatToIntBits(C[end]), Float.floatToIntBits(got[end]), what + ": after C");
        } finally {
            q.release(a);
            q.release(b);
            q.release(c);
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (2 * r.nextDouble() - 1);
        return a;
    }

    private static ClBuffer upload(ClQueue q, float[] a) {
        ClBuffer b = q.alloc(a.length, "test");
        q.write(b, 0, a);
        return b;
    }
}
