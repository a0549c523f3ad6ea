package org.charrnn.backend.opencl;

import org.charrnn.backend.TokenBuffer;
import org.charrnn.data.TokenSequence;

/** A token sequence resident on the device: u8 when V <= 256, else u16 (little-endian, as OpenCL devices are). */
final class OpenClTokens implements TokenBuffer {
    private static final int CHUNK = 1 << 20;

    private final ClQueue queue;
    private final ClBuffer buffer;
    private final long length;
    private final boolean u16;

    private OpenClTokens(ClQueue queue, ClBuffer buffer, long length, boolean u16) {
        this.queue = queue;
        this.buffer = buffer;
        this.length = length;
        this.u16 = u16;
    }

    static OpenClTokens upload(ClQueue q, TokenSequence seq, int vocab) {
        if (vocab > 65536) throw new IllegalArgumentException("the opencl backend supports vocabularies up to 65536 symbols");
        boolean u16 = vocab > 256;
        int width = u16 ? 2 : 1;
        long n = seq.length();
        ClBuffer b = q.allocBytes(Math.max(1, n * width), "the corpus (" + n + " tokens)");
        int[] ids = new int[(int) Math.min(CHUNK, Math.max(1, n))];
        byte[] bytes = new byte[ids.length * width];
        for (long from = 0; from < n; from += CHUNK) {
            int m = (int) Math.min(CHUNK, n - from);
            seq.copyTo(from, ids, 0, m);
            for (int i = 0; i < m; i++) {
                int v = ids[i];
                if (v < 0 || v >= vocab) {
                    q.release(b);
                    throw new IllegalArgumentException("token " + v + " at " + (from + i) + " outside vocabulary of " + vocab);
                }
                if (u16) {
                    bytes[2 * i] = (byte) v;
                    bytes[2 * i + 1] = (byte) (v >>> 8);
                } else {
                    bytes[i] = (byte) v;
                }
            }
            q.writeBytes(b, from * width, bytes, m * width);
        }
        return new OpenClTokens(q, b, n, u16);
    }

    ClQueue queue() { return queue; }
    ClBuffer buffer() { return buffer; }
    boolean u16() { return u16; }

    @Override public long length() { return length; }

    @Override public void close() { queue.release(buffer); }
}
