package org.charrnn.viz;

import java.util.List;
import org.charrnn.viz.TextFeatures.Feature;

/**
 * What a text is, for choosing the features worth correlating cells with: program source, or
 * prose (including verse and play scripts).
 *
 * <p>{@link #detect} calls a text code when at least {@value #CODE_LINES} of its non-blank lines
 * look like code (end with {@code ; { }} or start with {@code # // /*}), or at least
 * {@value #CODE_SYMBOLS} of its non-blank symbols are code punctuation ({@code {}()[];=<>*&|#}).
 * Prose has few of either: a semicolon ends some lines of verse, brackets are rare.
 */
public enum TextKind {
    PROSE("prose (verse, dialogue)"),
    CODE("code");
    static final double CODE_LINES = 0.3, CODE_SYMBOLS = 0.05;
    private static final String PUNCTUATION = "{}()[];=<>*&|#";

    private final String description;

    TextKind(String description) {
        this.description = description;
    }

    /** In words, for the log and the page. */
    public String description() {
        return description;
    }

    /** The features that suit this kind of text, in the order shown. */
    public List<Feature> features() {
        return switch (this) {
            case PROSE ->
                List.of(
                        Feature.QUOTE,
                        Feature.BRACKETS,
                        Feature.LINE_POSITION,
                        Feature.SPEAKER,
                        Feature.SPEECH_LINE,
                        Feature.CAPITAL_LINE);
            case CODE ->
                List.of(
                        Feature.COMMENT,
                        Feature.STRING,
                        Feature.DEPTH,
                        Feature.IF_CONDITION,
                        Feature.INDENT,
                        Feature.LINE_POSITION);
        };
    }

    /** The kind of {@code symbols} (code points or bytes). */
    public static TextKind detect(int[] symbols) {
        int lines = 0, codeLines = 0, visible = 0, punctuation = 0;
        int start = 0;
        while (start < symbols.length) {
            int end = start;
            while (end < symbols.length && symbols[end] != '\n') end++;
            int a = start, b = end;
            while (a < b && Character.isWhitespace(symbols[a])) a++;
            while (b > a && Character.isWhitespace(symbols[b - 1])) b--;
            if (b > a) {
                lines++;
                int last = symbols[b - 1];
                boolean code = last == ';' || last == '{' || last == '}' || symbols[a] == '#';
                if (b - a >= 2 && symbols[a] == '/' && (symbols[a + 1] == '/' || symbols[a + 1] == '*')) code = true;
                if (code) codeLines++;
            }
            for (int t = a; t < b; t++) {
                if (Character.isWhitespace(symbols[t])) continue;
                visible++;
                if (symbols[t] < 128 && PUNCTUATION.indexOf(symbols[t]) >= 0) punctuation++;
            }
            start = end + 1;
        }
        if (lines == 0) return PROSE;
        return codeLines >= CODE_LINES * lines || punctuation >= CODE_SYMBOLS * visible ? CODE : PROSE;
    }
}
