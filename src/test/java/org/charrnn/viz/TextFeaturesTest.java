package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        UserError e = assertThrows(UserError.class, () -> TextFeatures.Feature.parseList("quote,nesting"));
        assertTrue(e.getMessage().contains("nesting") && e.getMessage().contains("line-position"), e.getMessage());
        assertEquals(TextKind.CODE.features(), TextFeatures.request("auto", cp("int main(void) { return 0; }\n")));
        assertEquals(List.of(Feature.values()), TextFeatures.request("all", cp("x")));
        assertEquals(List.of(Feature.SPEAKER), TextFeatures.request("speaker", cp("x")));
    }

    @Test
    void typographicQuotesOpenAndClose() {
        assertEquals("..11..11", mask(TextFeatures.quote(cp("a \u201cb\u201d \u201c\u201c"))));
    }

    @Test
    void indentIsTheLinesLeadingColumns() {
        assertArrayEquals(
                new double[] {2, 2, 2, 2, 8, 8, 8, 12, 12, 12, 12, 12, 12, 12, 0},
                TextFeatures.indent(cp("  a\n\tb\n\t    c\nd")));
    }

    @Test
    void bracketsCountEveryBracket() {
        // unlike depth, an apostrophe opens nothing: it is prose
        assertArrayEquals(new double[] {0, 1, 1, 1, 2, 1, 0, 0}, ProseFeatures.brackets(cp("a(I'[)])")));
    }

    /** The opening of tiny-shakespeare, with a capital-named speaker and a prose passage added. */
    static final String PLAY = """
            First Citizen:
            Before we proceed any further, hear me speak.

            All:
            Speak, speak.

            ROMEO:
            But, soft! what light through yonder window breaks?
            It is the east, and Juliet is the sun.
            ROMEO:
            We are accounted poor citizens, the patricians good.
            What authority surfeits on would relieve us: if they
            would yield us but the superfluity, while it were
            wholesome (we might guess) they relieved us humanely;
            """;

    @Test
    void speakerLinesAndTheLinesOfTheirSpeeches() {
        int[] s = cp(PLAY);
        String[] lines = PLAY.split("\n", -1);
        double[] speaker = ProseFeatures.speaker(s),
                speech = ProseFeatures.speechLine(s),
                cap = ProseFeatures.capitalLine(s);
        int t = 0;
        // per line: speaker?, line of speech, capital start?
        int[][] expect = {
            {1, 0, 0},
            {0, 1, 1},
            {0, 0, 0},
            {1, 0, 0},
            {0, 1, 1},
            {0, 0, 0},
            {1, 0, 0},
            {0, 1, 1},
            {0, 2, 1},
            // an all-capitals name needs no blank line before it; the speech starts again
            {1, 0, 0},
            {0, 1, 1},
            {0, 2, 1},
            {0, 3, 0},
            {0, 4, 0}
        };
        for (int l = 0; l < expect.length; l++) {
            for (int i = 0; i <= lines[l].length(); i++, t++) { // the newline belongs to its line
                String where = "line " + l + " '" + lines[l] + "' at " + i;
                assertEquals(expect[l][0], speaker[t], "speaker, " + where);
                assertEquals(expect[l][1], speech[t], "speech line, " + where);
                assertEquals(expect[l][2], cap[t], "capital line, " + where);
            }
        }
        assertEquals(s.length, t);
        // a line ending in a colon within a speech is no speaker line unless all capitals
        assertEquals(
                ".".repeat(23),
                mask(ProseFeatures.speaker(cp("A:\nHe said:\nHear me thus:\n"))).substring(3));
    }

    @Test
    void playsAreProseAndTheirFeaturesVary() {
        int[] s = cp(PLAY);
        assertEquals(TextKind.PROSE, TextKind.detect(s));
        List<Feature> auto = TextFeatures.request("auto", s);
        assertEquals(TextKind.PROSE.features(), auto);
        Map<Feature, double[]> v = TextFeatures.compute(s, auto);
        for (Feature f : List.of(
                Feature.BRACKETS, Feature.LINE_POSITION, Feature.SPEAKER, Feature.SPEECH_LINE, Feature.CAPITAL_LINE))
            assertTrue(CellSearch.varies(v.get(f)), f.id());
        assertFalse(CellSearch.varies(v.get(Feature.QUOTE)), "no quotes in this excerpt: left out");
        assertFalse(auto.contains(Feature.COMMENT) || auto.contains(Feature.IF_CONDITION));
    }

    /** The real corpus, where the build passes it in: its first 5,000 characters. */
    @Test
    void tinyShakespeareIsProseWithVaryingFeatures() throws Exception {
        java.nio.file.Path p = org.charrnn.testutil.TestData.shakespeare();
        org.junit.jupiter.api.Assumptions.assumeTrue(p != null, "tiny-shakespeare is not available");
        int[] s = cp(java.nio.file.Files.readString(p).substring(0, 5000));
        assertEquals(TextKind.PROSE, TextKind.detect(s));
        Map<Feature, double[]> v = TextFeatures.compute(s, TextFeatures.request("auto", s));
        for (Feature f : List.of(Feature.LINE_POSITION, Feature.SPEAKER, Feature.SPEECH_LINE, Feature.CAPITAL_LINE))
            assertTrue(CellSearch.varies(v.get(f)), f.id());
    }

    static final String C = """
            #include <stdio.h>

            /* count the lines of a file */
            int main(int argc, char **argv)
            {
                FILE *f = fopen(argv[1], "r");
                int c, n = 0;
                if (f == NULL && argc > 1) {
                    return 1; // no file
                }
                while ((c = getc(f)) != EOF)
                    if (c == '\\n')
                        n++;
                printf("%d lines\\n", n);
                return 0;
            }
            """;

    @Test
    void cCodeIsCodeAndItsFeaturesVary() {
        int[] s = cp(C);
        assertEquals(TextKind.CODE, TextKind.detect(s));
        List<Feature> auto = TextFeatures.request("auto", s);
        assertEquals(
                List.of(
                        Feature.COMMENT,
                        Feature.STRING,
                        Feature.DEPTH,
                        Feature.IF_CONDITION,
                        Feature.INDENT,
                        Feature.LINE_POSITION),
                auto);
        Map<Feature, double[]> v = TextFeatures.compute(s, auto);
        for (Feature f : auto) assertTrue(CellSearch.varies(v.get(f)), f.id());
        // and the play's features would say little here
        Map<Feature, double[]> prose = TextFeatures.compute(s, TextKind.PROSE.features());
        assertFalse(CellSearch.varies(prose.get(Feature.SPEAKER)));
        assertFalse(CellSearch.varies(prose.get(Feature.SPEECH_LINE)));
        // the fixture the cell tests use is code too
        assertEquals(TextKind.CODE, TextKind.detect(cp(VizFixtures.code(3000, 1))));
    }
}
