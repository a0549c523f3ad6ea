package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class BleuTest {
    @Test
    void identicalCaptionsScoreOne() {
        assertEquals(
                1.0,
                Bleu.bleu4(List.of("a red circle left of a square"), List.of(List.of("a red circle left of a square"))),
                1e-12);
    }

    @Test
    void shortHypothesesPayTheBrevityPenalty() {
        assertEquals(Math.exp(1 - 6.0 / 4), Bleu.bleu4(List.of("a b c d"), List.of(List.of("a b c d e f"))), 1e-12);
    }

    @Test
    void precisionsAreClippedByTheReferenceCounts() {
        // unigrams: "the" x4, clipped to 2 of the reference -> 2/4; no bigram matches -> 0
        assertEquals(0.0, Bleu.bleu4(List.of("the the the the"), List.of(List.of("the cat the mat"))));
        // 5 words, the last one differs: p1 = 4/5, p2 = 3/4, p3 = 2/3, p4 = 1/2, equal lengths
        assertEquals(
                Math.pow(0.8 * 0.75 * (2.0 / 3) * 0.5, 0.25),
                Bleu.bleu4(List.of("a red dot on top"), List.of(List.of("a red dot on left"))),
                1e-12);
        // every n-gram found in one reference or the other: 1
        assertEquals(
                1.0,
                Bleu.bleu4(List.of("a red dot on top"), List.of(List.of("a red dot on left", "x red dot on top"))),
                1e-12);
    }

    @Test
    void theClosestReferenceLengthIsUsed() {
        double b = Bleu.bleu4(List.of("a b c d e"), List.of(List.of("a b c d e f g h i", "a b c d e")));
        assertEquals(1.0, b, 1e-12);
    }
}
