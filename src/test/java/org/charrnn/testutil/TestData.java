package org.charrnn.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.charrnn.data.Datasets;
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

    /**
     * tiny-shakespeare for the tests that need it, or null when absent: the file the build names in
     * system property {@code charrnn.shakespeare} (pom.xml: {@code ../shared/data/tinyshakespeare.txt};
     * {@code -Dcharrnn.shakespeare=FILE} overrides it), else the copy {@code charrnn train --data
     * shakespeare} keeps in the cache directory ({@code $CHARRNN_HOME}, else {@code ~/.cache/charrnn}).
     */
    public static Path shakespeare() {
        return shakespeare(
                System.getProperty("charrnn.shakespeare"),
                System.getenv("CHARRNN_HOME"),
                System.getProperty("user.home"));
    }

    /**
     * {@link #shakespeare()} for the given property value, {@code $CHARRNN_HOME} and home directory
     * (each may be null). The cache's copy counts only at the dataset's exact size, as a download
     * would have left it.
     */
    public static Path shakespeare(String property, String charrnnHome, String userHome) {
        if (property != null && !property.isBlank()) {
            Path p = Path.of(property);
            if (Files.isRegularFile(p)) return p;
        }
        if ((charrnnHome == null || charrnnHome.isBlank()) && userHome == null) return null;
        Path cached = Datasets.defaultCacheDir(charrnnHome, userHome).resolve(Datasets.SHAKESPEARE.fileName());
        try {
            return Files.isRegularFile(cached) && Files.size(cached) == Datasets.SHAKESPEARE.size() ? cached : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + cached, e);
        }
    }
}
