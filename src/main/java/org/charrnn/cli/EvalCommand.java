package org.charrnn.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.charrnn.LanguageModel;
import org.charrnn.backend.Backends;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.Datasets;
import org.charrnn.util.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Option(names = "--batch", defaultValue = "50", description = "Streams evaluated in parallel.")
    int batch;

    @Option(names = "--seq", defaultValue = "100", description = "Window length.")
    int seq;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    DataOptionsMixin dataOptions;

    @Override
    @SuppressWarnings(
            "ClosingStandardOutputStreams") // the resource is the corpus; System.err is only handed to its progress bar
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
                line -> System.err.println(line))) {
            CorpusOptions co = new CorpusOptions(lm.vocabulary().encoding(), 0, 0, 0, dataOptions.cacheDir());
            try (Corpus c = Corpus.open(
                    file, lm.vocabulary(), co, new ProgressBar(System.err, "encode", ProgressBar.interactive()))) {
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
}
