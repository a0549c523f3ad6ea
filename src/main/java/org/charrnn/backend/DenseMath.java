package org.charrnn.backend;

/**
 * Row-major double GEMMs of the reference backend, all written as row-times-matrix loops whose
 * inner loop is an axpy over contiguous memory (the JIT vectorizes these; dot-product loops it
 * cannot reorder, and they ran at half the speed). Each method states which operand is
 * transposed and whether it writes (=) or accumulates (+=) into C. Rows of C may be split across
 * threads by the caller through {@code rowFrom, rowTo}. Also the cells' activations over arrays.
 * These are the scalar implementations of {@link ReferenceMath}; {@link VectorMath} has the others.
 */
final class DenseMath {
    private DenseMath() {}

    /**
     * C[i,:] (= or +=) A[i,:] * B for rows i in [rowFrom, rowTo):
     * A [M,K] at aOff, B [K,N] at bOff, C [M,N] at cOff.
     */
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
        for (int i = rowFrom; i < rowTo; i++) {
            int ci = cOff + i * n;
            if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0.0);
            int ai = aOff + i * k;
            for (int q = 0; q < k; q++) {
                double av = a[ai + q];
                if (av == 0) continue;
                int bq = bOff + q * n;
                for (int j = 0; j < n; j++) c[ci + j] += av * b[bq + j];
            }
        }
    }

    /**
     * C[i,:] = A^T[i,:] * B for rows i in [rowFrom, rowTo) (written, not accumulated):
     * A [K,M] at aOff, B [K,N] at bOff, C [M,N] at cOff. The weight-gradient GEMM dW = dG^T X.
     */
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
        for (int i = rowFrom; i < rowTo; i++) java.util.Arrays.fill(c, cOff + i * n, cOff + i * n + n, 0.0);
        for (int q = 0; q < k; q++) {
            int aq = aOff + q * m, bq = bOff + q * n;
            for (int i = rowFrom; i < rowTo; i++) {
                double av = a[aq + i];
                if (av == 0) continue;
                int ci = cOff + i * n;
                for (int j = 0; j < n; j++) c[ci + j] += av * b[bq + j];
            }
        }
    }

    /** out[c] = sum over rows n of A[n,c], A [N,C] at aOff (written). */
    static void columnSum(double[] a, int aOff, int rows, int cols, double[] out, int outOff) {
        java.util.Arrays.fill(out, outOff, outOff + cols, 0.0);
        for (int r = 0; r < rows; r++) {
            int ar = aOff + r * cols;
            for (int c = 0; c < cols; c++) out[outOff + c] += a[ar + c];
        }
    }

    /** x[off..off+n) = 1 / (1 + exp(-x)) in place. */
    static void sigmoid(double[] x, int off, int n) {
        for (int i = off; i < off + n; i++) x[i] = 1.0 / (1.0 + Math.exp(-x[i]));
    }

    /** y[yOff..yOff+n) = tanh(x[xOff..xOff+n)) (y may be x at the same offset). */
    static void tanh(double[] x, int xOff, double[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = Math.tanh(x[xOff + i]);
    }
}
