package org.charrnn.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
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
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.sample.SampleOptions;
import org.charrnn.sample.Sampler;
import org.charrnn.util.ProgressBar;
import org.charrnn.util.UserError;

/**
 * Truncated-BPTT training as in char-rnn / torch-rnn. The training split is cut into B contiguous
 * streams of S = (N-1)/B symbols; iteration k of an epoch takes symbols [b*S + k*T, b*S + k*T + T]
 * of every stream b, so the final state of one window is the initial state of the next; the state
 * is reset at each epoch start. The trainer works on whole windows and never loops over time.
 *
 * <pre>{@code
 * TrainConfig cfg = TrainConfig.defaults().withLimits(1, 200);
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
     * @param resume      run directory to resume from (null = fresh start)
     * @param quiet       plain log lines instead of a progress bar
     * @param log         where log lines go (stderr in the CLI)
     * @param samples     where checkpoint samples are printed (stdout in the CLI; null = not printed)
     * @param factory     creates the backend instead of {@link Backends#create} when not null (custom backends)
     * @param onCheckpoint called with the model file after every checkpoint (null = nothing), e.g. to refresh a report
     */
    public record Options(
            String backend,
            BackendOptions backendOptions,
            Path resume,
            boolean quiet,
            Consumer<String> log,
            Consumer<String> samples,
            BiFunction<ModelConfig, BackendOptions, Backend> factory,
            Consumer<Path> onCheckpoint) {
        public Options(
                String backend,
                BackendOptions backendOptions,
                Path resume,
                boolean quiet,
                Consumer<String> log,
                Consumer<String> samples) {
            this(backend, backendOptions, resume, quiet, log, samples, null, null);
        }

        public static Options defaults() {
            return new Options("auto", BackendOptions.defaults(), null, true, s -> {}, null);
        }

        public Options withBackend(String b, BackendOptions o) {
            return new Options(b, o, resume, quiet, log, samples, factory, onCheckpoint);
        }

        public Options withResume(Path r) {
            return new Options(backend, backendOptions, r, quiet, log, samples, factory, onCheckpoint);
        }

        public Options withOutput(boolean q, Consumer<String> l, Consumer<String> s) {
            return new Options(backend, backendOptions, resume, q, l, s, factory, onCheckpoint);
        }

        public Options withFactory(BiFunction<ModelConfig, BackendOptions, Backend> f) {
            return new Options(backend, backendOptions, resume, quiet, log, samples, f, onCheckpoint);
        }

        public Options withOnCheckpoint(Consumer<Path> c) {
            return new Options(backend, backendOptions, resume, quiet, log, samples, factory, c);
        }
    }

    /** Outcome of {@link #run()}. */
    public record Result(
            long iterations, double lastLoss, double bestValLoss, Path lastCheckpoint, boolean interrupted) {}

    private static final Gson GSON =
            new GsonBuilder().serializeSpecialFloatingPointValues().create();

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
     * schedule still spans the whole run, so a later --resume continues it exactly).
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

    public Result run() {
        int B = cfg.batching().batch(), T = cfg.batching().seqLen();
        long nTrain = data.train().length();
        long minChars = (long) B * T + 1;
        if (nTrain < minChars)
            throw new UserError("training split has " + nTrain + " characters, fewer than --batch * --seq + 1 = "
                    + minChars + "; use a longer corpus or lower --batch/--seq");
        long nVal = data.val() == null ? 0 : data.val().length();
        if (nVal > 0 && nVal < minChars)
            throw new UserError(
                    "validation split has " + nVal + " characters, fewer than one window (--batch * --seq + 1 = "
                            + minChars + "); raise --val-frac or lower --batch/--seq");

        Path out = cfg.checkpointing().out();
        if (opts.resume() != null && !Files.isDirectory(opts.resume()))
            throw new UserError("--resume expects a run directory, " + opts.resume() + " is not one");
        // held until close(); taken before the run's checkpoints are read, so no other run writes them meanwhile
        lock = RunDirectory.prepare(out, opts.resume() == null);

        Checkpoint.Model resumeModel = null;
        Checkpoint.TrainingState resumeState = null;
        if (opts.resume() != null) {
            Path file = Checkpoint.resolveResume(opts.resume());
            resumeModel = Checkpoint.loadModel(file);
            resumeState = Checkpoint.loadState(file);
            if (!resumeModel.vocabulary().equals(data.vocabulary()))
                throw new UserError("vocabulary mismatch: " + file + " was trained on "
                        + resumeModel.vocabulary().size()
                        + " symbols, the data given has a different vocabulary of "
                        + data.vocabulary().size()
                        + "; resume with the same --data (and --encoding/--max-vocab)");
            if (resumeState.batch() != B)
                throw new UserError("--batch " + B + " differs from the checkpoint's " + resumeState.batch()
                        + "; resume with --batch " + resumeState.batch());
            if (!resumeState.optimizer().equals(cfg.optimizer().kind().id()))
                throw new UserError("--optimizer " + cfg.optimizer().kind().id() + " differs from the checkpoint's "
                        + resumeState.optimizer() + "; resume with --optimizer " + resumeState.optimizer());
            model = resumeModel.config();
            opts.log().accept("resuming from " + file + " at iteration " + resumeState.iteration());
        } else {
            model = cfg.model().withVocabulary(data.vocabulary().size());
        }

        long S = (nTrain - 1) / B;
        long perEpoch = S / T;
        long total = (long) cfg.limits().maxEpochs() * perEpoch;
        if (cfg.limits().maxIters() > 0) total = Math.min(total, cfg.limits().maxIters());

        int partial = Checkpoint.removePartialWrites(out);
        if (partial > 0)
            opts.log()
                    .accept("removed " + partial + " unfinished checkpoint file" + (partial == 1 ? "" : "s")
                            + " (a crash cut their writing short) from " + out);
        BackendOptions bo = opts.backendOptions().withDropoutSeed(cfg.seed());
        backend = opts.factory() != null
                ? opts.factory().apply(model, bo)
                : Backends.create(
                        opts.backend(),
                        model,
                        bo,
                        new Backends.Workload(
                                cfg.batching().batch(), cfg.batching().seqLen()),
                        opts.log());
        opts.log()
                .accept("model: " + model.describe() + ", " + backend.layout().size() + " parameters; data: "
                        + data.description());
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
        long it = 0, updates = 0;
        double lrScale = 1.0, bestVal = Double.NaN;
        boolean lastFailed = false;
        if (resumeState != null) {
            backend.setParameters(resumeState.params());
            backend.setOptimizerState(resumeState.optimizerSlots());
            it = resumeState.iteration();
            updates = resumeState.updates();
            lrScale = resumeState.lrScale();
            lastFailed = resumeState.lastStepFailed();
            bestVal = resumeState.bestValLoss();
        } else {
            backend.setParameters(Init.initialize(backend.layout(), cfg.seed()));
        }
        writeConfig(out);
        if (resumeState != null) RunDirectory.truncateMetrics(out.resolve("metrics.jsonl"), resumeState.iteration());

        ProgressBar bar = new ProgressBar(System.err, "train", !opts.quiet() && ProgressBar.interactive());
        Path lastCkpt = null;
        double loss = Double.NaN, valLoss = Double.NaN;
        long validatedAt = -1;
        try (TokenBuffer trainBuf = backend.upload(data.train());
                TokenBuffer valBuf = nVal > 0 ? backend.upload(data.val()) : null;
                RnnState state = backend.newState(B);
                RnnState prevState = backend.newState(B);
                BufferedWriter metrics = Files.newBufferedWriter(
                        out.resolve("metrics.jsonl"),
                        StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        // a fresh run starts the file afresh (leftovers of a run that never checkpointed)
                        resumeState != null ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            if (resumeState != null) state.write(resumeState.carriedState());
            long[] starts = new long[B];
            long t0 = System.nanoTime(), windowStart = t0;
            long charsSinceLog = 0;
            // The stop flag is read once per iteration (below), so a Ctrl-C landing anywhere in the
            // iteration still gets that iteration's checkpoint before the loop ends.
            boolean stopping = stopRequested;
            while (it < total && !stopping) {
                long k = it % perEpoch;
                if (k == 0) state.reset();
                for (int b = 0; b < B; b++) starts[b] = b * S + k * T;
                prevState.copyFrom(state);
                Window w = new Window(trainBuf, starts, T, it);
                try {
                    backend.forward(state, w, true);
                } catch (org.charrnn.data.CorpusReadError e) {
                    // the window's tokens were not read: parameters, optimizer and state are those of
                    // iteration it, so they can still be saved before stopping
                    bar.finish();
                    metrics.flush();
                    if (it > 0 && (lastCkpt == null || !lastCkpt.equals(Checkpoint.modelPath(out, it))))
                        lastCkpt = checkpoint(
                                out,
                                it,
                                it / (double) perEpoch,
                                Double.NaN,
                                updates,
                                lrScale,
                                lastFailed,
                                state,
                                bestVal,
                                lastCkpt);
                    throw new UserError(
                            e.getMessage() + "; last checkpoint: " + (lastCkpt == null ? "none" : lastCkpt), e);
                }
                backend.backward();
                backend.clip(cfg.clip().mode(), cfg.clip().max());
                double lr = cfg.schedule().lr(it, perEpoch, total) * lrScale;
                backend.step(lr, updates + 1);
                loss = backend.loss();
                double norm = backend.gradNorm();
                it++;
                stopping = stopRequested || it >= stopAt;
                if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                    state.copyFrom(prevState);
                    if (lastFailed)
                        throw new UserError(
                                String.format(
                                        Locale.ROOT,
                                        "training diverged: loss or gradient not finite twice in a row (iteration %d, loss %s, grad norm %s); "
                                                + "last checkpoint: %s; try a lower --lr or --clip",
                                        it,
                                        loss,
                                        norm,
                                        lastCkpt == null ? "none" : lastCkpt),
                                1,
                                null);
                    lastFailed = true;
                    lrScale *= 0.5;
                    bar.finish();
                    opts.log()
                            .accept(String.format(
                                    Locale.ROOT,
                                    "iteration %d: loss %s, grad norm %s: update skipped, state restored, learning rate halved to %.3g",
                                    it,
                                    loss,
                                    norm,
                                    lr * 0.5));
                } else {
                    lastFailed = false;
                    updates++;
                }
                charsSinceLog += (long) B * T;
                long now = System.nanoTime();
                double cps = charsSinceLog / Math.max(1e-9, (now - windowStart) / 1e9);
                double epoch = it / (double) perEpoch;
                writeJson(
                        metrics,
                        row(
                                "iter",
                                it,
                                epoch,
                                Map.of(
                                        "loss",
                                        loss,
                                        "grad_norm",
                                        norm,
                                        "lr",
                                        lr,
                                        "chars_per_s",
                                        cps,
                                        "time_s",
                                        (now - t0) / 1e9)));
                boolean epochEnd = it % perEpoch == 0;
                boolean last = it == total || stopping;
                if (valBuf != null
                        && (it % cfg.validation().every() == 0
                                || epochEnd
                                || (last || it % cfg.checkpointing().every() == 0))) {
                    valLoss = validate(valBuf, nVal);
                    validatedAt = it;
                    if (!(valLoss >= bestVal)) bestVal = valLoss; // NaN-safe: first value or a better one
                    writeJson(
                            metrics,
                            row("val", it, epoch, Map.of("val_loss", valLoss, "val_bpc", valLoss / Math.log(2))));
                }
                if (opts.quiet() || !ProgressBar.interactive()) {
                    if (it % cfg.reporting().printEvery() == 0 || it == 1 || last)
                        opts.log()
                                .accept(String.format(
                                        Locale.ROOT,
                                        "iter %d/%d  epoch %.2f  loss %.4f  grad_norm %.3f  lr %.3g  %,.0f chars/s%s",
                                        it,
                                        total,
                                        epoch,
                                        loss,
                                        norm,
                                        lr,
                                        cps,
                                        validatedAt == it
                                                ? String.format(
                                                        Locale.ROOT,
                                                        "  val %.4f (%.3f bpc)",
                                                        valLoss,
                                                        valLoss / Math.log(2))
                                                : ""));
                } else {
                    bar.update(
                            it,
                            total,
                            String.format(
                                    Locale.ROOT,
                                    "iter %d  epoch %.2f  loss %.4f%s  %,.0f chars/s",
                                    it,
                                    epoch,
                                    loss,
                                    Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, "  val %.4f", valLoss),
                                    cps));
                }
                if (it % cfg.reporting().printEvery() == 0) {
                    windowStart = System.nanoTime();
                    charsSinceLog = 0;
                }
                if (it % cfg.checkpointing().every() == 0 || last) {
                    bar.finish();
                    metrics.flush();
                    lastCkpt = checkpoint(
                            out,
                            it,
                            epoch,
                            validatedAt == it ? valLoss : Double.NaN,
                            updates,
                            lrScale,
                            lastFailed,
                            state,
                            bestVal,
                            lastCkpt);
                }
            }
            bar.finish();
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + e.getMessage(), e);
        }
        return new Result(it, loss, bestVal, lastCkpt, it < total);
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

    private Path checkpoint(
            Path out,
            long it,
            double epoch,
            double valLoss,
            long updates,
            double lrScale,
            boolean lastFailed,
            RnnState state,
            double bestVal,
            Path lastCkpt)
            throws IOException {
        Path file = Checkpoint.modelPath(out, it);
        double[] params = backend.getParameters();
        if (!Checkpoint.fitsFloat32(params))
            throw new UserError(
                    String.format(
                            Locale.ROOT,
                            "training diverged: the parameters at iteration %d exceed the float32 range of a checkpoint"
                                    + "; last checkpoint: %s; try a lower --lr or --clip",
                            it,
                            lastCkpt == null ? "none" : lastCkpt),
                    1,
                    null);
        Checkpoint.saveModel(
                file,
                model,
                data.vocabulary(),
                params,
                new Checkpoint.Info(it, epoch, valLoss),
                RunConfig.trainingJson(cfg));
        Checkpoint.saveState(
                file,
                new Checkpoint.TrainingState(
                        it,
                        updates,
                        lrScale,
                        lastFailed,
                        params,
                        cfg.optimizer().kind().id(),
                        backend.getOptimizerState(),
                        cfg.batching().batch(),
                        state.read(),
                        bestVal));
        String sample = "";
        if (cfg.reporting().sampleLength() > 0) {
            sample = new Sampler(backend, data.vocabulary())
                    .sampleText(
                            "",
                            new SampleOptions(
                                    cfg.reporting().sampleLength(),
                                    cfg.reporting().sampleTemperature(),
                                    0,
                                    1.0,
                                    false,
                                    cfg.seed() + it));
            org.charrnn.util.AtomicFile.writeString(Checkpoint.samplePath(file), sample);
        }
        opts.log()
                .accept(String.format(
                        Locale.ROOT,
                        "checkpoint %s (iteration %d%s)",
                        file,
                        it,
                        Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, ", val loss %.4f", valLoss)));
        if (opts.samples() != null && !sample.isEmpty())
            opts.samples().accept("--- sample at iteration " + it + " ---\n" + sample + "\n---");
        RunDirectory.prune(out, cfg.checkpointing().keep());
        if (opts.onCheckpoint() != null) {
            try {
                opts.onCheckpoint().accept(file);
            } catch (RuntimeException e) {
                // a failing observer (e.g. the HTML report) must not stop training: say so and go on
                opts.log().accept("warning: after checkpoint " + file.getFileName() + ": " + e.getMessage());
            }
        }
        return file;
    }

    /** config.json: the run's configuration records, the vocabulary size and where it runs. */
    private void writeConfig(Path out) {
        RunConfig run = new RunConfig(cfg, model.vocabSize(), data.description(), backend.name(), backend.deviceName());
        try {
            org.charrnn.util.AtomicFile.writeString(out.resolve(RunConfig.FILE), run.toJson() + "\n");
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> row(String type, long it, double epoch, Map<String, Double> values) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("iter", it);
        m.put("epoch", epoch);
        values.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    private static void writeJson(BufferedWriter w, Map<String, Object> row) throws IOException {
        w.write(GSON.toJson(row));
        w.newLine();
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
