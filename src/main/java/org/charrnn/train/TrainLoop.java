package org.charrnn.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.CorpusReadError;
import org.charrnn.io.Checkpoint;
import org.charrnn.util.Durations;
import org.charrnn.util.IoErrors;
import org.charrnn.util.ProgressBar;
import org.charrnn.util.UserError;

/**
 * The iterations of a run that {@link Trainer} set up: each takes the next window of every stream
 * (iteration k of an epoch: symbols [b*S + k*T, b*S + k*T + T] of stream b, the state carried from
 * the window before and reset at each epoch start), steps the optimizer, guards against divergence,
 * validates, logs and writes the checkpoints that are due. Every way of stopping (the limits, a
 * stop request, the time limit, early stopping) leaves a checkpoint of the last iteration.
 */
final class TrainLoop {
    /** The loop's counters, saved in every checkpoint. */
    static final class Counters {
        long it, updates;
        double lrScale = 1.0, bestVal = Double.NaN;
        boolean lastFailed;
        int sinceBest; // validations in a row without a new best (this process)

        /** Fresh counters (null), or those the checkpoint a run resumes saved. */
        static Counters of(Checkpoint.TrainingState s) {
            Counters c = new Counters();
            if (s != null) {
                c.it = s.iteration();
                c.updates = s.updates();
                c.lrScale = s.lrScale();
                c.lastFailed = s.lastStepFailed();
                c.bestVal = s.bestValLoss();
            }
            return c;
        }
    }

    /** What the loop stops on besides its limits: a stop request, and the iteration to stop after. */
    record StopSignals(BooleanSupplier requested, LongSupplier at) {}

    private final TrainConfig cfg;
    private final Trainer.Data data;
    private final Backend backend;
    private final Checkpointer ckpt;
    private final Listeners listeners;
    private final Consumer<String> log;
    private final StopSignals signals;
    private final Path out;
    private final ProgressBar bar;
    private final boolean plainLog; // log lines instead of the progress bar
    private final int B, T;
    private final long S, perEpoch, total, nVal; // symbols a stream, iterations an epoch and in all, val symbols
    private final long maxNanos, ckptNanos; // --max-time, --checkpoint-minutes (0: none)

    private final Counters c;
    private double loss = Double.NaN, valLoss = Double.NaN;
    private long validatedAt = -1;
    private Trainer.Stop stop;
    private long t0, lastCkptAt;
    // throughput: the characters and the time of the iterations since the last log line, from the
    // start of each iteration to its loss; not the validations, checkpoints and samples between them
    private long charsSinceLog, nanosSinceLog;

    TrainLoop(
            TrainConfig cfg,
            Trainer.Data data,
            Backend backend,
            Checkpointer ckpt,
            Listeners listeners,
            Trainer.Options opts,
            StopSignals signals,
            Counters c) {
        this.cfg = cfg;
        this.data = data;
        this.backend = backend;
        this.ckpt = ckpt;
        this.listeners = listeners;
        this.log = opts.log();
        this.signals = signals;
        this.out = cfg.checkpointing().out();
        this.bar = new ProgressBar(System.err, "train", !opts.quiet() && ProgressBar.interactive());
        this.plainLog = opts.quiet() || !ProgressBar.interactive();
        this.B = cfg.batching().batch();
        this.T = cfg.batching().seqLen();
        this.S = (data.train().length() - 1) / B;
        this.perEpoch = S / T;
        this.total = cfg.limits().total(perEpoch);
        this.nVal = data.val() == null ? 0 : data.val().length();
        this.maxNanos = cfg.limits().maxTime().toNanos();
        this.ckptNanos = (long) (cfg.checkpointing().minutes() * 60e9);
        this.c = c;
    }

    /**
     * Runs iterations c.it + 1 .. total, or until a stop; {@code resumed}: the checkpoint a resumed run
     * continues (its carried state and metrics), null for a fresh run.
     */
    Trainer.Result run(Checkpoint.TrainingState resumed) {
        try (TokenBuffer trainBuf = backend.upload(data.train());
                TokenBuffer valBuf = nVal > 0 ? backend.upload(data.val()) : null;
                RnnState state = backend.newState(B);
                RnnState prevState = backend.newState(B);
                MetricsLog metrics = new MetricsLog(out, resumed != null)) {
            if (resumed != null) state.write(resumed.carriedState());
            long[] starts = new long[B];
            t0 = System.nanoTime();
            lastCkptAt = t0;
            // The stop flag is read once per iteration (in stopIfDue), so a Ctrl-C landing anywhere in
            // the iteration still gets that iteration's checkpoint before the loop ends.
            if (signals.requested().getAsBoolean()) stop = Trainer.Stop.INTERRUPTED;
            while (c.it < total && stop == null) {
                long iterStart = System.nanoTime();
                long k = c.it % perEpoch;
                if (k == 0) state.reset();
                for (int b = 0; b < B; b++) starts[b] = b * S + k * T;
                prevState.copyFrom(state);
                forward(new Window(trainBuf, starts, T, c.it), state, metrics);
                backend.backward();
                backend.clip(cfg.clip().mode(), cfg.clip().max());
                double lr = cfg.schedule().lr(c.it, perEpoch, total) * c.lrScale;
                backend.step(lr, c.updates + 1);
                loss = backend.loss();
                double norm = backend.gradNorm();
                c.it++;
                long now = System.nanoTime();
                stopIfDue(now);
                guard(norm, lr, state, prevState);
                charsSinceLog += (long) B * T;
                nanosSinceLog += now - iterStart;
                double cps = charsSinceLog / Math.max(1e-9, nanosSinceLog / 1e9);
                TrainListener.Step step =
                        new TrainListener.Step(c.it, total, c.it / (double) perEpoch, loss, norm, lr, cps);
                metrics.iteration(step, (now - t0) / 1e9);
                listeners.iteration(step);
                boolean logLine = c.it % cfg.reporting().printEvery() == 0 || c.it == 1;
                boolean ckptDue = c.it % cfg.checkpointing().every() == 0
                        || c.it % perEpoch == 0 // each epoch end
                        || (ckptNanos > 0 && now - lastCkptAt >= ckptNanos)
                        || c.it == total
                        || stop != null;
                if (valBuf != null && (c.it % cfg.validation().every() == 0 || ckptDue))
                    ckptDue |= validation(valBuf, step.epoch(), metrics);
                report(step, logLine);
                if (logLine) {
                    metrics.flush();
                    charsSinceLog = nanosSinceLog = 0;
                }
                if (ckptDue) {
                    bar.finish();
                    metrics.flush();
                    ckpt.write(position(validatedAt == c.it ? valLoss : Double.NaN), state);
                    lastCkptAt = System.nanoTime();
                }
            }
            bar.finish();
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + IoErrors.reason(e), e);
        }
        return new Trainer.Result(c.it, loss, c.bestVal, ckpt.last(), stop == null ? Trainer.Stop.COMPLETED : stop);
    }

    /**
     * The training forward pass of window w. Where its tokens cannot be read, parameters, optimizer
     * and state are still those of iteration it: they are saved (unless that checkpoint exists)
     * before the run stops with the reason.
     */
    private void forward(Window w, RnnState state, MetricsLog metrics) throws IOException {
        try {
            backend.forward(state, w, true);
        } catch (CorpusReadError e) {
            bar.finish();
            metrics.flush();
            if (c.it > 0 && !ckpt.has(c.it)) ckpt.write(position(Double.NaN), state);
            throw new UserError(e.getMessage() + "; last checkpoint: " + ckpt.lastForMessage(), e);
        }
    }

    /** The stop after iteration c.it: on request (Ctrl-C, {@link Trainer#requestStopAt}), or at the time limit. */
    private void stopIfDue(long now) {
        if (signals.requested().getAsBoolean() || c.it >= signals.at().getAsLong()) stop = Trainer.Stop.INTERRUPTED;
        else if (maxNanos > 0 && now - t0 >= maxNanos) {
            stop = Trainer.Stop.TIME_LIMIT;
            bar.finish();
            log.accept("time limit " + Durations.format(cfg.limits().maxTime()) + " reached at iteration " + c.it
                    + ": stopping with a checkpoint");
        }
    }

    /**
     * The divergence guard: after a NaN/Inf loss or gradient norm (whose update the backend's step
     * skipped) the carried state of the window is restored and the learning rate halved; a second
     * in a row stops the run, naming the last good checkpoint.
     */
    private void guard(double norm, double lr, RnnState state, RnnState prevState) {
        if (Double.isFinite(loss) && Double.isFinite(norm)) {
            c.lastFailed = false;
            c.updates++;
            return;
        }
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
        log.accept(String.format(
                Locale.ROOT,
                "iteration %d: loss %s, grad norm %s: update skipped, state restored, learning rate halved to %.3g",
                c.it,
                loss,
                norm,
                lr * 0.5));
    }

    /** A validation after iteration c.it: tracks the best and early stopping; true where it stops the run. */
    private boolean validation(TokenBuffer valBuf, double epoch, MetricsLog metrics) throws IOException {
        valLoss = valLoss(valBuf);
        validatedAt = c.it;
        if (!(valLoss >= c.bestVal)) { // NaN-safe: first value or a better one
            c.bestVal = valLoss;
            c.sinceBest = 0;
        } else c.sinceBest++;
        metrics.validation(c.it, epoch, valLoss);
        listeners.validated(c.it, valLoss, c.bestVal);
        int patience = cfg.limits().earlyStop();
        if (patience <= 0 || c.sinceBest < patience || stop != null) return false;
        stop = Trainer.Stop.EARLY_STOP;
        bar.finish();
        log.accept(String.format(
                Locale.ROOT,
                "early stop at iteration %d: %d validations without a val loss below %.4f",
                c.it,
                c.sinceBest,
                c.bestVal));
        return true;
    }

    /** Mean loss (nats/char) over the val split (or its first --val-max-windows windows) from a zero state, B streams, windows of T. */
    private double valLoss(TokenBuffer valBuf) {
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

    /** The iteration's log line (every --print-every, the first, the last) or progress bar. */
    private void report(TrainListener.Step s, boolean logLine) {
        String val = validatedAt == c.it
                ? String.format(Locale.ROOT, "  val %.4f (%.3f bpc)", valLoss, valLoss / Math.log(2))
                : "";
        if (plainLog) {
            if (logLine || stop != null || c.it == total)
                log.accept(String.format(
                        Locale.ROOT,
                        "iter %d/%d  epoch %.2f  loss %.4f  grad_norm %.3f  lr %.3g  %,.0f chars/s%s",
                        c.it,
                        total,
                        s.epoch(),
                        s.loss(),
                        s.gradNorm(),
                        s.lr(),
                        s.charsPerSecond(),
                        val));
        } else {
            bar.update(
                    c.it,
                    total,
                    String.format(
                            Locale.ROOT,
                            "iter %d  epoch %.2f  loss %.4f%s  %,.0f chars/s",
                            c.it,
                            s.epoch(),
                            s.loss(),
                            Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, "  val %.4f", valLoss),
                            s.charsPerSecond()));
        }
    }

    private Checkpointer.Position position(double valLoss) {
        return new Checkpointer.Position(
                c.it, c.it / (double) perEpoch, valLoss, c.updates, c.lrScale, c.lastFailed, c.bestVal);
    }
}
