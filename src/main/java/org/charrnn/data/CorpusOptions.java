package org.charrnn.data;

import java.nio.file.Path;
import java.util.Locale;
import org.charrnn.util.UserError;

/**
 * How a corpus is read and split.
 *
 * @param encoding  UTF8 (code points) or BYTES (raw bytes)
 * @param maxVocab  0 = unlimited; otherwise the vocabulary size including one unknown symbol,
 *                  which the rarest symbols map to when the corpus has more than {@code maxVocab}
 *                  distinct symbols (ties: the larger code point counts as rarer). At least 2.
 * @param valFrac   fraction of the symbols held out for validation (char-rnn default 0.05)
 * @param testFrac  fraction held out for test (default 0)
 * @param cacheDir  directory for the encoded cache ({@code <cacheDir>/encoded/}); null = no cache
 */
public record CorpusOptions(Encoding encoding, int maxVocab, double valFrac, double testFrac, Path cacheDir) {

    public CorpusOptions {
        if (encoding == null) throw new IllegalArgumentException("encoding is null");
        if (maxVocab < 0 || maxVocab == 1)
            throw UserError.naming("{CorpusOptions.maxVocab} must be 0 (unlimited) or at least 2, not " + maxVocab);
        if (maxVocab > Vocabulary.MAX_SIZE)
            throw UserError.naming(
                    "{CorpusOptions.maxVocab} must be at most " + Vocabulary.MAX_SIZE + ", not " + maxVocab);
        checkFrac("{CorpusOptions.valFrac}", valFrac);
        checkFrac("{CorpusOptions.testFrac}", testFrac);
        if (valFrac + testFrac >= 1)
            throw UserError.naming(String.format(
                    Locale.ROOT,
                    "{CorpusOptions.valFrac} %s plus {CorpusOptions.testFrac} %s must be less than 1 so that some data is left for training",
                    valFrac,
                    testFrac));
    }

    private static void checkFrac(String name, double f) {
        if (!(f >= 0 && f < 1)) throw UserError.naming(name + " must be in [0, 1), not " + f);
    }

    /** UTF8, unlimited vocabulary, val 0.05, test 0, no cache. */
    public static CorpusOptions defaults() {
        return new CorpusOptions(Encoding.UTF8, 0, 0.05, 0.0, null);
    }

    public CorpusOptions withEncoding(Encoding e) {
        return new CorpusOptions(e, maxVocab, valFrac, testFrac, cacheDir);
    }

    public CorpusOptions withMaxVocab(int v) {
        return new CorpusOptions(encoding, v, valFrac, testFrac, cacheDir);
    }

    public CorpusOptions withSplits(double val, double test) {
        return new CorpusOptions(encoding, maxVocab, val, test, cacheDir);
    }

    public CorpusOptions withCacheDir(Path dir) {
        return new CorpusOptions(encoding, maxVocab, valFrac, testFrac, dir);
    }
}
