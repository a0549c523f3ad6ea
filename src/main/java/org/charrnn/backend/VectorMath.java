package org.charrnn.backend;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMMs and activations of {@link DenseMath} on the Java Vector API (module
 * {@code jdk.incubator.vector}), same signatures and results up to rounding. Only
 * {@link ReferenceMath#VECTOR} calls this class, and only when the module is in the boot layer, so
 * nothing loads its Vector API classes otherwise.
 *
 * <p>Register-blocked micro-kernels compute 4 rows by 2 vectors of C (8 by 16 doubles with
 * AVX-512) in registers over a block of the inner dimension, broadcasting A and loading B; narrower
 * kernels take the rows and columns left over, and scalar fused multiply-adds the last columns.
 * Every element of C is the same chain of fused multiply-adds over k = 0, 1, ... in order (from 0,
 * or from C when accumulating) whichever kernel computes it, so results do not depend on how the
 * caller splits rows across threads.
 */
final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Inner-dimension block: a 4-row strip of A and a 2-vector panel of B stay in L1 across it. */
    private static final int KC = 256;
    /** Row block: its A block [MC, KC] stays in L2 while the column panels of B pass over it. */
    private static final int MC = 64;

    /** Width of a vector in bits (the preferred species of this machine). */
    static int bits() {
        return S.vectorBitSize();
    }

    /** As {@link DenseMath#ab}: C[i,:] (= or +=) A[i,:] B, A [M,K], B [K,N], C [M,N]. */
    static void ab(
            double[] a,
            int aOff,
            double[] b,
            int bOff,
            double[] c,
            int cOff,
            int rowFrom,
            int rowTo,
            int n,
            int k,
            boolean accumulate) {
        gemm(a, aOff, k, 1, b, bOff, c, cOff, rowFrom, rowTo, n, k, accumulate);
    }

    /** As {@link DenseMath#aTb}: C[i,:] = A^T[i,:] B (=), A [K,M], B [K,N], C [M,N]. */
    static void aTb(
            double[] a,
            int aOff,
            double[] b,
            int bOff,
            double[] c,
            int cOff,
            int rowFrom,
            int rowTo,
            int m,
            int n,
            int k) {
        gemm(a, aOff, 1, m, b, bOff, c, cOff, rowFrom, rowTo, n, k, false);
    }

    /**
     * C[i,j] (= or +=) sum over q of A(i,q) B[q,j] for rows i in [rowFrom, rowTo), where
     * A(i,q) = a[aOff + i*ars + q*aks] (A itself: ars = K, aks = 1; A^T: ars = 1, aks = M), B [K,N]
     * at bOff and C [M,N] at cOff, both row-major.
     */
    private static void gemm(
            double[] a,
            int aOff,
            int ars,
            int aks,
            double[] b,
            int bOff,
            double[] c,
            int cOff,
            int rowFrom,
            int rowTo,
            int n,
            int k,
            boolean accumulate) {
        if (k == 0) {
            if (!accumulate) Arrays.fill(c, cOff + rowFrom * n, cOff + rowTo * n, 0.0);
            return;
        }
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kn = Math.min(KC, k - k0);
            boolean acc = accumulate || k0 > 0; // later blocks continue the sums the first one stored
            for (int i0 = rowFrom; i0 < rowTo; i0 += MC) {
                int i1 = Math.min(rowTo, i0 + MC);
                int j = 0;
                for (; j + 2 * L <= n; j += 2 * L) {
                    int i = i0;
                    for (; i + 4 <= i1; i += 4)
                        k4x2(
                                a,
                                aOff + i * ars + k0 * aks,
                                ars,
                                aks,
                                b,
                                bOff + k0 * n + j,
                                n,
                                c,
                                cOff + i * n + j,
                                kn,
                                acc);
                    for (; i < i1; i++)
                        k1x2(a, aOff + i * ars + k0 * aks, aks, b, bOff + k0 * n + j, n, c, cOff + i * n + j, kn, acc);
                }
                for (; j + L <= n; j += L) {
                    int i = i0;
                    for (; i + 4 <= i1; i += 4)
                        k4x1(
                                a,
                                aOff + i * ars + k0 * aks,
                                ars,
                                aks,
                                b,
                                bOff + k0 * n + j,
                                n,
                                c,
                                cOff + i * n + j,
                                kn,
                                acc);
                    for (; i < i1; i++)
                        k1x1(a, aOff + i * ars + k0 * aks, aks, b, bOff + k0 * n + j, n, c, cOff + i * n + j, kn, acc);
                }
                for (; j < n; j++) {
                    for (int i = i0; i < i1; i++) {
                        int ai = aOff + i * ars + k0 * aks, bj = bOff + k0 * n + j, ci = cOff + i * n + j;
                        double s = acc ? c[ci] : 0.0;
                        for (int q = 0; q < kn; q++) s = Math.fma(a[ai + q * aks], b[bj + q * n], s);
                        c[ci] = s;
                    }
                }
            }
        }
    }

    /** C [4, 2L] at c0 (row stride n) (= or +=) A(4 rows from a0, kn) B [kn, 2L] at b0 (row stride n). */
    private static void k4x2(
            double[] a, int a0, int ars, int aks, double[] b, int b0, int n, double[] c, int c0, int kn, boolean acc) {
        int c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        DoubleVector s00, s01, s10, s11, s20, s21, s30, s31;
        if (acc) {
            s00 = DoubleVector.fromArray(S, c, c0);
            s01 = DoubleVector.fromArray(S, c, c0 + L);
            s10 = DoubleVector.fromArray(S, c, c1);
            s11 = DoubleVector.fromArray(S, c, c1 + L);
            s20 = DoubleVector.fromArray(S, c, c2);
            s21 = DoubleVector.fromArray(S, c, c2 + L);
            s30 = DoubleVector.fromArray(S, c, c3);
            s31 = DoubleVector.fromArray(S, c, c3 + L);
        } else {
            s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = DoubleVector.zero(S);
        }
        int a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        for (int q = 0; q < kn; q++) {
            int bq = b0 + q * n, aq = q * aks;
            DoubleVector b0v = DoubleVector.fromArray(S, b, bq), b1v = DoubleVector.fromArray(S, b, bq + L);
            DoubleVector av = DoubleVector.broadcast(S, a[a0 + aq]);
            s00 = av.fma(b0v, s00);
            s01 = av.fma(b1v, s01);
            av = DoubleVector.broadcast(S, a[a1 + aq]);
            s10 = av.fma(b0v, s10);
            s11 = av.fma(b1v, s11);
            av = DoubleVector.broadcast(S, a[a2 + aq]);
            s20 = av.fma(b0v, s20);
            s21 = av.fma(b1v, s21);
            av = DoubleVector.broadcast(S, a[a3 + aq]);
            s30 = av.fma(b0v, s30);
            s31 = av.fma(b1v, s31);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
    }

    /** One row of {@link #k4x2}. */
    private static void k1x2(
            double[] a, int a0, int aks, double[] b, int b0, int n, double[] c, int c0, int kn, boolean acc) {
        DoubleVector s0, s1;
        if (acc) {
            s0 = DoubleVector.fromArray(S, c, c0);
            s1 = DoubleVector.fromArray(S, c, c0 + L);
        } else {
            s0 = s1 = DoubleVector.zero(S);
        }
        for (int q = 0; q < kn; q++) {
            int bq = b0 + q * n;
            DoubleVector av = DoubleVector.broadcast(S, a[a0 + q * aks]);
            s0 = av.fma(DoubleVector.fromArray(S, b, bq), s0);
            s1 = av.fma(DoubleVector.fromArray(S, b, bq + L), s1);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + L);
    }

    /** One vector of columns of {@link #k4x2}. */
    private static void k4x1(
            double[] a, int a0, int ars, int aks, double[] b, int b0, int n, double[] c, int c0, int kn, boolean acc) {
        int c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        DoubleVector s0, s1, s2, s3;
        if (acc) {
            s0 = DoubleVector.fromArray(S, c, c0);
            s1 = DoubleVector.fromArray(S, c, c1);
            s2 = DoubleVector.fromArray(S, c, c2);
            s3 = DoubleVector.fromArray(S, c, c3);
        } else {
            s0 = s1 = s2 = s3 = DoubleVector.zero(S);
        }
        int a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        for (int q = 0; q < kn; q++) {
            int aq = q * aks;
            DoubleVector bv = DoubleVector.fromArray(S, b, b0 + q * n);
            s0 = DoubleVector.broadcast(S, a[a0 + aq]).fma(bv, s0);
            s1 = DoubleVector.broadcast(S, a[a1 + aq]).fma(bv, s1);
            s2 = DoubleVector.broadcast(S, a[a2 + aq]).fma(bv, s2);
            s3 = DoubleVector.broadcast(S, a[a3 + aq]).fma(bv, s3);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c1);
        s2.intoArray(c, c2);
        s3.intoArray(c, c3);
    }

    /** One row and one vector of columns of {@link #k4x2}. */
    private static void k1x1(
            double[] a, int a0, int aks, double[] b, int b0, int n, double[] c, int c0, int kn, boolean acc) {
        DoubleVector s = acc ? DoubleVector.fromArray(S, c, c0) : DoubleVector.zero(S);
        for (int q = 0; q < kn; q++)
            s = DoubleVector.broadcast(S, a[a0 + q * aks]).fma(DoubleVector.fromArray(S, b, b0 + q * n), s);
        s.intoArray(c, c0);
    }
}
