package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.charrnn.util.UserError;
import org.charrnn.viz.TextFeatures.Feature;
import org.junit.jupiter.api.Test;

/** Feature extractors on small hand-written strings; each value describes the text after reading that character. */
class TextFeaturesTest {

    /** "1" where the feature is 1, "." where it is 0, aligned with the text. */
    private static String mask(double[] f) {
        StringBuilder sb = new StringBuilder();
        for (double v : f) sb.append(v == 1 ? '1' : v == 0 ? '.' : '?');
        return sb.toString();
    }

    private static int[] cp(String s) {
        return TextFeatures.codePoints(s);
    }

    @Test
    void quoteOpensAtTheOpeningQuoteAndClosesAtTheClosingOne() {
        assertEquals("....111......11", mask(TextFeatures.quote(cp("say \"hi\" now \"x"))));
    }

    @Test
    void blockAndLineComments() {
        assertEquals("...11111.....111..", mask(TextFeatures.comment(cp("a /* b */ c // d\ne"))));
    }

    @Test
    void commentEdgeCases() {
        // "/*/" does not close the comment
        assertEquals("..1111...", mask(TextFeatures.comment(cp("x/*/ */ y"))));
        // a division is no comment
        assertEquals(".....", mask(TextFeatures.comment(cp("a/b/c"))));
        // a comment opener in a string literal does not count
        assertEquals("........", mask(TextFeatures.comment(cp("\"/* x\" ;"))));
        // after "*/" a '*' does not reopen the comment
        assertEquals(".11....", mask(TextFeatures.comment(cp("/**/*a*"))));
        // a quote in a comment opens no string
        assertEquals(".......", mask(TextFeatures.string(cp("/*\"*/ a"))));
    }

    @Test
    void stringLiteralsRespectEscapesAndCharLiterals() {
        // x = "a\"b" + '"' ;   the escaped quote stays inside; a quote in a char literal opens nothing
        assertEquals("....11111.........", mask(TextFeatures.string(cp("x = \"a\\\"b\" + '\"' ;"))));
        // an unterminated literal ends with its line
        assertEquals("111..", mask(TextFeatures.string(cp("\"ab\nc"))));
    }

    @Test
    void depthCountsBracketsOutsideCommentsAndLiterals() {
        assertArrayEquals(new double[] {0, 1, 1, 2, 2, 1, 2, 2, 1, 0}, TextFeatures.depth(cp("f(a[1]{2})")));
        assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, TextFeatures.depth(cp("{\"(\"/*[*/}")));
        // more closers than openers: never below 0
        assertArrayEquals(new double[] {0, 0, 1, 0}, TextFeatures.depth(cp("))(]")));
    }

    @Test
    void linePositionCountsFromTheLastNewline() {
        assertArrayEquals(new double[] {1, 2, 0, 1, 2, 3, 0, 0}, TextFeatures.linePosition(cp("ab\ncde\n\n")));
    }

    @Test
    void ifConditionFromItsParenthesisToTheMatchingOne() {
        assertEquals(
                "...11111" + ".".repeat(22) + "11.",
                mask(TextFeatures.ifCondition(cp("if (a(b)) x(); while (c) {} if(d)"))));
        // other words ending in "if", and an if in a string or comment, start nothing
        assertEquals(".".repeat(14), mask(TextFeatures.ifCondition(cp("elif (x) \"if(\""))));
        assertEquals(".".repeat(12), mask(TextFeatures.ifCondition(cp("/* if */ (x)"))));
        // the keyword may be followed by blanks and a newline
        assertEquals("....11..", mask(TextFeatures.ifCondition(cp("if \n(x);"))));
    }

    @Test
    void computeReturnsTheChosenFeaturesInOrder() {
        Map<Feature, double[]> m = TextFeatures.compute(cp("if (\"a\") {}"), List.of(Feature.DEPTH, Feature.QUOTE));
        assertEquals(List.of(Feature.DEPTH, Feature.QUOTE), List.copyOf(m.keySet()));
        assertEquals(11, m.get(Feature.DEPTH).length);
        assertEquals(List.of(Feature.values()), TextFeatures.Feature.parseList("all"));
        assertEquals(
                List.of(Feature.COMMENT, Feature.IF_CONDITION),
                TextFeatures.Feature.parseList("comment, if-condition,comment"));
        UserError e = assertThrows(UserError.class, () -> TextFeatures.Feature.parseList("quote,indent"));
        assertTrue(e.getMessage().contains("indent") && e.getMessage().contains("line-position"), e.getMessage());
    }
}
