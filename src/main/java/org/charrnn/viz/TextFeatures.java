package org.charrnn.viz;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.charrnn.util.UserError;

/**
 * Per-character features of a text, for finding interpretable cells as in Karpathy, Johnson and
 * Fei-Fei, "Visualizing and Understanding Recurrent Networks" (2016).
 *
 * <p>Every feature value at position {@code t} describes the text <em>after</em> reading symbol
 * {@code t}, which is what a cell's activation after that symbol can know: the opening quote of
 * {@code "ab"} is already inside the quotes, the closing one is outside again. Symbols are code
 * points (or byte values); only ASCII matters to the extractors, so both encodings work.
 *
 * <p>Which features suit a text depends on what it is ({@link TextKind}): for prose, verse and
 * dialogue quotes, brackets, the position in the line, speakers' names and their speeches
 * ({@link ProseFeatures}); for code comments, strings, nesting and indentation. The code features
 * ({@link Feature#COMMENT}, {@link Feature#STRING}, {@link Feature#DEPTH},
 * {@link Feature#IF_CONDITION}) follow a small C lexer: comments ({@code /* *}{@code /} and
 * {@code //} to the end of the line), string literals {@code "..."} and character literals
 * {@code '...'} with backslash escapes; brackets in comments and literals do not count, nor do
 * quotes in comments.
 */
public final class TextFeatures {
    private TextFeatures() {}

    /** The features a cell is correlated with. */
    public enum Feature {
        /** 1 inside double quotes (every {@code "} toggles; {@code “ ”} open and close), else 0. */
        QUOTE("quote", "inside double quotes"),
        /** 1 inside a C comment ({@code /* *}{@code /} or {@code //} to the end of the line), else 0. */
        COMMENT("comment", "inside a C comment (/* */ or //)"),
        /** Characters since the last newline (0 right after a newline). */
        LINE_POSITION("line-position", "position in the line (characters since the last newline)"),
        /** Nesting depth of (), [] and {} outside comments and literals. */
        DEPTH("depth", "bracket/brace nesting depth"),
        /** 1 from the {@code (} after the keyword {@code if} up to its matching {@code )}, else 0. */
        IF_CONDITION("if-condition", "inside the condition of an if (...)"),
        /** 1 inside a C string literal (escapes and comments respected), else 0. */
        STRING("string", "inside a string literal"),
        /** Columns of the current line's leading blanks (tabs to the next multiple of 8). */
        INDENT("indent", "indentation of the line (columns of leading blanks)"),
        /** Nesting depth of (), [] and {}, counting every bracket (no lexing: for prose). */
        BRACKETS("brackets", "inside brackets: nesting depth of (), [] and {}"),
        /** 1 on a line naming the next speaker, such as {@code ROMEO:} or {@code First Citizen:}. */
        SPEAKER("speaker", "on a speaker's name line (\"ROMEO:\")"),
        /** The line's number in the current speech: 1 on the line after the speaker's name, 0 outside speeches. */
        SPEECH_LINE("speech-line", "line number within the current speech (0 outside a speech)"),
        /** 1 on a line (other than a speaker's name) that starts with a capital letter, as verse lines do. */
        CAPITAL_LINE(
                "capital-line", "on a line that starts with a capital letter (verse; prose runs on in lower case)");

        private final String id;
        private final String description;

        Feature(String id, String description) {
            this.id = id;
            this.description = description;
        }

        public String id() {
            return id;
        }

        public String description() {
            return description;
        }

        /** A feature by its id ({@code quote}, {@code comment}, ...); a {@link UserError} listing the ids otherwise. */
        public static Feature parse(String s) {
            String k = s.trim().toLowerCase(Locale.ROOT);
            for (Feature f : values()) if (f.id.equals(k)) return f;
            throw new UserError("unknown feature '" + s + "'; choose from auto, all or " + ids());
        }

        /** A comma-separated list of ids, or "all". */
        public static List<Feature> parseList(String s) {
            if (s == null || s.isBlank() || s.trim().equalsIgnoreCase("all")) return List.of(values());
            List<Feature> out = new ArrayList<>();
            for (String part : s.split(",")) {
                if (part.isBlank()) continue;
                Feature f = parse(part);
                if (!out.contains(f)) out.add(f);
            }
            if (out.isEmpty()) throw new UserError("no features given; choose from " + ids());
            return out;
        }

        static String ids() {
            List<String> ids = new ArrayList<>();
            for (Feature f : values()) ids.add(f.id);
            return String.join(", ", ids);
        }
    }

    /**
     * The features a {@code --features} value asks for: {@code auto} those that suit the text's
     * {@link TextKind}, {@code all} every one, or a comma-separated list of ids.
     */
    public static List<Feature> request(String spec, int[] symbols) {
        if (spec != null && spec.trim().equalsIgnoreCase("auto"))
            return TextKind.detect(symbols).features();
        return Feature.parseList(spec);
    }

    /** The chosen features of {@code symbols}, in the order asked for; each array has one value per symbol. */
    public static Map<Feature, double[]> compute(int[] symbols, List<Feature> features) {
        Map<Feature, double[]> out = new LinkedHashMap<>();
        double[][] all = null;
        for (Feature f : features) {
            switch (f) {
                case QUOTE -> out.put(f, quote(symbols));
                case LINE_POSITION -> out.put(f, linePosition(symbols));
                case INDENT -> out.put(f, indent(symbols));
                case BRACKETS -> out.put(f, ProseFeatures.brackets(symbols));
                case SPEAKER -> out.put(f, ProseFeatures.speaker(symbols));
                case SPEECH_LINE -> out.put(f, ProseFeatures.speechLine(symbols));
                case CAPITAL_LINE -> out.put(f, ProseFeatures.capitalLine(symbols));
                case COMMENT, STRING, DEPTH, IF_CONDITION -> {
                    if (all == null) all = lex(symbols);
                    out.put(f, all[f == Feature.COMMENT ? 0 : f == Feature.STRING ? 1 : f == Feature.DEPTH ? 2 : 3]);
                }
            }
        }
        return out;
    }

    /** Code points of a Java string, for the extractors. */
    public static int[] codePoints(String s) {
        return s.codePoints().toArray();
    }

    /**
     * {@link Feature#QUOTE}: 1 from an opening {@code "} up to (not including) the closing one;
     * typographic quotes open ({@code “}) and close ({@code ”}) explicitly.
     */
    public static double[] quote(int[] s) {
        double[] f = new double[s.length];
        boolean in = false;
        for (int t = 0; t < s.length; t++) {
            if (s[t] == '"') in = !in;
            else if (s[t] == '\u201c') in = true;
            else if (s[t] == '\u201d') in = false;
            f[t] = in ? 1 : 0;
        }
        return f;
    }

    /**
     * {@link Feature#INDENT}: the columns of blanks that start the current line (a tab advances to
     * the next multiple of 8), on every symbol of the line; a newline belongs to the line it ends.
     */
    public static double[] indent(int[] s) {
        double[] f = new double[s.length];
        int start = 0;
        while (start < s.length) {
            int end = start;
            while (end < s.length && s[end] != '\n') end++;
            int cols = 0;
            for (int t = start; t < end && (s[t] == ' ' || s[t] == '\t'); t++)
                cols = s[t] == '\t' ? (cols / 8 + 1) * 8 : cols + 1;
            for (int t = start; t <= Math.min(end, s.length - 1); t++) f[t] = cols;
            start = end + 1;
        }
        return f;
    }

    /** {@link Feature#LINE_POSITION}: 0 at a newline, then 1, 2, ... */
    public static double[] linePosition(int[] s) {
        double[] f = new double[s.length];
        int pos = 0;
        for (int t = 0; t < s.length; t++) {
            pos = s[t] == '\n' ? 0 : pos + 1;
            f[t] = pos;
        }
        return f;
    }

    /** {@link Feature#COMMENT}. */
    public static double[] comment(int[] s) {
        return lex(s)[0];
    }

    /** {@link Feature#STRING}. */
    public static double[] string(int[] s) {
        return lex(s)[1];
    }

    /** {@link Feature#DEPTH}. */
    public static double[] depth(int[] s) {
        return lex(s)[2];
    }

    /** {@link Feature#IF_CONDITION}. */
    public static double[] ifCondition(int[] s) {
        return lex(s)[3];
    }

    private enum Mode {
        CODE,
        STRING,
        CHAR,
        LINE_COMMENT,
        BLOCK_COMMENT
    }

    /** One pass of the C lexer: {comment, string, depth, if-condition}. */
    private static double[][] lex(int[] s) {
        int n = s.length;
        double[] comment = new double[n], string = new double[n], depth = new double[n], cond = new double[n];
        Mode mode = Mode.CODE;
        boolean escape = false;
        boolean slash = false; // the previous symbol was a '/' in code (may open a comment)
        boolean star = false; // the previous symbol was a '*' inside a block comment (may close it)
        int d = 0;
        int condDepth = -1; // depth inside the open if-condition's parenthesis, -1 when none
        StringBuilder word = new StringBuilder();
        String lastWord = ""; // the last identifier in code, "" once something else than blanks follows it
        for (int t = 0; t < n; t++) {
            int c = s[t];
            switch (mode) {
                case CODE -> {
                    boolean ident = c == '_' || (c < 128 && Character.isLetterOrDigit(c));
                    if (ident) {
                        word.append((char) c);
                    } else {
                        if (word.length() > 0) {
                            lastWord = word.toString();
                            word.setLength(0);
                        }
                        if (c == '/' && slash) {
                            mode = Mode.LINE_COMMENT;
                        } else if (c == '*' && slash) {
                            mode = Mode.BLOCK_COMMENT;
                            star = false;
                        } else if (c == '"') {
                            mode = Mode.STRING;
                        } else if (c == '\'') {
                            mode = Mode.CHAR;
                        } else if (c == '(' || c == '[' || c == '{') {
                            d++;
                            if (c == '(' && condDepth < 0 && lastWord.equals("if")) condDepth = d;
                        } else if (c == ')' || c == ']' || c == '}') {
                            if (c == ')' && d == condDepth) condDepth = -1;
                            d = Math.max(0, d - 1);
                            if (condDepth > d) condDepth = -1; // unbalanced text: drop the condition
                        }
                        if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r')) lastWord = "";
                    }
                    slash = mode == Mode.CODE && c == '/';
                }
                case STRING, CHAR -> {
                    if (escape) escape = false;
                    else if (c == '\\') escape = true;
                    else if (c == (mode == Mode.STRING ? '"' : '\'')) mode = Mode.CODE;
                    else if (c == '\n') mode = Mode.CODE; // unterminated literal: it ends with the line
                }
                case LINE_COMMENT -> {
                    if (c == '\n') mode = Mode.CODE;
                }
                case BLOCK_COMMENT -> {
                    // "/*/" does not close: the '*' must come after the opening "/*"
                    if (c == '/' && star) mode = Mode.CODE;
                    star = c == '*';
                }
            }
            comment[t] = mode == Mode.LINE_COMMENT || mode == Mode.BLOCK_COMMENT ? 1 : 0;
            string[t] = mode == Mode.STRING ? 1 : 0;
            depth[t] = d;
            cond[t] = condDepth >= 0 ? 1 : 0;
        }
        return new double[][] {comment, string, depth, cond};
    }
}
