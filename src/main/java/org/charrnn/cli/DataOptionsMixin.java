package org.charrnn.cli;

import java.nio.file.Path;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.Datasets;
import org.charrnn.data.Encoding;
import picocli.CommandLine.Option;

/** Corpus options shared by train and eval. */
public final class DataOptionsMixin {
    @Option(
            names = "--encoding",
            defaultValue = "utf8",
            description = "utf8 (vocabulary of Unicode code points) | bytes (raw bytes, vocabulary <= 256).")
    String encoding;

    @Option(
            names = "--max-vocab",
            defaultValue = "0",
            description = "Map the rarest symbols beyond N to one unknown symbol (0 = no limit).")
    int maxVocab;

    @Option(
            names = "--cache-dir",
            description =
                    "Where downloads and encoded corpora are cached (default: $CHARRNN_HOME or ~/.cache/charrnn).")
    Path cacheDir;

    Encoding encoding() {
        return Encoding.parse(encoding);
    }

    Path cacheDir() {
        return cacheDir != null ? cacheDir : Datasets.defaultCacheDir();
    }

    CorpusOptions options(double valFrac, double testFrac) {
        return new CorpusOptions(encoding(), maxVocab, valFrac, testFrac, cacheDir());
    }
}
