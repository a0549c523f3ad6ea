package org.charrnn.viz;

import java.util.ArrayList;
import java.util.List;

/**
 * Features of prose, verse and play scripts ({@link TextFeatures.Feature#BRACKETS},
 * {@link TextFeatures.Feature#SPEAKER}, {@link TextFeatures.Feature#SPEECH_LINE},
 * {@link TextFeatures.Feature#CAPITAL_LINE}).
 *
 * <p>The line features give every symbol of a line the line's value, its newline included (a
 * newline belongs to the line it ends). A speaker line names who speaks next, as in
 * tiny-shakespeare:
 *
 * <pre>
 * First Citizen:
 * Before we proceed any further, hear me speak.
 *
 * ROMEO:
 * </pre>
 *
 * that is a line of a name and a colon: the name starts with a capital letter, has at most 40
 * letters, blanks, apostrophes, hyphens and periods, and either the line follows a blank line (or
 * starts the text) or the name is all capitals.
 */
final class ProseFeatures {
    private ProseFeatures() {}

    private static final int MAX_NAME = 40;

    /** Nesting depth of (), [] and {} after each symbol, every bracket counted, never below 0. */
    static double[] brackets(int[] s) {
        double[] f = new double[s.length];
        int d = 0;
        for (int t = 0; t < s.length; t++) {
            int c = s[t];
            if (c == '(' || c == '[' || c == '{') d++;
            else if (c == ')' || c == ']' || c == '}') d = Math.max(0, d - 1);
            f[t] = d;
        }
        return f;
    }

    /** 1 on every symbol of a speaker line, else 0. */
    static double[] speaker(int[] s) {
        double[] f = new double[s.length];
        for (Line l : lines(s)) if (l.speaker()) l.fill(f, 1);
        return f;
    }

    /** The line's number in the current speech (1 on the line after the speaker's), 0 on blank lines and outside speeches. */
    static double[] speechLine(int[] s) {
        double[] f = new double[s.length];
        int n = 0; // 0 outside a speech
        boolean inSpeech = false;
        for (Line l : lines(s)) {
            if (l.speaker()) {
                inSpeech = true;
                n = 0;
            } else if (l.blank()) {
                inSpeech = false;
                n = 0;
            } else if (inSpeech) {
                n++;
                l.fill(f, n);
            }
        }
        return f;
    }

    /** 1 on every symbol of a line, other than a speaker line, whose first non-blank symbol is a capital letter. */
    static double[] capitalLine(int[] s) {
        double[] f = new double[s.length];
        for (Line l : lines(s)) {
            int first = l.firstNonBlank();
            if (!l.speaker() && first >= 0 && Character.isUpperCase(s[first])) l.fill(f, 1);
        }
        return f;
    }

    /** The symbols [from, to) of a line, {@code to} at its newline (or the text's end). */
    private record Line(int from, int to, int[] s, boolean speaker) {
        boolean blank() {
            return firstNonBlank() < 0;
        }

        int firstNonBlank() {
            for (int t = from; t < to; t++) if (!isBlank(s[t])) return t;
            return -1;
        }

        /** Sets the line's symbols and its newline to {@code v}. */
        void fill(double[] f, double v) {
            for (int t = from; t <= Math.min(to, s.length - 1); t++) f[t] = v;
        }
    }

    private static List<Line> lines(int[] s) {
        List<Line> out = new ArrayList<>();
        boolean afterBlank = true; // the text's start counts as after a blank line
        int start = 0;
        while (start < s.length) {
            int end = start;
            while (end < s.length && s[end] != '\n') end++;
            boolean speaker = isSpeaker(s, start, end, afterBlank);
            Line l = new Line(start, end, s, speaker);
            out.add(l);
            afterBlank = l.blank();
            start = end + 1;
        }
        return out;
    }

    private static boolean isSpeaker(int[] s, int from, int to, boolean afterBlank) {
        int a = from, b = to;
        while (a < b && isBlank(s[a])) a++;
        while (b > a && isBlank(s[b - 1])) b--;
        if (b - a < 2 || s[b - 1] != ':' || b - 1 - a > MAX_NAME) return false;
        if (!Character.isUpperCase(s[a])) return false;
        boolean allCaps = true;
        for (int t = a; t < b - 1; t++) {
            int c = s[t];
            if (Character.isLetter(c)) allCaps &= !Character.isLowerCase(c);
            else if (!(c == ' ' || c == '\'' || c == '-' || c == '.')) return false;
        }
        return afterBlank || allCaps;
    }

    private static boolean isBlank(int c) {
        return c == ' ' || c == '\t' || c == '\r';
    }
}
