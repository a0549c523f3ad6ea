package org.charrnn;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Backends;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.sample.Sampler;

/**
 * A trained model loaded from a checkpoint onto a backend: the library entry point for sampling
 * and evaluation.
 *
 * <pre>{@code
 * try (LanguageModel lm = LanguageModel.load(Path.of("checkpoints"), "auto")) {
 *     String text = lm.sampler().sampleText("ROMEO:", new SampleOptions(500, 0.8, 0, 1.0, false, 7));
 * }
 * }</pre>
 */
public final class LanguageModel implements AutoCloseable {

    /** Loss over a text: mean nats per predicted character, and how many were predicted. */
    public record Evaluation(double natsPerChar, long predictions) {
        public double bitsPerChar() {
            return natsPerChar / Math.log(2);
        }

        public double perplexity() {
            return Math.exp(natsPerChar);
        }
    }

    private final Checkpoint.Model checkpoint;
    private final Backend backend;

    private LanguageModel(Checkpoint.Model checkpoint, Backend backend) {
        this.checkpoint = checkpoint;
        this.backend = backend;
    }

    /** Loads a checkpoint file (or a run directory's best checkpoint) onto the named backend. */
    public static LanguageModel load(Path fileOrDir, String backendKind) {
        return load(fileOrDir, backendKind, BackendOptions.defaults(), s -> {});
    }

    public static LanguageModel load(Path fileOrDir, String backendKind, BackendOptions options, Consumer<String> log) {
        return open(Checkpoint.loadModel(Checkpoint.resolveModel(fileOrDir)), backendKind, options, log);
    }

    public static LanguageModel load(
            Path fileOrDir,
            String backendKind,
            BackendOptions options,
            Backends.Workload workload,
            Consumer<String> log) {
        return open(Checkpoint.loadModel(Checkpoint.resolveModel(fileOrDir)), backendKind, options, workload, log);
    }

    /** Puts an already loaded checkpoint onto the named backend, chosen for sampling (one stream, one step). */
    public static LanguageModel open(
            Checkpoint.Model m, String backendKind, BackendOptions options, Consumer<String> log) {
        return open(m, backendKind, options, new Backends.Workload(1, 1), log);
    }

    /** Puts an already loaded checkpoint onto the named backend, chosen for {@code workload} under "auto". */
    public static LanguageModel open(
            Checkpoint.Model m,
            String backendKind,
            BackendOptions options,
            Backends.Workload workload,
            Consumer<String> log) {
        log.accept(String.format(
                java.util.Locale.ROOT,
                "checkpoint: %s (iteration %d%s)",
                m.file(),
                m.info().iteration(),
                Double.isNaN(m.info().valLoss())
                        ? ""
                        : String.format(
                                java.util.Locale.ROOT,
                                ", val loss %.4f",
                                m.info().valLoss())));
        Backend b = Backends.create(backendKind, m.config(), options, workload, log);
        try {
            b.setParameters(m.params());
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return new LanguageModel(m, b);
    }

    public Checkpoint.Model checkpoint() {
        return checkpoint;
    }

    public Vocabulary vocabulary() {
        return checkpoint.vocabulary();
    }

    public Backend backend() {
        return backend;
    }

    /** A sampler over this model. */
    public Sampler sampler() {
        return new Sampler(backend, checkpoint.vocabulary());
    }

    /** How many streams {@link #evaluate} cuts a text of {@code n} symbols into: {@code batch}, at most n - 1. */
    public static int streams(long n, int batch) {
        return (int) Math.max(1, Math.min(batch, n - 1));
    }

    /**
     * Mean cross-entropy of predicting every symbol of {@code tokens} from its predecessors, with
     * the text cut into {@code batch} contiguous streams read in windows of {@code seqLen} from a
     * zero state (the last (n-1) mod batch symbols are not predicted).
     */
    public Evaluation evaluate(TokenSequence tokens, int batch, int seqLen) {
        long n = tokens.length();
        if (n < 2)
            throw new org.charrnn.util.UserError("text is too short to evaluate: it needs at least 2 characters");
        int B = streams(n, batch);
        long S = (n - 1) / B;
        double sum = 0;
        long count = 0;
        long[] starts = new long[B];
        try (TokenBuffer buf = backend.upload(tokens);
                RnnState st = backend.newState(B)) {
            for (long pos = 0; pos < S; pos += seqLen) {
                int T = (int) Math.min(seqLen, S - pos);
                for (int b = 0; b < B; b++) starts[b] = b * S + pos;
                backend.forward(st, new Window(buf, starts, T, 0), false);
                sum += backend.loss() * T * B;
                count += (long) T * B;
            }
        }
        return new Evaluation(sum / count, count);
    }

    @Override
    public void close() {
        backend.close();
    }
}
