package org.charrnn.testutil;

import java.nio.file.Path;
import java.util.Arrays;
import org.charrnn.data.Encoding;
import org.charrnn.data.TokenSequence;
import org.charrnn.data.Vocabulary;
import org.charrnn.train.Trainer;

/** Small in-memory corpora for tests. */
public final class TestData {
    private TestData() {}

    /** The vocabulary of {@code text}'s code points. */
    public static Vocabulary vocabulary(String text) {
        return Vocabulary.of(
                Encoding.UTF8, text.codePoints().distinct().sorted().toArray(), false);
    }

    /** {@code text} encoded with {@code vocab}. */
    public static TokenSequence encode(String text, Vocabulary vocab) {
        return TokenSequence.of(text.codePoints().map(vocab::indexOf).toArray());
    }

    /** Training data: the first (1 - valFrac) of the text for training, the rest for validation. */
    public static Trainer.Data split(String text, double valFrac) {
        Vocabulary v = vocabulary(text);
        int[] all = text.codePoints().map(v::indexOf).toArray();
        int nVal = (int) Math.floor(all.length * valFrac);
        return new Trainer.Data(
                v,
                TokenSequence.of(Arrays.copyOfRange(all, 0, all.length - nVal)),
                TokenSequence.of(Arrays.copyOfRange(all, all.length - nVal, all.length)),
                "test text");
    }

    /** A deterministic pseudo-text of {@code n} characters over a small alphabet, with some structure. */
    public static String pseudoText(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        String[] words = {"the ", "cat ", "sat ", "on ", "a ", "mat.\n", "and ", "dog ", "ran "};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < n) sb.append(words[r.nextInt(words.length)]);
        return sb.substring(0, n);
    }

    /** The tiny-shakespeare path passed in by the build, or null when absent. */
    public static Path shakespeare() {
        String p = System.getProperty("charrnn.shakespeare");
        if (p == null) return null;
        Path path = Path.of(p);
        return java.nio.file.Files.isRegularFile(path) ? path : null;
    }
}
