package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;

class VocabularyTest {

    private static int[] cps(String s) {
        return s.codePoints().sorted().distinct().toArray();
    }

    @Test
    void utf8SymbolsIncludingSupplementaryPlane() {
        String text = "ab한국어😀\n";
        Vocabulary v = Vocabulary.of(Encoding.UTF8, cps(text), false);
        assertEquals(7, v.size());
        assertEquals(-1, v.unknownIndex());
        assertEquals(Encoding.UTF8, v.encoding());
        int smile = 0x1F600;
        int i = v.indexOf(smile);
        assertEquals(6, i, "largest code point sorts last");
        assertEquals(smile, v.symbol(i));
        assertArrayEquals("😀".getBytes(StandardCharsets.UTF_8), v.bytes(i));
        assertEquals("😀", v.display(i));
        assertEquals(-1, v.indexOf('z'));
        assertEquals(-1, v.indexOf(-5));
        assertEquals(-1, v.indexOf(0x10FFFF));
        int[] p = v.encodePrime("한😀a");
        assertArrayEquals(new int[] {v.indexOf('한'), i, v.indexOf('a')}, p);
        assertEquals(3, p.length, "one index per code point, not per UTF-16 char");
    }

    @Test
    void unknownSymbolIsLast() {
        Vocabulary v = Vocabulary.of(Encoding.UTF8, new int[] {'a', 'b'}, true);
        assertEquals(3, v.size());
        assertEquals(2, v.unknownIndex());
        assertEquals(-1, v.symbol(2));
        assertEquals(2, v.indexOf('z'));
        assertEquals(-1, v.exactIndexOf('z'));
        assertArrayEquals("\uFFFD".getBytes(StandardCharsets.UTF_8), v.bytes(2));
        assertEquals("<unk>", v.display(2));
        assertArrayEquals(new int[] {0, 2, 1}, v.encodePrime("aΩb"));
        assertThrows(IndexOutOfBoundsException.class, () -> v.symbol(3));
    }

    @Test
    void primeWithMissingCharactersListsThem() {
        Vocabulary v = Vocabulary.of(Encoding.UTF8, cps("abc "), false);
        UserError e = assertThrows(UserError.class, () -> v.encodePrime("a Ωé Ω"));
        assertEquals("prime text has characters not in the vocabulary: 'Ω' (U+03A9), 'é' (U+00E9)", e.getMessage());
        UserError e2 = assertThrows(UserError.class, () -> v.encodePrime("a\n😀"));
        assertEquals(
                "prime text has characters not in the vocabulary: '\\n' (U+000A), '😀' (U+1F600)", e2.getMessage());
        // a symbol with no visible form is its code alone, not 'U+0001' (U+0001)
        UserError e3 = assertThrows(UserError.class, () -> v.encodePrime("a\u0001\u200B"));
        assertEquals("prime text has characters not in the vocabulary: U+0001, U+200B", e3.getMessage());
    }

    @Test
    void bytesMode() {
        int[] all = new int[256];
        for (int i = 0; i < 256; i++) all[i] = i;
        Vocabulary v = Vocabulary.of(Encoding.BYTES, all, false);
        assertEquals(256, v.size());
        assertArrayEquals(new byte[] {(byte) 0xE9}, v.bytes(0xE9));
        assertEquals("\\xE9", v.display(0xE9));
        assertEquals("A", v.display('A'));
        assertEquals("\\x00", v.display(0));
        assertEquals("\\x7F", v.display(0x7F));
        assertEquals("\\n", v.display('\n'));
        // prime text is encoded as its UTF-8 bytes
        assertArrayEquals(new int[] {0xC3, 0xA9}, v.encodePrime("é"));
        Vocabulary small = Vocabulary.of(Encoding.BYTES, new int[] {'a'}, false);
        UserError e = assertThrows(UserError.class, () -> small.encodePrime("aé"));
        assertEquals("prime text has bytes not in the vocabulary: byte 0xC3, byte 0xA9", e.getMessage());
    }

    @Test
    void displayEscapesInvisibleCharacters() {
        Vocabulary v = Vocabulary.of(Encoding.UTF8, new int[] {0, '\t', '\n', '\r', ' ', '\\', 0x200B, 0x3000}, false);
        assertEquals("U+0000", v.display(0));
        assertEquals("\\t", v.display(1));
        assertEquals("\\n", v.display(2));
        assertEquals("\\r", v.display(3));
        assertEquals(" ", v.display(4));
        assertEquals("\\\\", v.display(5));
        assertEquals("U+200B", v.display(6));
        assertEquals("U+3000", v.display(7));
    }

    @Test
    void jsonRoundTripAndStableFormat() {
        Vocabulary v = Vocabulary.of(Encoding.UTF8, new int[] {10, 65, 0x1F600}, true);
        String json = v.toJson();
        assertEquals(
                "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[10,65,128512],\"unknown\":true}",
                json);
        Vocabulary back = Vocabulary.fromJson(json);
        assertEquals(v, back);
        assertEquals(v.hashCode(), back.hashCode());
        Vocabulary b = Vocabulary.of(Encoding.BYTES, new int[] {0, 255}, false);
        assertEquals(b, Vocabulary.fromJson(b.toJson()));
        assertNotEquals(v, b);
        assertNotEquals(Vocabulary.of(Encoding.UTF8, new int[] {10, 65, 0x1F600}, false), v);
    }

    @Test
    void malformedJsonIsUserError() {
        for (String bad : new String[] {
            "",
            "[]",
            "{}",
            "{\"format\":\"x\"}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":2,\"encoding\":\"utf8\",\"symbols\":[],\"unknown\":true}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[66,65],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"bytes\",\"symbols\":[300],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"latin1\",\"symbols\":[65],\"unknown\":false}",
            "not json {",
            "{\"a\":1,,}",
            "{\"format\":[1]}",
            "{\"format\":\"charrnn-vocabulary\"}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":\"x\"}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1.5,\"encoding\":\"utf8\",\"symbols\":[65],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":\"abc\",\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[65.5],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[null],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[1e10],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[65],\"unknown\":[]}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":7,\"symbols\":[65],\"unknown\":false}",
            "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\",\"symbols\":[65]}"
        }) {
            UserError e = assertThrows(UserError.class, () -> Vocabulary.fromJson(bad), bad);
            // one plain line: no exception names, library internals or second line
            assertTrue(e.getMessage().startsWith("malformed vocabulary: "), e.getMessage());
            assertFalse(
                    e.getMessage().matches("(?s).*(\\n|Exception|com\\.google|Cannot invoke|JsonNull).*"),
                    e.getMessage());
        }
        assertEquals(
                "malformed vocabulary: not valid JSON: malformed JSON at line 1 column 6 path $",
                assertThrows(UserError.class, () -> Vocabulary.fromJson("not json {"))
                        .getMessage());
        assertEquals(
                "malformed vocabulary: symbol 0 is not a whole number: 65.5",
                assertThrows(
                                UserError.class,
                                () -> Vocabulary.fromJson(
                                        "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\","
                                                + "\"symbols\":[65.5],\"unknown\":false}"))
                        .getMessage());
        assertEquals(
                "malformed vocabulary: no \"unknown\"",
                assertThrows(
                                UserError.class,
                                () -> Vocabulary.fromJson(
                                        "{\"format\":\"charrnn-vocabulary\",\"version\":1,\"encoding\":\"utf8\","
                                                + "\"symbols\":[65]}"))
                        .getMessage());
    }

    @Test
    void invalidSymbolsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(Encoding.UTF8, new int[] {2, 1}, false));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(Encoding.UTF8, new int[] {1, 1}, false));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(Encoding.UTF8, new int[] {0xD800}, false));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(Encoding.UTF8, new int[] {0x110000}, false));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(Encoding.BYTES, new int[] {256}, false));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(Encoding.UTF8, new int[0], false));
        assertEquals(1, Vocabulary.of(Encoding.UTF8, new int[0], true).size());
    }

    @Test
    void symbolsAreCopied() {
        int[] s = {1, 2, 3};
        Vocabulary v = Vocabulary.of(Encoding.UTF8, s, false);
        s[0] = 99;
        assertEquals(1, v.symbol(0));
        v.symbols()[1] = 77;
        assertEquals(2, v.symbol(1));
    }

    @Test
    void encodingParse() {
        assertEquals(Encoding.UTF8, Encoding.parse("utf8"));
        assertEquals(Encoding.UTF8, Encoding.parse("UTF-8"));
        assertEquals(Encoding.BYTES, Encoding.parse("bytes"));
        assertEquals("utf8", Encoding.UTF8.id());
        assertEquals("bytes", Encoding.BYTES.id());
        UserError e = assertThrows(UserError.class, () -> Encoding.parse("latin1"));
        assertEquals("unknown encoding 'latin1': expected utf8 or bytes", e.getMessage());
        assertThrows(UserError.class, () -> Encoding.parse(null));
    }
}
