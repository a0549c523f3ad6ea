package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Utf8DecoderTest {

    private static int[] decodeInChunks(byte[] b, int chunk) throws Utf8Decoder.Malformed {
        Utf8Decoder d = new Utf8Decoder();
        int[] out = new int[b.length];
        int[] tmp = new int[chunk];
        int n = 0;
        for (int off = 0; off < b.length; off += chunk) {
            int len = Math.min(chunk, b.length - off);
            int k = d.decode(b, off, len, tmp);
            System.arraycopy(tmp, 0, out, n, k);
            n += k;
        }
        d.finish();
        return Arrays.copyOf(out, n);
    }

    @Test
    void decodesAllLengthsAcrossChunkBoundaries() throws Exception {
        String s = "aé€😀한\u0000\u007F\u0080\u07FF\u0800\uFFFF" + new String(Character.toChars(0x10FFFF));
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] expected = s.codePoints().toArray();
        for (int chunk = 1; chunk <= b.length; chunk++)
            assertArrayEquals(expected, decodeInChunks(b, chunk), "chunk " + chunk);
    }

    private static Utf8Decoder.Malformed bad(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) bytes[i];
        return assertThrows(Utf8Decoder.Malformed.class, () -> decodeInChunks(b, 1));
    }

    @Test
    void rejectsIllFormedSequencesWithOffset() {
        assertEquals(2, bad('a', 'b', 0xFF).offset); // invalid lead byte
        assertEquals(1, bad('a', 0x80).offset); // stray continuation
        assertEquals(1, bad('a', 0xC0, 0x80).offset); // overlong 2-byte
        assertEquals(0, bad(0xE0, 0x80, 0x80).offset); // overlong 3-byte
        assertEquals(0, bad(0xED, 0xA0, 0x80).offset); // surrogate
        assertEquals(0, bad(0xF0, 0x80, 0x80, 0x80).offset); // overlong 4-byte
        assertEquals(0, bad(0xF4, 0x90, 0x80, 0x80).offset); // above U+10FFFF
        assertEquals(3, bad('x', 'y', 'z', 0xE2, 'A').offset); // continuation missing
        Utf8Decoder.Malformed m = bad('x', 0xE2, 0x82); // cut short at end
        assertEquals(1, m.offset);
        assertEquals("E2 82", m.bytesHex);
        assertTrue(m.getMessage().contains("incomplete"), m.getMessage());
    }
}
