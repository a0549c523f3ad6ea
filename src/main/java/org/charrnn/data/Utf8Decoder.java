package org.charrnn.data;

/**
 * A strict, streaming UTF-8 decoder: bytes go in chunk by chunk, code points come out, and a
 * sequence split across chunks is carried over. It rejects what the Unicode standard calls
 * ill-formed (stray continuation bytes, overlong forms, surrogates, values above U+10FFFF and a
 * sequence cut short by the end of input) and reports the byte offset where the bad sequence
 * starts.
 */
final class Utf8Decoder {

    /** The offset and bytes of an ill-formed sequence. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;
        final long offset;
        final String bytesHex;

        Malformed(long offset, String bytesHex, String what) {
            super(what + " at byte offset " + offset + " (" + bytesHex + ")");
            this.offset = offset;
            this.bytesHex = bytesHex;
        }
    }

    private long position; // absolute offset of the next byte fed
    private int need; // continuation bytes still expected
    private int cp; // code point being assembled
    private int lo = 0x80, hi = 0xBF; // allowed range of the next continuation byte
    private long seqStart; // offset of the lead byte of the pending sequence
    private final byte[] seq = new byte[4];
    private int seqLen;

    /** Absolute offset of the next byte to be fed. */
    long position() {
        return position;
    }

    /**
     * Decodes {@code src[off, off+len)} into {@code out} (which needs room for {@code len} code
     * points) and returns how many were written.
     */
    int decode(byte[] src, int off, int len, int[] out) throws Malformed {
        int n = 0;
        int end = off + len;
        int i = off;
        while (i < end) {
            if (need == 0) {
                // ASCII fast path
                int b = src[i];
                if (b >= 0) {
                    out[n++] = b;
                    i++;
                    continue;
                }
                b &= 0xFF;
                seqStart = position + (i - off);
                seqLen = 0;
                seq[seqLen++] = (byte) b;
                lo = 0x80;
                hi = 0xBF;
                if (b >= 0xC2 && b <= 0xDF) {
                    need = 1;
                    cp = b & 0x1F;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    need = 2;
                    cp = b & 0x0F;
                    if (b == 0xE0) lo = 0xA0;
                    else if (b == 0xED) hi = 0x9F;
                } else if (b >= 0xF0 && b <= 0xF4) {
                    need = 3;
                    cp = b & 0x07;
                    if (b == 0xF0) lo = 0x90;
                    else if (b == 0xF4) hi = 0x8F;
                } else {
                    position += i - off + 1;
                    throw new Malformed(
                            seqStart, hex(seq, 1), b < 0xC0 ? "unexpected continuation byte" : "invalid lead byte");
                }
                i++;
            } else {
                int b = src[i] & 0xFF;
                if (b < lo || b > hi) {
                    seq[seqLen++] = (byte) b;
                    position += i - off + 1;
                    throw new Malformed(seqStart, hex(seq, seqLen), "invalid UTF-8 sequence");
                }
                seq[seqLen++] = (byte) b;
                lo = 0x80;
                hi = 0xBF;
                cp = (cp << 6) | (b & 0x3F);
                i++;
                if (--need == 0) {
                    // a byte-order mark at the very start of the input is a marker, not text
                    if (cp != 0xFEFF || seqStart != 0) out[n++] = cp;
                }
            }
        }
        position += len;
        return n;
    }

    /** Call at end of input: fails if a sequence was cut short. */
    void finish() throws Malformed {
        if (need != 0) throw new Malformed(seqStart, hex(seq, seqLen), "incomplete UTF-8 sequence at end of file");
    }

    static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < n; k++) {
            if (k > 0) sb.append(' ');
            sb.append(String.format("%02X", b[k] & 0xFF));
        }
        return sb.toString();
    }
}
