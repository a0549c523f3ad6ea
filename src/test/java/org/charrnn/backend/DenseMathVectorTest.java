package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link VectorMath}'s GEMMs against {@link DenseMath}'s on shapes that leave every kind of tail
 * (1, 3, 7, 33 and 257 rows, columns and inner length; an inner length over the kernels' block of
 * 256), at offsets into larger arrays, written and accumulated, whole and split into row ranges;
 * and the reference's activations, which are Math's on both paths.
 */
class DenseMathVectorTest {
    private static final int[] SIZES = {1, 3, 7, 33, 257};
    private static final double ATOL = 1e-12, RTOL = 1e-12;

    @BeforeEach
    void needsTheVectorModule() {
        assumeTrue(
                ReferenceMath.vectorModuleLoaded(), "the JVM was started without --add-modules jdk.incubator.vector");
    }

    static Stream<Arguments> shapes() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (int m : SIZES) for (int n : SIZES) for (int k : SIZES) s.add(Arguments.of(m, n, k));
        s.add(Arguments.of(9, 40, 600)); // three blocks of the inner dimension
        s.add(Arguments.of(70, 16, 2)); // more rows than a row block, exactly two vectors wide (AVX-512)
        s.add(Arguments.of(5, 0, 4));
        s.add(Arguments.of(5, 4, 0));
        return s.build();
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @MethodSource("shapes")
    void abMatchesScalar(int m, int n, int k) {
        SplittableRandom rng = new SplittableRandom(31L * m + 7L * n + k);
        int aOff = 3, bOff = 5, cOff = 2;
        double[] a = random(rng, aOff + m * k + 1), b = random(rng, bOff + k * n + 4);
        double[] c0 = random(rng, cOff + m * n + 3);
        for (boolean accumulate : new boolean[] {false, true}) {
            double[] want = c0.clone(), got = c0.clone();
            DenseMath.ab(a, aOff, b, bOff, want, cOff, 0, m, n, k, accumulate);
            VectorMath.ab(a, aOff, b, bOff, got, cOff, 0, m, n, k, accumulate);
            assertClose(want, got, "ab accumulate=" + accumulate);
            // rows in uneven ranges, as threads split them: bit for bit the same as in one call
            double[] split = c0.clone();
            for (int[] r : ranges(m)) VectorMath.ab(a, aOff, b, bOff, split, cOff, r[0], r[1], n, k, accumulate);
            assertArrayEquals(got, split, "ab split rows, accumulate=" + accumulate);
        }
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @MethodSource("shapes")
    void aTbMatchesScalar(int m, int n, int k) {
        SplittableRandom rng = new SplittableRandom(17L * m + 5L * n + k);
        int aOff = 1, bOff = 6, cOff = 4;
        double[] a = random(rng, aOff + k * m + 2), b = random(rng, bOff + k * n + 1);
        double[] c0 = random(rng, cOff + m * n + 5);
        double[] want = c0.clone(), got = c0.clone();
        DenseMath.aTb(a, aOff, b, bOff, want, cOff, 0, m, m, n, k);
        VectorMath.aTb(a, aOff, b, bOff, got, cOff, 0, m, m, n, k);
        assertClose(want, got, "aTb");
        double[] split = c0.clone();
        for (int[] r : ranges(m)) VectorMath.aTb(a, aOff, b, bOff, split, cOff, r[0], r[1], m, n, k);
        assertArrayEquals(got, split, "aTb split rows");
    }

    @Test
    void rowRangeLeavesOtherRowsAlone() {
        SplittableRandom rng = new SplittableRandom(3);
        int m = 11, n = 19, k = 9;
        double[] a = random(rng, m * k), b = random(rng, k * n), c = random(rng, m * n), before = c.clone();
        VectorMath.ab(a, 0, b, 0, c, 0, 4, 9, n, k, false);
        assertArrayEquals(Arrays.copyOfRange(before, 0, 4 * n), Arrays.copyOfRange(c, 0, 4 * n));
        assertArrayEquals(Arrays.copyOfRange(before, 9 * n, m * n), Arrays.copyOfRange(c, 9 * n, m * n));
        VectorMath.aTb(a, 0, b, 0, c, 0, 2, 3, m, n, 0);
        assertArrayEquals(new double[n], Arrays.copyOfRange(c, 2 * n, 3 * n), "K = 0 writes zeros");
    }

    /** The activations are Math's on every path, so a run's results do not depend on what the JIT compiled. */
    @Test
    void activationsAreScalarBitForBit() {
        SplittableRandom rng = new SplittableRandom(7);
        int n = 257, off = 3;
        double[] x = new double[off + n];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextDouble(-8, 8);
        x[off] = -800;
        x[off + 1] = 800;
        for (int round = 0; round < 2000; round++) { // long enough for C2 to compile the loops
            double[] want = x.clone(), got = x.clone();
            ReferenceMath.SCALAR.sigmoid(want, off, n);
            ReferenceMath.VECTOR.sigmoid(got, off, n);
            assertArrayEquals(want, got, 0.0, "sigmoid");
            double[] wantT = new double[n], gotT = new double[n];
            ReferenceMath.SCALAR.tanh(x, off, wantT, 0, n);
            ReferenceMath.VECTOR.tanh(x, off, gotT, 0, n);
            assertArrayEquals(wantT, gotT, 0.0, "tanh");
        }
    }

    /** [0, m) in ranges of 1, 2, 5, 3, 1, 2, 5, ... rows. */
    private static int[][] ranges(int m) {
        int[] steps = {1, 2, 5, 3};
        java.util.List<int[]> out = new java.util.ArrayList<>();
        for (int i = 0, s = 0; i < m; s++) {
            int to = Math.min(m, i + steps[s % steps.length]);
            out.add(new int[] {i, to});
            i = to;
        }
        return out.toArray(int[][]::new);
    }

    private static double[] random(SplittableRandom rng, int size) {
        double[] v = new double[size];
        for (int i = 0; i < size; i++) v[i] = rng.nextDouble(-1, 1);
        return v;
    }

    private static void assertClose(double[] want, double[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(want[i] - got[i]);
            int at = i;
            assertTrue(
                    err <= ATOL + RTOL * Math.abs(want[i]),
                    () -> what + ": element " + at + " is " + got[at] + ", scalar " + want[at]);
        }
    }
}
