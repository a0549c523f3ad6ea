package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU and GPU variants' column-sum and embedding-backward kernels against fp64 sums of the same
 * inputs (they add the same terms in different fixed orders; each variant twice gives the same
 * bits), and their softmax kernels against each other to float rounding. Widths below, at and past
 * the 16 and 128 columns of a CPU work-item and the 32 of a GPU work-group, rows past its 8 lanes,
 * odd offsets. Also the transpose of the CPU variant's weight copies.
 */
@Tag("opencl")
class ClVariantKernelsTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    private static final ClQueue.Variant[] BOTH = {ClQueue.Variant.GPU, ClQueue.Variant.CPU};

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

    /**
     * got [off, off + ref.length) against ref: |got - ref| <= atol + rtol |ref| with atol 2e-6 per
     * term of a float sum of up to {@code terms} terms and rtol 1e-5; the message gives the largest
     * error and the first element out of tolerance.
     */
    private static void assertSums(double[] ref, float[] got, int off, int terms, String what) {
        double atol = 2e-6 * Math.max(1, terms), rtol = 1e-5, worst = 0;
        int bad = -1;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[off + i] - ref[i]);
            worst = Math.max(worst, err);
            if (bad < 0 && !(err <= atol + rtol * Math.abs(ref[i]))) bad = i;
        }
        if (bad >= 0)
            throw new AssertionError(what + ": max |err| " + worst + "; element " + bad + " is " + got[off + bad]
                    + ", fp64 sum " + ref[bad]);
    }

    @ParameterizedTest(name = "column sum N={0} C={1} beta={2}")
    @CsvSource({"37,19,0", "5,128,0", "300,300,0", "41,515,1", "2,131,0.5", "1,1,0", "2600,65,0", "9,33,1"})
    void columnSumMatchesFp64Sums(int N, int C, float beta) {
        SplittableRandom r = new SplittableRandom(N * 1000L + C);
        float[] a = random(r, 3 + N * C), out = random(r, 1 + C + 1);
        double[] ref = new double[C];
        for (int c = 0; c < C; c++) {
            double sum = 0;
            for (int n = 0; n < N; n++) sum += a[3 + n * C + c];
            ref[c] = beta * (double) out[1 + c] + sum;
        }
        for (ClQueue.Variant v : BOTH)
            try (ClQueue q = OpenClTestSupport.queue(v)) {
                float[][] got = new float[2][];
                for (int run = 0; run < 2; run++) {
                    ClBuffer ab = upload(q, a), ob = upload(q, out);
                    q.kernels().columnSum(ab, 3, ob, 1, N, C, beta);
                    got[run] = q.read(ob, 0, out.length);
                }
                assertSums(ref, got[0], 1, N, v + " column sum");
                assertArrayEquals(got[0], got[1], v + ": the same bits twice");
                assertEquals(out[0], got[0][0], 0f, "before out");
                assertEquals(out[C + 1], got[0][C + 1], 0f, "after out");
            }
    }

    @ParameterizedTest(name = "embedding backward N={0} V={1} E={2}")
    @CsvSource({"40,7,5", "200,65,16", "300,300,37", "64,3,128", "1,1,1", "2600,65,40"})
    void embeddingBackwardMatchesFp64Sums(int N, int V, int E) {
        SplittableRandom r = new SplittableRandom(N * 31L + V * 7L + E);
        float[] dout = random(r, 2 + N * E);
        float[] x = new float[N];
        int[] count = new int[V];
        for (int n = 0; n < N; n++) {
            int t = r.nextInt(V);
            count[t]++;
            x[n] = Float.intBitsToFloat(t);
        }
        double[] ref = new double[V * E];
        for (int n = 0; n < N; n++)
            for (int e = 0; e < E; e++) ref[Float.floatToRawIntBits(x[n]) * E + e] += dout[2 + n * E + e];
        int most = java.util.Arrays.stream(count).max().orElse(0);
        float[] before = random(r, 4 + V * E); // demb with padding: overwritten, padding kept
        for (ClQueue.Variant v : BOTH)
            try (ClQueue q = OpenClTestSupport.queue(v)) {
                float[][] got = new float[2][];
                for (int run = 0; run < 2; run++) {
                    ClBuffer xb = upload(q, x), db = upload(q, dout), demb = upload(q, before);
                    q.kernels().embeddingBackward(xb, db, 2, demb, 1, N, V, E);
                    got[run] = q.read(demb, 0, 4 + V * E);
                }
                assertSums(ref, got[0], 1, most, v + " embedding backward");
                assertArrayEquals(got[0], got[1], v + ": the same bits twice");
                assertEquals(before[0], got[0][0], 0f, "before demb");
                assertEquals(before[1 + V * E], got[0][1 + V * E], 0f, "after demb");
            }
    }

    @ParameterizedTest(name = "softmax N={0} V={1}")
    @CsvSource({"3,1", "5,15", "7,16", "6,65", "4,300"})
    void softmaxMatchesTheWorkGroupKernel(int N, int V) {
        SplittableRandom r = new SplittableRandom(N * 17L + V);
        float[] logits = random(r, 1 + N * V), bias = random(r, 2 + V);
        for (int i = 0; i < logits.length; i++) logits[i] *= 30;
        float[] y = new float[N];
        for (int n = 0; n < N; n++) y[n] = Float.intBitsToFloat(r.nextInt(V));
        float[][] grad = new float[2][], loss = new float[2][];
        for (int i = 0; i < 2; i++)
            try (ClQueue q = OpenClTestSupport.queue(BOTH[i])) {
                ClBuffer lb = upload(q, logits), bb = upload(q, bias), yb = upload(q, y), rl = q.alloc(N, "loss");
                q.kernels().softmaxXent(lb, 1, bb, 2, yb, rl, N, V, 1f / N, true);
                grad[i] = q.read(lb, 0, logits.length);
                loss[i] = q.read(rl, 0, N);
            }
        for (int n = 0; n < N; n++)
            assertEquals(loss[0][n], loss[1][n], 2e-6 + 1e-6 * Math.abs(loss[0][n]), "loss " + n);
        for (int i = 0; i < grad[0].length; i++)
            assertEquals(grad[0][i], grad[1][i], 1e-7 + 1e-5 * Math.abs(grad[0][i]), "gradient " + i);
        assertEquals(logits[0], grad[1][0], 0f, "before the logits");
    }

    @ParameterizedTest(name = "transpose {0} x {1}")
    @CsvSource({"1,1", "15,3", "16,33", "17,1", "40,7", "512,128"})
    void transposeIsExact(int rows, int cols) {
        float[] src = random(new SplittableRandom(rows * 7L + cols), 5 + rows * cols);
        try (ClQueue q = OpenClTestSupport.queue(ClQueue.Variant.CPU)) {
            ClBuffer sb = upload(q, src), db = upload(q, new float[2 + rows * cols + 1]);
            q.kernels().transpose(sb, 5, rows, cols, db, 2);
            float[] got = q.read(db, 0, 2 + rows * cols + 1);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) assertEquals(src[5 + r * cols + c], got[2 + c * rows + r], 0f);
            assertEquals(0f, got[1], 0f, "before dst");
            assertEquals(0f, got[2 + rows * cols], 0f, "after dst");
        }
    }
}
