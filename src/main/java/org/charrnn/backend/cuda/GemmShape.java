package org.charrnn.backend.cuda;

import java.util.Comparator;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.charrnn.backend.Precision;

/**
 * One GEMM as a training step issues it ({@link Gemm#gemm}'s row-major terms): C [M,N] written
 * ({@code =}, beta 0) or accumulated ({@code +=}) with op(A) [M,K] op(B) [K,N], at precision fp32,
 * tf32 or bf16. {@code charrnn bench --probe} times each shape the bench grid's steps issue (fp32 and
 * tf32: the precisions the step cost model prices), and the step
 * cost model prices a GEMM of a measured shape at that time ({@link StepCostModel.Rates#gemmUs}).
 * Its {@link #key}, the name in the rates file, reads as {@code "tf32 NT 2500x256x65 ="}: the
 * precision, N or T for each of A and B, M x N x K, = or +=; and {@code " side"} for a GEMM on the
 * side stream's cuBLAS handle ({@code side}), whose workspace is {@link SideStream#WORKSPACE}, not
 * the main handle's {@link Gemm#WORKSPACE}: cuBLAS may choose another algorithm for it.
 */
record GemmShape(
        Precision precision, boolean transA, boolean transB, int m, int n, int k, boolean accumulate, boolean side) {
    /** Cheapest first (by FLOPs), then by key: the probe's order. */
    static final Comparator<GemmShape> BY_SIZE =
            Comparator.comparingDouble(GemmShape::flops).thenComparing(GemmShape::key);

    private static final Pattern KEY =
            Pattern.compile("(fp32|tf32|bf16) ([NT])([NT]) (\\d+)x(\\d+)x(\\d+) (=|\\+=)( side)?");

    GemmShape {
        if (precision == Precision.FP64)
            throw new IllegalArgumentException("GEMM shapes are fp32, tf32 or bf16, not " + precision.id());
        if (m < 1 || n < 1 || k < 1)
            throw new IllegalArgumentException("a GEMM's M, N and K must be positive: " + m + "x" + n + "x" + k);
    }

    /** A GEMM on the main stream's handle. */
    GemmShape(Precision precision, boolean transA, boolean transB, int m, int n, int k, boolean accumulate) {
        this(precision, transA, transB, m, n, k, accumulate, false);
    }

    /** This shape on the main stream's handle (where a rates file timed no side variant). */
    GemmShape onMain() {
        return new GemmShape(precision, transA, transB, m, n, k, accumulate);
    }

    /** {@code "fp32 NN 128x2048x512 ="}, {@code "... = side"}: the rates file's name of this shape. */
    String key() {
        return String.format(
                Locale.ROOT,
                "%s %s%s %dx%dx%d %s%s",
                precision.id(),
                transA ? "T" : "N",
                transB ? "T" : "N",
                m,
                n,
                k,
                accumulate ? "+=" : "=",
                side ? " side" : "");
    }

    /** The shape a {@link #key} names (an IllegalArgumentException saying what a key looks like otherwise). */
    static GemmShape parse(String key) {
        Matcher x = KEY.matcher(key);
        if (!x.matches())
            throw new IllegalArgumentException(
                    "a GEMM shape reads as 'fp32 NT 128x2048x512 =' (precision, N or T for A and B, M x N x K, = or"
                            + " +=, then ' side' on the side stream), not '" + key + "'");
        try {
            return new GemmShape(
                    Precision.parse(x.group(1)),
                    x.group(2).equals("T"),
                    x.group(3).equals("T"),
                    Integer.parseInt(x.group(4)),
                    Integer.parseInt(x.group(5)),
                    Integer.parseInt(x.group(6)),
                    x.group(7).equals("+="),
                    x.group(8) != null);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a GEMM shape's sizes must be whole numbers: '" + key + "'", e);
        }
    }

    /** 2 M N K. */
    double flops() {
        return 2.0 * m * n * k;
    }

    /** The floats of op(A), op(B) and C with dense leading dimensions: M K, K N and M N. */
    long[] operandFloats() {
        return new long[] {(long) m * k, (long) k * n, (long) m * n};
    }

    /** Dense leading dimensions of A, B and C as {@link Gemm#gemm} reads them: K or M, N or K, N. */
    int[] leadingDimensions() {
        return new int[] {transA ? m : k, transB ? k : n, n};
    }
}
