package org.charrnn.data;

/**
 * Encoded symbols on the heap: one byte each when the vocabulary fits in 256 symbols, else one
 * char (16 bits), in chunks of 2^30 elements so that more than 2^31 symbols fit.
 */
final class HeapTokens implements TokenSequence {
    /** log2 of the elements per chunk (2^30; tests use less). */
    static final int DEFAULT_SHIFT = 30;

    private final int shift;
    private final long mask;
    private final long length;
    private final byte[][] bytes;
    private final char[][] chars;

    private HeapTokens(int shift, long length, byte[][] bytes, char[][] chars) {
        this.shift = shift;
        this.mask = (1L << shift) - 1;
        this.length = length;
        this.bytes = bytes;
        this.chars = chars;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int get(long i) {
        if (i < 0 || i >= length) throw new IndexOutOfBoundsException("index " + i + " of " + length);
        int c = (int) (i >>> shift), o = (int) (i & mask);
        return bytes != null ? bytes[c][o] & 0xFF : chars[c][o];
    }

    @Override
    public void copyTo(long from, int[] dst, int off, int n) {
        if (from < 0 || n < 0 || from + n > length)
            throw new IndexOutOfBoundsException("copy [" + from + "," + (from + n) + ") of " + length);
        while (n > 0) {
            int c = (int) (from >>> shift), o = (int) (from & mask);
            int k = (int) Math.min(n, (1L << shift) - o);
            if (bytes != null) {
                byte[] b = bytes[c];
                for (int j = 0; j < k; j++) dst[off + j] = b[o + j] & 0xFF;
            } else {
                char[] ch = chars[c];
                for (int j = 0; j < k; j++) dst[off + j] = ch[o + j];
            }
            from += k;
            off += k;
            n -= k;
        }
    }

    /** Fills a {@link HeapTokens} of known length and width front to back. */
    static final class Builder implements TokenSink {
        private final int shift;
        private final long mask;
        private final long length;
        private final int width;
        private final byte[][] bytes;
        private final char[][] chars;
        private long pos;

        Builder(long length, int width) {
            this(length, width, DEFAULT_SHIFT);
        }

        Builder(long length, int width, int shift) {
            if (shift < 1 || shift > 30) throw new IllegalArgumentException("shift " + shift);
            this.shift = shift;
            this.mask = (1L << shift) - 1;
            this.length = length;
            this.width = width;
            int nChunks = (int) ((length + mask) >>> shift);
            if (width == 1) {
                bytes = new byte[nChunks][];
                chars = null;
            } else {
                chars = new char[nChunks][];
                bytes = null;
            }
            for (int c = 0; c < nChunks; c++) {
                int len = (int) Math.min(1L << shift, length - ((long) c << shift));
                if (width == 1) bytes[c] = new byte[len];
                else chars[c] = new char[len];
            }
        }

        @Override
        public void put(int[] idx, int n) {
            if (pos + n > length) throw new IllegalStateException("more symbols than counted");
            for (int j = 0; j < n; j++, pos++) {
                int c = (int) (pos >>> shift), o = (int) (pos & mask);
                if (width == 1) bytes[c][o] = (byte) idx[j];
                else chars[c][o] = (char) idx[j];
            }
        }

        @Override
        public TokenSequence finish() {
            if (pos != length)
                throw new IllegalStateException("fewer symbols (" + pos + ") than counted (" + length + ")");
            return new HeapTokens(shift, length, bytes, chars);
        }

        @Override
        public void abort() {}
    }
}
