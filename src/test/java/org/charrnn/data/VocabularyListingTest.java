package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VocabularyListingTest {

    private static List<String> escaped(Vocabulary v) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) out.add(VocabularyListing.escape(v, i));
        return out;
    }

    @Test
    void symbolsAreQuotedAndInvisibleOnesEscaped() {
        int[] cps = {
            0x01, '\t', '\n', '\r', ' ', '\'', 'A', '\\', 0x7F, 0xA0, 'é', 0x301, 0x200B, 0x2028, 0xAC00, 0xE000,
            0x1F600, 0xE0001
        };
        Vocabulary v = Vocabulary.of(Encoding.UTF8, cps, true);
        assertEquals(
                List.of(
                        "'\\u0001'",
                        "'\\t'",
                        "'\\n'",
                        "'\\r'",
                        "' '",
                        "'\\''",
                        "'A'",
                        "'\\\\'",
                        "'\\u007F'",
                        "'\\u00A0'",
                        "'é'",
                        "'\\u0301'",
                        "'\\u200B'",
                        "'\\u2028'",
                        "'가'",
                        "'\\uE000'",
                        "'😀'",
                        "'\\U000E0001'",
                        "<unk>"),
                escaped(v));
    }

    @Test
    void bytesAreEscapedAsHex() {
        Vocabulary v = Vocabulary.of(Encoding.BYTES, new int[] {0, '\n', ' ', 'A', 0x7F, 0xE9}, false);
        assertEquals(List.of("'\\x00'", "'\\n'", "' '", "'A'", "'\\x7F'", "'\\xE9'"), escaped(v));
    }

    @Test
    void countsReadTheWholeSequence() {
        int n = 200_000; // several chunks
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = i % 7 == 0 ? 2 : i % 3 == 0 ? 1 : 0;
        long[] c = VocabularyListing.counts(TokenSequence.of(t), 4);
        long[] want = new long[4];
        for (int x : t) want[x]++;
        assertArrayEquals(want, c);
        assertEquals(0, c[3]);
    }

    @Test
    void tableByFrequencyOrCodePointWrappedToTheWidth() {
        Vocabulary v = Vocabulary.of(Encoding.UTF8, new int[] {'\n', ' ', 'a', 'b', 'c', '안'}, true);
        long[] counts = {40, 1200, 7, 1200, 3, 5, 0};
        assertEquals(
                List.of(
                        "' '   1,200  'b'   1,200  '\\n'     40", //
                        "'a'       7  '안'      5  'c'       3",
                        "<unk>     0"),
                VocabularyListing.lines(v, counts, VocabularyListing.Order.FREQUENCY, 40));
        assertEquals(
                List.of("'\\n'     40  ' '   1,200  'a'       7  'b'   1,200", "'c'       3  '안'      5  <unk>     0"),
                VocabularyListing.lines(v, counts, VocabularyListing.Order.CODE_POINT, 52));
        for (int width : new int[] {1, 11, 12, 24, 25, 26, 80, 200}) {
            List<String> lines = VocabularyListing.lines(v, counts, VocabularyListing.Order.FREQUENCY, width);
            int perLine = Math.max(1, (width + 2) / 13);
            assertEquals((7 + perLine - 1) / perLine, lines.size(), "width " + width);
            for (String l : lines)
                assertTrue(VocabularyListing.displayWidth(l) <= Math.max(width, 11), width + ": " + l);
        }
    }

    @Test
    void terminalWidthFromColumns() {
        assertEquals(80, VocabularyListing.terminalWidth(null));
        assertEquals(80, VocabularyListing.terminalWidth(""));
        assertEquals(80, VocabularyListing.terminalWidth("wide"));
        assertEquals(80, VocabularyListing.terminalWidth("0"));
        assertEquals(132, VocabularyListing.terminalWidth("132"));
        assertEquals(40, VocabularyListing.terminalWidth(" 40\n"));
    }
}
