package org.charrnn.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A vocabulary as a table for the terminal: each symbol, escaped so that it can be read, with how
 * often it occurs, in columns that fit a given width.
 *
 * <p>Each symbol is shown in single quotes: {@code 'a'}, {@code ' '}, {@code '\n'}, {@code '\t'},
 * {@code '\r'}, {@code '\\'}, {@code '\''}. A control character, a format or private-use code
 * point, a combining mark, a space other than U+0020 or an unassigned code point is a backslash,
 * {@code u} and four hex digits (a backslash, {@code U} and eight above U+FFFF). In bytes mode,
 * bytes 0x7F and up and control bytes are {@code '\xE9'}; the unknown symbol is {@code <unk>}.
 */
public final class VocabularyListing {

    /** The order of the table. */
    public enum Order {
        /** Most frequent first; ties in code point order. */
        FREQUENCY,
        /** By code point (byte value), the unknown symbol last: the model's index order. */
        CODE_POINT
    }

    private VocabularyListing() {}

    /** How often each index of a vocabulary of size {@code v} occurs in {@code tokens}. */
    public static long[] counts(TokenSequence tokens, int v) {
        long[] c = new long[v];
        int[] buf = new int[1 << 16];
        long n = tokens.length();
        for (long pos = 0; pos < n; pos += buf.length) {
            int k = (int) Math.min(buf.length, n - pos);
            tokens.copyTo(pos, buf, 0, k);
            for (int i = 0; i < k; i++) c[buf[i]]++;
        }
        return c;
    }

    /** The lines of the table, none wider than {@code width} columns (unless one entry is). */
    public static List<String> lines(Vocabulary vocab, long[] counts, Order order, int width) {
        int v = vocab.size();
        if (counts.length != v) throw new IllegalArgumentException(counts.length + " counts for " + v + " symbols");
        Integer[] idx = new Integer[v];
        for (int i = 0; i < v; i++) idx[i] = i;
        if (order == Order.FREQUENCY)
            Arrays.sort(idx, Comparator.comparingLong((Integer i) -> -counts[i]).thenComparingInt(i -> i));
        String[] sym = new String[v], num = new String[v];
        int symWidth = 0, numWidth = 0;
        for (int i = 0; i < v; i++) {
            sym[i] = escape(vocab, idx[i]);
            num[i] = String.format(Locale.ROOT, "%,d", counts[idx[i]]);
            symWidth = Math.max(symWidth, displayWidth(sym[i]));
            numWidth = Math.max(numWidth, num[i].length());
        }
        int cell = symWidth + 1 + numWidth, gap = 2;
        int perLine = Math.max(1, (width + gap) / (cell + gap));
        List<String> lines = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < v; k++) {
            if (k % perLine != 0) sb.append(" ".repeat(gap));
            sb.append(sym[k]).append(" ".repeat(symWidth - displayWidth(sym[k]) + 1));
            sb.append(" ".repeat(numWidth - num[k].length())).append(num[k]);
            if (k % perLine == perLine - 1 || k == v - 1) {
                lines.add(sb.toString());
                sb.setLength(0);
            }
        }
        return lines;
    }

    /** The readable, quoted form of {@code index}: {@code 'a'}, {@code '\n'}, {@code '\xE9'}, {@code <unk>}. */
    public static String escape(Vocabulary vocab, int index) {
        if (index == vocab.unknownIndex()) return "<unk>";
        int s = vocab.symbol(index);
        if (vocab.encoding() == Encoding.BYTES && (s >= 0x7F || (s < 0x20 && s != '\n' && s != '\t' && s != '\r')))
            return String.format(Locale.ROOT, "'\\x%02X'", s);
        return "'" + escapeCodePoint(s) + "'";
    }

    static String escapeCodePoint(int cp) {
        String escaped = switch (cp) {
            case '\n' -> "\\n";
            case '\t' -> "\\t";
            case '\r' -> "\\r";
            case '\\' -> "\\\\";
            case '\'' -> "\\'";
            default -> null;
        };
        if (escaped != null) return escaped;
        if (cp != ' ' && invisible(cp))
            return cp > 0xFFFF ? String.format(Locale.ROOT, "\\U%08X", cp) : String.format(Locale.ROOT, "\\u%04X", cp);
        return new String(Character.toChars(cp));
    }

    private static boolean invisible(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL,
                    Character.FORMAT,
                    Character.UNASSIGNED,
                    Character.PRIVATE_USE,
                    Character.SURROGATE,
                    Character.LINE_SEPARATOR,
                    Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR,
                    Character.NON_SPACING_MARK,
                    Character.ENCLOSING_MARK,
                    Character.COMBINING_SPACING_MARK -> true;
            default -> false;
        };
    }

    /** Terminal columns {@code s} takes: two for East Asian wide characters and most emoji, else one. */
    static int displayWidth(String s) {
        int w = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            w += wide(cp) ? 2 : 1;
            i += Character.charCount(cp);
        }
        return w;
    }

    private static boolean wide(int cp) {
        return (cp >= 0x1100 && cp <= 0x115F)
                || (cp >= 0x2E80 && cp <= 0x303E)
                || (cp >= 0x3041 && cp <= 0x33FF)
                || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x4E00 && cp <= 0x9FFF)
                || (cp >= 0xA000 && cp <= 0xA4CF)
                || (cp >= 0xAC00 && cp <= 0xD7A3)
                || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0xFE30 && cp <= 0xFE4F)
                || (cp >= 0xFF00 && cp <= 0xFF60)
                || (cp >= 0xFFE0 && cp <= 0xFFE6)
                || (cp >= 0x1F300 && cp <= 0x1F64F)
                || (cp >= 0x1F680 && cp <= 0x1F6FF)
                || (cp >= 0x1F900 && cp <= 0x1F9FF)
                || (cp >= 0x20000 && cp <= 0x3FFFD);
    }

    /** The terminal width from {@code $COLUMNS}: its value if a positive number, else 80. */
    public static int terminalWidth(String columns) {
        if (columns != null) {
            try {
                int w = Integer.parseInt(columns.trim());
                if (w > 0) return w;
            } catch (NumberFormatException e) {
                return 80; // not a number: the default, as when unset
            }
        }
        return 80;
    }
}
