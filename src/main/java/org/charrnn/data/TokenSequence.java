package org.charrnn.data;

/**
 * A read-only sequence of symbol indices in [0, V): the encoded form of a corpus or a slice of it.
 * Implementations are compact (one byte per symbol when V fits in 256, else two) and may be
 * memory-mapped, so a corpus far larger than the heap is fine.
 */
public interface TokenSequence {

    /** Number of symbols. */
    long length();

    /** Symbol index at position {@code i}, in [0, V). */
    int get(long i);

    /** Copies {@code n} symbols from position {@code from} into {@code dst[off..off+n)}. */
    default void copyTo(long from, int[] dst, int off, int n) {
        for (int k = 0; k < n; k++) dst[off + k] = get(from + k);
    }

    /** A view of positions [from, to). */
    default TokenSequence slice(long from, long to) {
        if (from < 0 || to > length() || from > to)
            throw new IndexOutOfBoundsException("slice [" + from + "," + to + ") of " + length());
        TokenSequence parent = this;
        return new TokenSequence() {
            @Override
            public long length() {
                return to - from;
            }

            @Override
            public int get(long i) {
                return parent.get(from + i);
            }

            @Override
            public void copyTo(long f, int[] dst, int off, int n) {
                parent.copyTo(from + f, dst, off, n);
            }
        };
    }

    /** A sequence over an int array (tests and small inputs). */
    static TokenSequence of(int... tokens) {
        int[] copy = tokens.clone();
        return new TokenSequence() {
            @Override
            public long length() {
                return copy.length;
            }

            @Override
            public int get(long i) {
                return copy[Math.toIntExact(i)];
            }

            @Override
            public void copyTo(long from, int[] dst, int off, int n) {
                System.arraycopy(copy, Math.toIntExact(from), dst, off, n);
            }
        };
    }
}
