package org.charrnn.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.charrnn.LanguageModel;
import org.charrnn.backend.Backends;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.Datasets;
import org.charrnn.data.Encoding;
import org.charrnn.data.UnknownSymbolsError;
import org.charrnn.util.LogLines;
import org.charrnn.util.ProgressBar;
import org.charrnn.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code charrnn eval}: loss, bits/char and perplexity of a checkpoint over a file. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Evaluate a checkpoint on a text file: loss (nats/char), bits/char and perplexity.")
public final class EvalCommand implements Callable<Integer> {
    @Option(
            names = "--checkpoint",
            required = true,
            description = "A .safetensors checkpoint, or a run directory (its best checkpoint).")
    Path checkpoint;

    @Option(names = "--data", required = true, description = "Text file to evaluate (or 'shakespeare').")
    String data;

    @Option(
            names = "--batch",
            defaultValue = "50",
            description = "Streams evaluated in parallel, each from a zero state (1: the text as one stream).")
    int batch;

    @Option(names = "--seq", defaultValue = "100", description = "Window length.")
    int seq;

    @Option(
            names = "--skip-unknown",
            description = "Leave out the characters that are not in the model's vocabulary (and say how many and "
                    + "which) instead of stopping; with a model trained with --max-vocab they are left out rather "
                    + "than read as its unknown symbol.")
    boolean skipUnknown;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    DataOptionsMixin dataOptions;

    @Spec
    CommandSpec spec;

    /** The text over the model's vocabulary; with --skip-unknown its other characters are left out. */
    // the resource is the corpus; System.err is only handed to its progress bar
    @SuppressWarnings("ClosingStandardOutputStreams")
    private Corpus open(Path file, LanguageModel lm, CorpusOptions co) {
        try {
            return Corpus.open(
                    file,
                    lm.vocabulary(),
                    skipUnknown,
                    co,
                    new ProgressBar(System.err, "encode", ProgressBar.interactive()));
        } catch (UnknownSymbolsError e) {
            throw new UserError(e.getMessage() + "; --skip-unknown leaves them out", e);
        }
    }

    @Override
    public Integer call() {
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (seq < 1) throw new IllegalArgumentException("--seq must be >= 1, got " + seq);
        Path file = Datasets.resolve(
                data, dataOptions.cacheDir(), new ProgressBar(System.err, "download", ProgressBar.interactive()));
        try (LanguageModel lm = LanguageModel.load(
                checkpoint,
                backendOptions.backend,
                backendOptions.options(42),
                new Backends.Workload(batch, seq),
                LogLines.stderr())) {
            checkVocabularyOptions(lm.vocabulary().encoding());
            CorpusOptions co = new CorpusOptions(lm.vocabulary().encoding(), 0, 0, 0, dataOptions.cacheDir());
            try (Corpus c = open(file, lm, co)) {
                if (c.uncached() != null) System.err.println(c.uncachedNote());
                if (skipUnknown) System.out.println(skipped(c));
                String shortStreams = shortStreams(c.tokens().length(), batch, seq);
                if (shortStreams != null) System.err.println(shortStreams);
                LanguageModel.Evaluation e = lm.evaluate(c.tokens(), batch, seq);
                System.out.printf(
                        Locale.ROOT,
                        "loss %.4f nats/char  %.4f bits/char  perplexity %.3f  (%,d characters predicted)%n",
                        e.natsPerChar(),
                        e.bitsPerChar(),
                        e.perplexity(),
                        e.predictions());
            }
        }
        return 0;
    }

    /**
     * The text is read in the model's vocabulary: an --encoding other than the model's, or a
     * --max-vocab (a training option), would be ignored, so either is refused.
     */
    private void checkVocabularyOptions(Encoding model) {
        if (spec.commandLine().getParseResult().hasMatchedOption("--encoding") && dataOptions.encoding() != model)
            throw new UserError("--encoding " + dataOptions.encoding().id() + " does not match the model's vocabulary ("
                    + model.id() + "): eval reads the text in the model's encoding; leave --encoding out");
        if (dataOptions.maxVocab != 0)
            throw new UserError("--max-vocab is a training option: eval reads the text in the model's vocabulary"
                    + " (its unknown symbol, if it has one, stands for the rest)");
    }

    /**
     * A note where --batch cuts the text into streams shorter than one --seq window: each is read from
     * a zero state, so a large share of the predictions has little context and the loss reads high
     * (and depends on --batch); null where the streams are long enough or there is one.
     */
    static String shortStreams(long n, int batch, int seq) {
        int streams = LanguageModel.streams(n, batch);
        long each = (n - 1) / streams;
        if (streams == 1 || each >= seq) return null;
        return String.format(
                Locale.ROOT,
                "note: --batch %d cuts the text into %d streams of %,d character%s, each read from a zero state, so"
                        + " many predictions have little context; a smaller --batch (1: one stream) measures the"
                        + " model better",
                batch,
                streams,
                each,
                each == 1 ? "" : "s");
    }

    /** How many examples of skipped characters to name. */
    private static final int EXAMPLES = 5;

    /** {@code skipped 12 characters not in the model's vocabulary (2 distinct: 'é' (U+00E9), 'ß' (U+00DF))}. */
    static String skipped(Corpus c) {
        String unit = c.vocabulary().encoding() == Encoding.BYTES ? "bytes" : "characters";
        if (c.unknownCount() == 0) return "skipped 0 " + unit + ": all are in the model's vocabulary";
        int distinct = c.unknownDistinct();
        return String.format(
                Locale.ROOT,
                "skipped %,d %s not in the model's vocabulary (%,d distinct: %s%s)",
                c.unknownCount(),
                unit,
                distinct,
                String.join(", ", c.unknownExamples(EXAMPLES)),
                distinct > EXAMPLES ? String.format(Locale.ROOT, " and %,d more", distinct - EXAMPLES) : "");
    }
}
