package org.charrnn.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Backends;
import org.charrnn.data.TokenSequence;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.ConfigError;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * Truncated-BPTT training as in char-rnn / torch-rnn. The training split is cut into B contiguous
 * streams of S = (N-1)/B symbols; iteration k of an epoch takes symbols [b*S + k*T, b*S + k*T + T]
 * of every stream b, so the final state of one window is the initial state of the next; the state
 * is reset at each epoch start. The trainer works on whole windows and never loops over time.
 *
 * <pre>{@code
 * TrainConfig cfg = TrainConfig.defaults().withLimits(new TrainConfig.Limits(1, 200));
 * Trainer.Data data = new Trainer.Data(vocab, corpus.train(), corpus.val(), corpus.summary());
 * try (Trainer t = new Trainer(cfg, data, Trainer.Options.defaults())) {
 *     Trainer.Result r = t.run();
 * }
 * }</pre>
 */
public final class Trainer implements AutoCloseable {

    /** Encoded training data. {@code val} may be empty (no validation). */
    public record Data(Vocabulary vocabulary, TokenSequence train, TokenSequence val, String description) {}

    /**
     * How the run is executed.
     *
     * @param backend     auto | reference | cuda | opencl
     * @param backendOptions precision, device, ...
     * @param resume      run directory to continue from its newest checkpoint (null = fresh start)
     * @param initFrom    checkpoint whose weights start a fresh run (null = random initialisation);
     *                    the model's shape and vocabulary must match it
     * @param quiet       plain log lines instead of a progress bar
     * @param log         where log lines go (stderr in the CLI)
     * @param samples     where checkpoint samples are printed (stdout in the CLI; null = not printed)
     * @param factory     creates the backend instead of {@link Backends#create} when not null (custom backends)
     * @param listener    follows iterations, validations and checkpoints ({@link TrainListener#NONE})
     */
    public record Options(
            String backend,
            BackendOptions backendOptions,
            Path resume,
            Path initFrom,
            boolean quiet,
            Consumer<String> log,
            Consumer<String> samples,
            BiFunction<ModelConfig, BackendOptions, Backend> factory,
            TrainListener listener) {
        public Options(
                String backend,
                BackendOptions backendOptions,
                Path resume,
                boolean quiet,
                Consumer<String> log,
                Consumer<String> samples) {
            this(backend, backendOptions, resume, null, quiet, log, samples, null, TrainListener.NONE);
        }

        public static Options defaults() {
            return new Options("auto", BackendOptions.defaults(), null, true, s -> {}, null);
        }

        public Options withBackend(String b, BackendOptions o) {
            return new Options(b, o, resume, initFrom, quiet, log, samples, factory, listener);
        }

        public Options withResume(Path r) {
            return new Options(backend, backendOptions, r, initFrom, quiet, log, samples, factory, listener);
        }

        public Options withInitFrom(Path checkpoint) {
            return new Options(backend, backendOptions, resume, checkpoint, quiet, log, samples, factory, listener);
        }

        public Options withOutput(boolean q, Consumer<String> l, Consumer<String> s) {
            return new Options(backend, backendOptions, resume, initFrom, q, l, s, factory, listener);
        }

        public Options withFactory(BiFunction<ModelConfig, BackendOptions, Backend> f) {
            return new Options(backend, backendOptions, resume, initFrom, quiet, log, samples, f, listener);
        }

        public Options withListener(TrainListener l) {
            return new Options(backend, backendOptions, resume, initFrom, quiet, log, samples, factory, l);
        }

        /** A listener that calls {@code c} with the model file after every checkpoint (e.g. to refresh a report). */
        public Options withOnCheckpoint(Consumer<Path> c) {
            return withListener(new TrainListener() {
                @Override
                public void onCheckpoint(long iteration, Path modelFile) {
                    c.accept(modelFile);
                }
            });
        }
    }

    /** Why {@link #run()} returned. */
    public enum Stop {
        /** all iterations of the limits were done */
        COMPLETED,
        /** {@link #requestStop()} or {@link #requestStopAt(long)} (Ctrl-C in the CLI) */
        INTERRUPTED,
        /** the time limit ({@link TrainConfig.Limits#maxTime()}) passed */
        TIME_LIMIT,
        /** {@link TrainConfig.Limits#earlyStop()} validations in a row brought no better val loss */
        EARLY_STOP
    }

    /** Outcome of {@link #run()}: every way of stopping leaves a checkpoint of the last iteration. */
    public record Result(long iterations, double lastLoss, double bestValLoss, Path lastCheckpoint, Stop stop) {
        /** Stopped on request before its limits. */
        public boolean interrupted() {
            return stop == Stop.INTERRUPTED;
        }
    }

    private final TrainConfig cfg;
    private final Data data;
    private final Options opts;
    private volatile boolean stopRequested;
    private volatile long stopAt = Long.MAX_VALUE;

    private RunLock lock; // the run directory's, from run() until close()
    private Backend backend;
    private ModelConfig model;

    public Trainer(TrainConfig cfg, Data data, Options opts) {
        this.cfg = cfg;
        this.data = data;
        this.opts = opts;
    }

    /** Asks the loop to finish the current step, write a checkpoint and return (Ctrl-C). */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * Stops cleanly, as {@link #requestStop()}, once {@code iteration} iterations are done (the
     * schedule still spans the whole run, so a later resume continues it exactly).
     */
    public void requestStopAt(long iteration) {
        stopAt = iteration;
    }

    /** The backend in use (after {@link #run()} started), for tests. */
    public Backend backend() {
        return backend;
    }

    /** Iterations per epoch for a training split of {@code n} symbols. */
    public static long iterationsPerEpoch(long n, int batch, int seqLen) {
        return ((n - 1) / batch) / seqLen;
    }

    /**
     * Trains from scratch, from the newest checkpoint of {@link Options#resume} or from the weights of
     * {@link Options#initFrom}, until the limits, a stop request, the time limit or early stopping
     * ({@link Result#stop}); the run's directory stays locked until {@link #close}.
     */
    public Result run() {
        int B = cfg.batching().batch(), T = cfg.batching().seqLen();
        checkSplits(B, T);
        if (opts.resume() != null && opts.initFrom() != null)
            throw new UserError("resume a run or start one from a checkpoint's weights, not both");
        long perEpoch = iterationsPerEpoch(data.train().length(), B, T);
        long total = cfg.limits().total(perEpoch);

        Path out = cfg.checkpointing().out();
        if (opts.resume() != null && !Files.isDirectory(opts.resume()))
            throw new UserError("resume expects a run directory, " + opts.resume() + " is not one");
        // held until close(); taken before the run's checkpoints are read, so no other run writes them meanwhile
        lock = RunDirectory.prepare(out, opts.resume() == null);

        Checkpoint.TrainingState resumeState = opts.resume() != null ? resumed(B, perEpoch, total) : null;
        double[] initial = opts.initFrom() != null ? initialWeights() : null;
        model = cfg.model().withVocabulary(data.vocabulary().size());

        int partial = Checkpoint.removePartialWrites(out);
        if (partial > 0)
            opts.log()
                    .accept("removed " + partial + " unfinished checkpoint file" + (partial == 1 ? "" : "s")
                            + " (a crash cut their writing short) from " + out);
        BackendOptions bo = opts.backendOptions().withDropoutSeed(cfg.seed());
        backend = opts.factory() != null
                ? opts.factory().apply(model, bo)
                : Backends.create(opts.backend(), model, bo, new Backends.Workload(B, T), opts.log());
        opts.log()
                .accept(String.format(
                        Locale.ROOT,
                        "model: %s, %,d parameters",
                        model.describe(),
                        backend.layout().size()));
        opts.log().accept("data: " + data.description());
        opts.log()
                .accept(String.format(
                        Locale.ROOT,
                        "training: B=%d T=%d, %d iterations per epoch, %d iterations in all, optimizer %s lr %.3g",
                        B,
                        T,
                        perEpoch,
                        total,
                        cfg.optimizer().kind().id(),
                        cfg.schedule().lr()));

        backend.setOptimizer(cfg.optimizer());
        if (resumeState != null) {
            backend.setParameters(resumeState.params());
            backend.setOptimizerState(resumeState.optimizerSlots());
        } else {
            backend.setParameters(initial != null ? initial : Init.initialize(backend.layout(), cfg.seed()));
        }
        writeConfig(out);
        if (resumeState != null) RunDirectory.truncateMetrics(out.resolve(MetricsLog.FILE), resumeState.iteration());

        Listeners listeners = new Listeners(opts.listener(), opts.log());
        Checkpointer ckpt = new Checkpointer(
                cfg, model, data.vocabulary(), backend, opts.log(), opts.samples(), listeners, () -> stopRequested);
        if (resumeState != null) ckpt.resumedFrom(resumeState.iteration());
        TrainLoop.StopSignals signals = new TrainLoop.StopSignals(() -> stopRequested, () -> stopAt);
        return new TrainLoop(cfg, data, backend, ckpt, listeners, opts, signals, TrainLoop.Counters.of(resumeState))
                .run(resumeState);
    }

    /** Both splits hold at least one window of every stream (B x T + 1 characters), or val none. */
    private void checkSplits(int B, int T) {
        long nTrain = data.train().length();
        long minChars = (long) B * T + 1;
        if (nTrain < minChars)
            throw ConfigError.of("training split has " + nTrain + " characters, fewer than {Batching.batch} x "
                    + "{Batching.seqLen} + 1 = " + minChars + "; use a longer corpus or lower {Batching.batch} or "
                    + "{Batching.seqLen}");
        long nVal = data.val() == null ? 0 : data.val().length();
        if (nVal > 0 && nVal < minChars)
            throw ConfigError.of("validation split has " + nVal + " characters, fewer than one window ({Batching.batch}"
                    + " x {Batching.seqLen} + 1 = " + minChars + "); raise {Data.valFrac} or lower {Batching.batch} or "
                    + "{Batching.seqLen}");
    }

    /**
     * The training state of the newest checkpoint of the run to resume (under its lock), checked
     * against this run: the model and vocabulary, the batch size (one carried row a stream), the
     * optimizer (its slots) and that iterations are left before the limits.
     */
    private Checkpoint.TrainingState resumed(int B, long perEpoch, long total) {
        Path file = Resume.resolve(opts.resume());
        Checkpointer.requireMatching(
                Resume.load(opts.resume(), file, Checkpoint::loadModel), data.vocabulary(), cfg.model());
        Checkpoint.TrainingState s = Resume.load(opts.resume(), file, Checkpoint::loadState);
        if (s.batch() != B)
            throw new UserError("batch size " + B + " differs from the checkpoint's " + s.batch()
                    + " (its carried state has one row per stream); resume with batch size " + s.batch());
        if (!s.optimizer().equals(cfg.optimizer().kind().id()))
            throw new UserError("optimizer " + cfg.optimizer().kind().id() + " differs from the checkpoint's "
                    + s.optimizer() + " (its state would not fit); resume with " + s.optimizer());
        if (s.iteration() >= total) throw cfg.limits().reachedAt(s.iteration(), perEpoch);
        opts.log()
                .accept("resuming from " + file + " at iteration " + s.iteration()
                        + Resume.cutShortNote(opts.resume(), file));
        return s;
    }

    /** The weights of the checkpoint a fresh run starts from ({@link Options#initFrom}), of a matching model. */
    private double[] initialWeights() {
        Path file = Checkpoint.resolveModel(opts.initFrom());
        Checkpoint.Model m = Checkpointer.loadMatching(file, data.vocabulary(), cfg.model());
        opts.log()
                .accept("starting from the weights of " + file + " (iteration "
                        + m.info().iteration() + "), with a fresh optimizer and counters");
        return m.params();
    }

    /** config.json: the run's configuration records, the vocabulary size and where it runs. */
    private void writeConfig(Path out) {
        RunConfig run = new RunConfig(cfg, model.vocabSize(), data.description(), backend.name(), backend.deviceName());
        try {
            org.charrnn.util.AtomicFile.writeString(out.resolve(RunConfig.FILE), run.toJson() + "\n");
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + IoErrors.reason(e), e);
        }
    }

    @Override
    public void close() {
        try {
            if (backend != null) backend.close();
        } finally {
            if (lock != null) lock.close();
            lock = null;
        }
    }
}
