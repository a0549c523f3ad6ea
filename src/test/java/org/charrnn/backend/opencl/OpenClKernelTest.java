package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.charrnn.backend.Dropout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Kernel families that the whole-step parity checks only see indirectly, against double-precision loops. */
@Tag("opencl")
class OpenClKernelTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
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

    @ParameterizedTest(name = "gemm {6} tA={0} tB={1} M={2} N={3} K={4} beta={5}")
    @CsvSource({
        "0,0,1,1,1,0,GPU", "0,1,33,257,17,0,GPU", "1,0,65,7,129,1,GPU", "1,1,5,70,64,0.5,GPU",
        "0,0,130,3,1,1,GPU", "0,1,50,512,128,0,GPU", "1,0,512,128,50,0,GPU", "0,0,3,1,300,0,GPU",
        "0,0,1,1,1,0,CPU", "0,0,33,257,17,0,CPU", "1,0,65,7,129,1,CPU", "0,0,17,48,5,0.5,CPU",
        "0,0,130,3,1,1,CPU", "0,0,50,512,128,0,CPU", "1,0,512,128,50,0,CPU", "1,0,9,65,300,0,CPU",
        "0,1,50,100,20,0.5,CPU", "0,0,300,37,19,0.5,CPU", "1,0,257,40,33,0,CPU"
    })
    void gemmMatchesDoubleLoops(int tA, int tB, int M, int N, int K, float beta, ClQueue.Variant variant) {
        SplittableRandom r = new SplittableRandom(M * 31L + N * 7L + K);
        int aOff = 3, bOff = 5, cOff = 2;
        int lda = (tA == 1 ? M : K) + 1, ldb = (tB == 1 ? K : N) + 2, ldc = N + 1;
        int aRows = tA == 1 ? K : M, bRows = tB == 1 ? N : K;
        float[] A = random(r, aOff + aRows * lda), B = random(r, bOff + bRows * ldb), C = random(r, cOff + M * ldc);
        if (beta == 0) for (int i = 0; i < C.length; i++) C[i] = Float.NaN; // beta = 0 must not read C
        try (ClQueue q = OpenClTestSupport.queue(variant)) {
            ClBuffer a = upload(q, A), b = upload(q, B), c = upload(q, C);
            q.kernels().gemm(tA == 1, tB == 1, M, N, K, 0.75f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            float[] got = q.read(c, 0, C.length);
            double maxErr = 0;
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) {
                        double av = tA == 1 ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
                        double bv = tB == 1 ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
                        s += av * bv;
                    }
                    double want = 0.75 * s + (beta == 0 ? 0 : beta * C[cOff + i * ldc + j]);
                    maxErr = Math.max(maxErr, Math.abs(got[cOff + i * ldc + j] - want));
                    assertTrue(
                            Math.abs(got[cOff + i * ldc + j] - want) <= 1e-5 * (1 + Math.sqrt(K)),
                            "C[" + i + "," + j + "] = " + got[cOff + i * ldc + j] + ", want " + want);
                }
            // padding columns of C (j >= N) are untouched
            for (int i = 0; i < M; i++)
                assertEquals(
                        Float.floatToIntBits(C[cOff + i * ldc + N]), Float.floatToIntBits(got[cOff + i * ldc + N]));
        }
    }

    @ParameterizedTest(name = "softmax_xent {0}")
    @EnumSource(ClQueue.Variant.class)
    void softmaxCrossEntropyAndGradient(ClQueue.Variant variant) {
        int N = 7, V = 300;
        SplittableRandom r = new SplittableRandom(3);
        float[] logits = random(r, N * V), bias = random(r, V + 4);
        for (int i = 0; i < logits.length; i++) logits[i] *= 8;
        int[] y = new int[N];
        for (int n = 0; n < N; n++) y[n] = r.nextInt(V);
        try (ClQueue q = OpenClTestSupport.queue(variant)) {
            ClBuffer lb = upload(q, logits), bb = upload(q, bias), rl = q.alloc(N, "rl"), yb = q.alloc(N, "y");
            q.writeInts(yb, y);
            q.kernels().softmaxXent(lb, 0, bb, 4, yb, rl, N, V, 1f / N, true);
            float[] grad = q.read(lb, 0, N * V), loss = q.read(rl, 0, N);
            for (int n = 0; n < N; n++) {
                double mx = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) mx = Math.max(mx, logits[n * V + v] + (double) bias[4 + v]);
                double s = 0;
                for (int v = 0; v < V; v++) s += Math.exp(logits[n * V + v] + (double) bias[4 + v] - mx);
                double lse = mx + Math.log(s);
                assertEquals(lse - (logits[n * V + y[n]] + (double) bias[4 + y[n]]), loss[n], 1e-5);
                for (int v = 0; v < V; v++) {
                    double p = Math.exp(logits[n * V + v] + (double) bias[4 + v] - lse);
                    assertEquals((p - (v == y[n] ? 1 : 0)) / N, grad[n * V + v], 1e-7);
                }
            }
        }
    }

    @Test
    void dropoutMaskIsBitIdenticalToTheJavaHash() {
        int n = 10007;
        int seed = Dropout.seed32(0x1234_5678_9ABCL), iteration = 77, layer = 2;
        float p = 0.35f;
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        try (ClQueue q = OpenClTestSupport.queue()) {
            ClBuffer x = upload(q, ones), y = q.alloc(n, "y");
            q.kernels().dropoutForward(x, 0, y, 0, n, 0, seed, iteration, layer, p);
            float[] got = q.read(y, 0, n);
            q.kernels().dropoutBackward(y, 0, y, 0, n, 0, seed, iteration, layer, p); // aliased, scale^2
            float[] back = q.read(y, 0, n);
            int dropped = 0;
            for (int i = 0; i < n; i++) {
                double want = Dropout.scale(seed, iteration, layer, i, p);
                if (want == 0) dropped++;
                assertEquals((float) want, got[i], 0f, "element " + i);
                assertEquals((float) want * (float) want, back[i], 1e-6f, "element " + i);
            }
            assertEquals(p, dropped / (double) n, 0.02);
            // a chunk from element k on (a pipelined layer's): first = k draws those elements' mask
            int k = n / 3;
            ClBuffer z = q.alloc(n, "z");
            q.kernels().dropoutForward(x, k, z, k, n - k, k, seed, iteration, layer, p);
            float[] chunk = q.read(z, k, n - k);
            for (int i = k; i < n; i++)
                assertEquals((float) Dropout.scale(seed, iteration, layer, i, p), chunk[i - k], 0f, "element " + i);
        }
    }

    /** copyRows as the orchestration moves the state: into every slot 0, and every slot T back out; the gaps stay. */
    @ParameterizedTest(name = "copy rows {0}")
    @EnumSource(ClQueue.Variant.class)
    void copyRowsMovesEachRowAndNothingElse(ClQueue.Variant variant) {
        int rows = 6, cols = 33, pitch = 33 * 8, last = 7, off = 5; // L 3 S 2, B 1 H 33, T 7; state at offset 5
        SplittableRandom r = new SplittableRandom(11);
        float[] state = random(r, off + rows * cols), slots = random(r, rows * pitch);
        try (ClQueue q = OpenClTestSupport.queue(variant)) {
            ClBuffer sb = upload(q, state), tb = upload(q, slots), back = q.alloc(off + rows * cols, "back");
            q.copyRows(sb, off, cols, tb, 0, pitch, rows, cols);
            float[] in = q.read(tb, 0, rows * pitch), want = slots.clone();
            for (int k = 0; k < rows; k++) System.arraycopy(state, off + k * cols, want, k * pitch, cols);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], in[i], 0f, "slots element " + i);
            q.copyRows(tb, (long) last * cols, pitch, back, off, cols, rows, cols);
            float[] out = q.read(back, 0, off + rows * cols);
            for (int i = 0; i < off; i++) assertEquals(0f, out[i], 0f, "before the destination");
            for (int k = 0; k < rows; k++)
                for (int j = 0; j < cols; j++)
                    assertEquals(want[k * pitch + last * cols + j], out[off + k * cols + j], 0f, "row " + k);
        }
    }

    @ParameterizedTest(name = "reductions {0}")
    @EnumSource(ClQueue.Variant.class)
    void reductionsAreExactEnoughAndDeterministic(ClQueue.Variant variant) {
        int n = 100_003, N = 37, C = 19;
        SplittableRandom r = new SplittableRandom(5);
        float[] g = random(r, n), a = random(r, N * C + 3);
        try (ClQueue q = OpenClTestSupport.queue(variant)) {
            ClBuffer gb = upload(q, g),
                    part = q.alloc(64, "p"),
                    out = q.alloc(1, "o"),
                    ab = upload(q, a),
                    cs = q.alloc(C + 1, "c");
            float first = 0;
            for (int rep = 0; rep < 3; rep++) {
                q.kernels().sumSquaresPartial(gb, 0, n, part, 64);
                q.kernels().sumFinal(part, 64, out, true);
                float v = q.read(out, 0, 1)[0];
                if (rep == 0) first = v;
                else assertEquals(Float.floatToIntBits(first), Float.floatToIntBits(v), "run-to-run identical");
            }
            double ss = 0;
            for (float v : g) ss += (double) v * v;
            assertEquals(Math.sqrt(ss), first, 1e-6 + 1e-5 * Math.sqrt(ss));
            q.kernels().columnSum(ab, 3, cs, 1, N, C, 0f);
            float[] got = q.read(cs, 0, C + 1);
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int k = 0; k < N; k++) s += a[3 + k * C + c];
                assertEquals(s, got[1 + c], 1e-5);
            }
            // beta = 1 accumulates (both the 16-wide block and the 3-column edge of C = 19)
            q.kernels().columnSum(ab, 3, cs, 1, N, C, 1f);
            float[] twice = q.read(cs, 0, C + 1);
            for (int c = 0; c < C; c++) assertEquals(2.0 * got[1 + c], twice[1 + c], 1e-5);
            assertEquals(0f, twice[0], 0f);
            // a non-finite pre-clip norm: nothing is clamped (the update will be skipped, as on the reference)
            ClBuffer infNorm = upload(q, new float[] {Float.POSITIVE_INFINITY});
            q.kernels().clipValue(gb, 0, n, 0.25f, infNorm);
            float[] untouched = q.read(gb, 0, n);
            for (int i = 0; i < n; i++) assertEquals(g[i], untouched[i], 0f);
            q.kernels().clipValue(gb, 0, n, 0.25f, out);
            float[] clipped = q.read(gb, 0, n);
            for (int i = 0; i < n; i++) assertEquals(Math.max(-0.25f, Math.min(0.25f, g[i])), clipped[i], 0f);
        }
    }

    @ParameterizedTest(name = "gather and embedding {2}, V={0} E={1}")
    @CsvSource({"65,5,GPU", "300,5,GPU", "65,5,CPU", "300,37,CPU", "65,32,CPU"})
    void gatherWindowAndEmbedding(int V, int E, ClQueue.Variant variant) {
        SplittableRandom r = new SplittableRandom(V);
        int len = 500, T = 9, B = 4;
        int[] toks = new int[len];
        for (int i = 0; i < len; i++) toks[i] = r.nextInt(V);
        long[] starts = {0, 17, 480, 250};
        float[] emb = random(r, V * E);
        try (ClQueue q = OpenClTestSupport.queue(variant)) {
            ClBuffer tb = OpenClOps.uploadTokens(q, org.charrnn.data.TokenSequence.of(toks), V);
            ClBuffer st = q.allocBytes(8L * B, "starts"),
                    x = q.alloc((long) T * B, "x"),
                    y = q.alloc((long) T * B, "y");
            q.writeLongs(st, starts);
            q.kernels().gatherWindow(V > 256, tb, st, T, B, x, y);
            int[] xs = ints(q.read(x, 0, T * B)), ys = ints(q.read(y, 0, T * B));
            for (int t = 0; t < T; t++)
                for (int b = 0; b < B; b++) {
                    assertEquals(toks[(int) starts[b] + t], xs[t * B + b]);
                    assertEquals(toks[(int) starts[b] + t + 1], ys[t * B + b]);
                }
            ClBuffer eb = upload(q, emb),
                    out = q.alloc((long) T * B * E, "out"),
                    demb = q.alloc((long) V * E + 2, "demb");
            q.kernels().embeddingForward(x, eb, 0, out, 0, T * B, E);
            float[] o = q.read(out, 0, T * B * E);
            for (int n = 0; n < T * B; n++)
                for (int e = 0; e < E; e++) assertEquals(emb[xs[n] * E + e], o[n * E + e], 0f);
            q.kernels().embeddingBackward(x, out, 0, demb, 2, T * B, V, E);
            float[] d = q.read(demb, 2, V * E);
            double[] want = new double[V * E];
            for (int n = 0; n < T * B; n++) for (int e = 0; e < E; e++) want[xs[n] * E + e] += o[n * E + e];
            for (int i = 0; i < V * E; i++) assertEquals(want[i], d[i], 1e-5);
        }
    }

    /** Reinterprets int buffer contents read as floats. */
    private static int[] ints(float[] f) {
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) out[i] = Float.floatToRawIntBits(f[i]);
        return out;
    }
}
