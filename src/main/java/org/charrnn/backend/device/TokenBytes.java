package org.charrnn.backend.device;

import org.charrnn.data.TokenSequence;

/**
 * Corpus tokens as the gather kernels read them: one byte per token when the vocabulary has at most
 * 256 symbols, else two bytes little-endian (CUDA and OpenCL devices are little-endian).
 */
public final class TokenBytes {
    private static final int CHUNK = 1 << 20;

    private TokenBytes() {}

    /** Receives consecutive encoded chunks; {@code bytes} is reused once write returns. */
    public interface ChunkWriter {
        void write(long byteOffset, byte[] bytes, int length);
    }

    /** Bytes per token for {@code vocab} symbols: 1 or 2. */
    public static int width(int vocab) {
        return vocab > 256 ? 2 : 1;
    }

    /**
     * Encodes {@code seq} chunk by chunk into {@code out}, checking every token against
     * {@code vocab} (IllegalArgumentException naming the first one outside it).
     */
    public static void encode(TokenSequence seq, int vocab, ChunkWriter out) {
        if (vocab > 65536)
            throw new IllegalArgumentException(
                    "device backends support vocabularies of up to 65536 symbols, got " + vocab);
        int width = width(vocab);
        long n = seq.length();
        int[] ids = new int[(int) Math.min(CHUNK, Math.max(1, n))];
        byte[] bytes = new byte[ids.length * width];
        for (long from = 0; from < n; from += CHUNK) {
            int m = (int) Math.min(CHUNK, n - from);
            seq.copyTo(from, ids, 0, m);
            for (int i = 0; i < m; i++) {
                int v = ids[i];
                if (v < 0 || v >= vocab)
                    throw new IllegalArgumentException(
                            "token " + v + " at position " + (from + i) + " outside vocabulary of " + vocab);
                if (width == 2) {
                    bytes[2 * i] = (byte) v;
                    bytes[2 * i + 1] = (byte) (v >>> 8);
                } else {
                    bytes[i] = (byte) v;
                }
            }
            out.write(from * width, bytes, m * width);
        }
    }
}
