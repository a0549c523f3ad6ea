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
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.ConfigError;
import org.charrnn.util.Durations;
import org.charrnn.util.IoErrors;
import org.charrnn.util.ProgressBar;
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

    /** The loop's counters, saved in every checkpoint. */
    private static final class Counters {
        long it, updates;
        double lrScale = 1.0, bestVal = Double.NaN;
        boolean lastFailed;
        int sinceBest; // validations in a row without a new best (this process)
    }

    public Result run() {
        int B = cfg.batching().batch(), T = cfg.batching().seqLen();
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
        if (opts.resume() != null && opts.initFrom() != null)
            throw new UserError("resume a run or start one from a checkpoint's weights, not both");
        long S = (nTrain - 1) / B;
        long perEpoch = S / T;
        long total = cfg.limits().total(perEpoch);

        Path out = cfg.checkpointing().out();
        if (opts.resume() != null && !Files.isDirectory(opts.resume()))
            throw new UserError("resume expects a run directory, " + opts.resume() + " is not one");
        // held until close(); taken before the run's checkpoints are read, so no other run writes them meanwhile
        lock = RunDirectory.prepare(out, opts.resume() == null);

        Checkpoint.TrainingState resumeState = null;
        double[] initial = null;
        if (opts.resume() != null) {
            Path file = Resume.resolve(opts.resume());
            Checkpointer.requireMatching(
                    Resume.load(opts.resume(), file, Checkpoint::loadModel), data.vocabulary(), cfg.model());
            resumeState = Resume.load(opts.resume(), file, Checkpoint::loadState);
            if (resumeState.batch() != B)
                throw new UserError("batch size " + B + " differs from the checkpoint's " + resumeState.batch()
                        + " (its carried state has one row per stream); resume with batch size " + resumeState.batch());
            if (!resumeState.optimizer().equals(cfg.optimizer().kind().id()))
                throw new UserError("optimizer " + cfg.optimizer().kind().id() + " differs from the checkpoint's "
                        + resumeState.optimizer() + " (its state would not fit); resume with "
                        + resumeState.optimizer());
            if (resumeState.iteration() >= total) throw cfg.limits().reachedAt(resumeState.iteration(), perEpoch);
            opts.log()
                    .accept("resuming from " + file + " at iteration " + resumeState.iteration()
                            + Resume.cutShortNote(opts.resume(), file));
        } else if (opts.initFrom() != null) {
            Path file = Checkpoint.resolveModel(opts.initFrom());
            Checkpoint.Model m = Checkpointer.loadMatching(file, data.vocabulary(), cfg.model());
            initial = m.params();
            opts.log()
                    .accept("starting from the weights of " + file + " (iteration "
                            + m.info().iteration() + "), with a fresh optimizer and counters");
        }
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
        Counters c = new Counters();
        if (resumeState != null) {
            backend.setParameters(resumeState.params());
            backend.setOptimizerState(resumeState.optimizerSlots());
            c.it = resumeState.iteration();
            c.updates = resumeState.updates();
            c.lrScale = resumeState.lrScale();
            c.lastFailed = resumeState.lastStepFailed();
            c.bestVal = resumeState.bestValLoss();
        } else {
            backend.setParameters(initial != null ? initial : Init.initialize(backend.layout(), cfg.seed()));
        }
        writeConfig(out);
        if (resumeState != null) RunDirectory.truncateMetrics(out.resolve(MetricsLog.FILE), resumeState.iteration());

        Listeners listeners = new Listeners(opts.listener(), opts.log());
        Checkpointer ckpt =
                new Checkpointer(cfg, model, data.vocabulary(), backend, opts.log(), opts.samples(), listeners);
        ProgressBar bar = new ProgressBar(System.err, "train", !opts.quiet() && ProgressBar.interactive());
        boolean plainLog = opts.quiet() || !ProgressBar.interactive();
        double loss = Double.NaN, valLoss = Double.NaN;
        long validatedAt = -1;
        Stop stop = null;
        try (TokenBuffer trainBuf = backend.upload(data.train());
                TokenBuffer valBuf = nVal > 0 ? backend.upload(data.val()) : null;
                RnnState state = backend.newState(B);
                RnnState prevState = backend.newState(B);
                MetricsLog metrics = new MetricsLog(out, resumeState != null)) {
            if (resumeState != null) state.write(resumeState.carriedState());
            long[] starts = new long[B];
            long t0 = System.nanoTime(), lastCkptAt = t0;
            long maxNanos = cfg.limits().maxTime().toNanos();
            long ckptNanos = (long) (cfg.checkpointing().minutes() * 60e9);
            // throughput: the characters and the time of the iterations since the last log line, from
            // the start of each iteration to its loss; not the validations, checkpoints and samples
            // between them
            long charsSinceLog = 0, nanosSinceLog = 0;
            // The stop flag is read once per iteration (below), so a Ctrl-C landing anywhere in the
            // iteration still gets that iteration's checkpoint before the loop ends.
            if (stopRequested) stop = Stop.INTERRUPTED;
            while (c.it < total && stop == null) {
                long iterStart = System.nanoTime();
                long k = c.it % perEpoch;
                if (k == 0) state.reset();
                for (int b = 0; b < B; b++) starts[b] = b * S + k * T;
                prevState.copyFrom(state);
                Window w = new Window(trainBuf, starts, T, c.it);
                try {
                    backend.forward(state, w, true);
                } catch (org.charrnn.data.CorpusReadError e) {
                    // the window's tokens were not read: parameters, optimizer and state are those of
                    // iteration it, so they can still be saved before stopping
                    bar.finish();
                    metrics.flush();
                    if (c.it > 0 && !ckpt.has(c.it)) ckpt.write(position(c, perEpoch, Double.NaN), state);
                    throw new UserError(e.getMessage() + "; last checkpoint: " + ckpt.lastForMessage(), e);
                }
                backend.backward();
                backend.clip(cfg.clip().mode(), cfg.clip().max());
                double lr = cfg.schedule().lr(c.it, perEpoch, total) * c.lrScale;
                backend.step(lr, c.updates + 1);
                loss = backend.loss();
                double norm = backend.gradNorm();
                c.it++;
                long now = System.nanoTime();
                if (stopRequested || c.it >= stopAt) stop = Stop.INTERRUPTED;
                else if (maxNanos > 0 && now - t0 >= maxNanos) {
                    stop = Stop.TIME_LIMIT;
                    bar.finish();
                    opts.log()
                            .accept("time limit "
                                    + Durations.format(cfg.limits().maxTime()) + " reached at iteration " + c.it
                                    + ": stopping with a checkpoint");
                }
                if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                    state.copyFrom(prevState);
                    if (c.lastFailed)
                        throw new UserError(
                                String.format(
                                        Locale.ROOT,
                                        "training diverged: loss or gradient not finite twice in a row (iteration %d, loss %s, grad norm %s); "
                                                + "last checkpoint: %s; try a lower learning rate or clip threshold",
                                        c.it,
                                        loss,
                                        norm,
                                        ckpt.lastForMessage()),
                                1,
                                null);
                    c.lastFailed = true;
                    c.lrScale *= 0.5;
                    bar.finish();
                    opts.log()
                            .accept(String.format(
                                    Locale.ROOT,
                                    "iteration %d: loss %s, grad norm %s: update skipped, state restored, learning rate halved to %.3g",
                                    c.it,
                                    loss,
                                    norm,
                                    lr * 0.5));
                } else {
                    c.lastFailed = false;
                    c.updates++;
                }
                charsSinceLog += (long) B * T;
                nanosSinceLog += now - iterStart;
                double cps = charsSinceLog / Math.max(1e-9, nanosSinceLog / 1e9);
                double epoch = c.it / (double) perEpoch;
                TrainListener.Step step = new TrainListener.Step(c.it, total, epoch, loss, norm, lr, cps);
                metrics.iteration(step, (now - t0) / 1e9);
                listeners.iteration(step);
                boolean logLine = c.it % cfg.reporting().printEvery() == 0 || c.it == 1;
                boolean ckptDue = c.it % cfg.checkpointing().every() == 0
                        || c.it % perEpoch == 0 // each epoch end
                        || (ckptNanos > 0 && now - lastCkptAt >= ckptNanos)
                        || c.it == total
                        || stop != null;
                if (valBuf != null && (c.it % cfg.validation().every() == 0 || ckptDue)) {
                    valLoss = validate(valBuf, nVal);
                    validatedAt = c.it;
                    if (!(valLoss >= c.bestVal)) { // NaN-safe: first value or a better one
                        c.bestVal = valLoss;
                        c.sinceBest = 0;
                    } else c.sinceBest++;
                    metrics.validation(c.it, epoch, valLoss);
                    listeners.validated(c.it, valLoss, c.bestVal);
                    int patience = cfg.limits().earlyStop();
                    if (patience > 0 && c.sinceBest >= patience && stop == null) {
                        stop = Stop.EARLY_STOP;
                        ckptDue = true;
                        bar.finish();
                        opts.log()
                                .accept(String.format(
                                        Locale.ROOT,
                                        "early stop at iteration %d: %d validations without a val loss below %.4f",
                                        c.it,
                                        c.sinceBest,
                                        c.bestVal));
                    }
                }
                String val = validatedAt == c.it
                        ? String.format(Locale.ROOT, "  val %.4f (%.3f bpc)", valLoss, valLoss / Math.log(2))
                        : "";
                if (plainLog) {
                    if (logLine || stop != null || c.it == total)
                        opts.log()
                                .accept(String.format(
                                        Locale.ROOT,
                                        "iter %d/%d  epoch %.2f  loss %.4f  grad_norm %.3f  lr %.3g  %,.0f chars/s%s",
                                        c.it,
                                        total,
                                        epoch,
                                        loss,
                                        norm,
                                        lr,
                                        cps,
                                        val));
                } else {
                    bar.update(
                            c.it,
                            total,
                            String.format(
                                    Locale.ROOT,
                                    "iter %d  epoch %.2f  loss %.4f%s  %,.0f chars/s",
                                    c.it,
                                    epoch,
                                    loss,
                                    Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, "  val %.4f", valLoss),
                                    cps));
                }
                if (logLine) {
                    metrics.flush();
                    charsSinceLog = nanosSinceLog = 0;
                }
                if (ckptDue) {
                    bar.finish();
                    metrics.flush();
                    ckpt.write(position(c, perEpoch, validatedAt == c.it ? valLoss : Double.NaN), state);
                    lastCkptAt = System.nanoTime();
                }
            }
            bar.finish();
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + IoErrors.reason(e), e);
        }
        return new Result(c.it, loss, c.bestVal, ckpt.last(), stop == null ? Stop.COMPLETED : stop);
    }

    private static Checkpointer.Position position(Counters c, long perEpoch, double valLoss) {
        return new Checkpointer.Position(
                c.it, c.it / (double) perEpoch, valLoss, c.updates, c.lrScale, c.lastFailed, c.bestVal);
    }

    /** Mean loss (nats/char) over the val split (or its first --val-max-windows windows) from a zero state, B streams, windows of T. */
    private double validate(TokenBuffer valBuf, long nVal) {
        int B = cfg.batching().batch(), T = cfg.batching().seqLen();
        long S = (nVal - 1) / B, windows = S / T;
        if (cfg.validation().maxWindows() > 0)
            windows = Math.min(windows, cfg.validation().maxWindows());
        double sum = 0;
        long[] starts = new long[B];
        try (RnnState st = backend.newState(B)) {
            for (long k = 0; k < windows; k++) {
                for (int b = 0; b < B; b++) starts[b] = b * S + k * T;
                backend.forward(st, new Window(valBuf, starts, T, 0), false);
                sum += backend.loss();
            }
        }
        return sum / windows;
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
