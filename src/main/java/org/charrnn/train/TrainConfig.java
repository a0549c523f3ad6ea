package org.charrnn.train;

import static org.charrnn.util.ConfigError.require;

import java.nio.file.Path;
import java.time.Duration;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.data.Encoding;
import org.charrnn.model.ModelSpec;
import org.charrnn.util.UserError;

/**
 * Everything a training run needs, as nested records, one per concern; each validates its own
 * fields and names the option that sets it. Defaults follow char-rnn / torch-rnn
 * ({@link #defaults()}). {@link RunConfig} writes it to config.json and reads it back unchanged.
 *
 * @param model         the model's shape (--model, --layers, --hidden, --embedding, --dropout)
 * @param data          where the corpus came from and how it was encoded; null for corpora given
 *                      as token sequences through the library
 * @param batching      --batch, --seq
 * @param optimizer     --optimizer and all its hyper-parameters (the learning rate is the schedule's)
 * @param schedule      --lr, --lr-schedule, --lr-decay, --lr-decay-every
 * @param clip          --clip, --clip-mode
 * @param limits        --max-epochs, --max-iters, --max-time, --early-stop
 * @param validation    --val-every, --val-max-windows
 * @param checkpointing --out, --checkpoint-every, --checkpoint-minutes, --keep
 * @param reporting     --print-every, --sample-length, --sample-temperature
 * @param seed          --seed (42): initialisation, dropout masks and checkpoint samples
 */
public record TrainConfig(
        ModelSpec model,
        Data data,
        Batching batching,
        OptimizerConfig optimizer,
        Schedule schedule,
        Clipping clip,
        Limits limits,
        Validation validation,
        Checkpointing checkpointing,
        Reporting reporting,
        long seed) {

    public TrainConfig {
        require(
                model != null
                        && batching != null
                        && optimizer != null
                        && schedule != null
                        && clip != null
                        && limits != null
                        && validation != null
                        && checkpointing != null
                        && reporting != null,
                "every part of a training configuration but the data is required");
    }

    /**
     * The corpus: {@code path} as given to --data (a file or a built-in name such as "shakespeare"),
     * --encoding, --max-vocab and the split fractions --val-frac, --test-frac.
     */
    public record Data(String path, Encoding encoding, int maxVocab, double valFrac, double testFrac) {
        public Data {
            require(path != null && !path.isBlank(), "{Data.path} is required");
            require(encoding != null, "{Data.encoding} is required");
            require(maxVocab >= 0, "{Data.maxVocab} must be >= 0, got " + maxVocab);
        }
    }

    /** --batch B (50) parallel streams, --seq T (50) truncated-BPTT window. */
    public record Batching(int batch, int seqLen) {
        public Batching {
            require(batch >= 1, "{Batching.batch} must be >= 1, got " + batch);
            require(seqLen >= 1, "{Batching.seqLen} must be >= 1, got " + seqLen);
        }
    }

    /**
     * The learning rate at each iteration: --lr (the optimizer's default when not given),
     * --lr-schedule (step), --lr-decay F (0.97) every --lr-decay-every N (1) epochs.
     */
    public record Schedule(double lr, LrSchedule kind, double decay, int decayEvery) {
        public Schedule {
            require(lr > 0 && Double.isFinite(lr), "{Schedule.lr} must be > 0, got " + lr);
            require(kind != null, "{Schedule.kind} is required");
            require(decay > 0 && decay <= 1, "{Schedule.decay} must be in (0, 1], got " + decay);
            require(decayEvery >= 1, "{Schedule.decayEvery} must be >= 1, got " + decayEvery);
        }

        /** The learning rate of iteration {@code it} (0-based) of a run of {@code total} iterations. */
        public double lr(long it, long perEpoch, long total) {
            return kind.lr(lr, it, perEpoch, total, decay, decayEvery);
        }
    }

    /** --clip (5) with --clip-mode (norm). */
    public record Clipping(double max, ClipMode mode) {
        public Clipping {
            require(max > 0, "{Clipping.max} must be > 0, got " + max);
            require(
                    max < Double.POSITIVE_INFINITY,
                    "{Clipping.max} must be finite, got " + max
                            + " (a threshold such as 1e9 all but turns clipping off)");
            require(mode != null, "{Clipping.mode} is required");
        }
    }

    /**
     * When a run ends: --max-epochs and --max-iters (0 = no limit), both counting the whole run;
     * --max-time (zero = no limit), the time this process may train before it stops with a
     * checkpoint; --early-stop N (0 = never), stop after N validations in a row without a new best
     * val loss.
     */
    public record Limits(int maxEpochs, long maxIters, Duration maxTime, int earlyStop) {
        public Limits {
            require(maxEpochs >= 1, "{Limits.maxEpochs} must be >= 1, got " + maxEpochs);
            require(maxIters >= 0, "{Limits.maxIters} must be >= 0, got " + maxIters);
            if (maxTime == null) maxTime = Duration.ZERO; // config.json of runs older than the setting
            require(!maxTime.isNegative(), "{Limits.maxTime} must not be negative, got " + maxTime);
            require(earlyStop >= 0, "{Limits.earlyStop} must be >= 0, got " + earlyStop);
        }

        /** Epoch and iteration limits only. */
        public Limits(int maxEpochs, long maxIters) {
            this(maxEpochs, maxIters, Duration.ZERO, 0);
        }

        /** The iterations of the whole run at {@code perEpoch} an epoch: maxEpochs epochs, at most maxIters. */
        public long total(long perEpoch) {
            long epochs = maxEpochs * perEpoch;
            return maxIters > 0 ? Math.min(epochs, maxIters) : epochs;
        }

        /**
         * A resume of a run already at {@code iteration} of its {@link #total} or past it: nothing to
         * train, so a one-line error naming the limit that ends it, rather than a run of no steps.
         */
        public UserError reachedAt(long iteration, long perEpoch) {
            long total = total(perEpoch);
            boolean byIters = maxIters > 0 && total == maxIters;
            String limit = byIters ? "{Limits.maxIters}" : "{Limits.maxEpochs}";
            return UserError.naming(
                    "the run is already at iteration " + iteration + (iteration == total ? ", the end of " : ", past ")
                            + limit + " " + (byIters ? maxIters : maxEpochs + " (" + total + " iterations)")
                            + ": nothing to train; raise " + limit + " to continue it");
        }
    }

    /**
     * --val-every N (1000; also at each epoch end) iterations, on at most --val-max-windows windows
     * per pass (0 = the whole split; large corpora such as the Linux kernel want a cap).
     */
    public record Validation(int every, long maxWindows) {
        public Validation {
            require(every >= 1, "{Validation.every} must be >= 1, got " + every);
            require(maxWindows >= 0, "{Validation.maxWindows} must be >= 0, got " + maxWindows);
        }
    }

    /**
     * Run directory --out; a checkpoint every --checkpoint-every N iterations, at each epoch end, at
     * the end, and whenever --checkpoint-minutes M (10; 0 = no time limit) passed since the last one;
     * --keep K newest plus the best.
     */
    public record Checkpointing(Path out, int every, int keep, double minutes) {
        /** Minutes between checkpoints unless the iteration count asks sooner. */
        public static final double DEFAULT_MINUTES = 10;

        public Checkpointing {
            require(out != null, "{Checkpointing.out} is required");
            require(every >= 1, "{Checkpointing.every} must be >= 1, got " + every);
            require(keep >= 1, "{Checkpointing.keep} must be >= 1, got " + keep);
            require(minutes >= 0 && Double.isFinite(minutes), "{Checkpointing.minutes} must be >= 0, got " + minutes);
        }

        /** With the default time limit. */
        public Checkpointing(Path out, int every, int keep) {
            this(out, every, keep, DEFAULT_MINUTES);
        }
    }

    /**
     * --print-every (10) iterations between log lines in --quiet mode; --sample-length (200)
     * characters sampled at --sample-temperature (0.8) at each checkpoint.
     */
    public record Reporting(int printEvery, int sampleLength, double sampleTemperature) {
        public Reporting {
            require(printEvery >= 1, "{Reporting.printEvery} must be >= 1, got " + printEvery);
            require(sampleLength >= 0, "{Reporting.sampleLength} must be >= 0, got " + sampleLength);
            require(
                    sampleTemperature > 0 && Double.isFinite(sampleTemperature),
                    "{Reporting.sampleTemperature} must be > 0, got " + sampleTemperature);
        }
    }

    public static TrainConfig defaults() {
        OptimizerConfig opt = OptimizerConfig.defaults(OptimizerKind.ADAM);
        return new TrainConfig(
                ModelSpec.defaults(),
                null,
                new Batching(50, 50),
                opt,
                new Schedule(opt.kind().defaultLr(), LrSchedule.STEP, 0.97, 1),
                new Clipping(5.0, ClipMode.NORM),
                new Limits(50, 0),
                new Validation(1000, 0),
                new Checkpointing(Path.of("checkpoints"), 1000, 5),
                new Reporting(10, 200, 0.8),
                42);
    }

    // ------------------------------------------------------------------ copies with one part changed

    public TrainConfig withModel(ModelSpec m) {
        return new TrainConfig(
                m, data, batching, optimizer, schedule, clip, limits, validation, checkpointing, reporting, seed);
    }

    public TrainConfig withData(Data d) {
        return new TrainConfig(
                model, d, batching, optimizer, schedule, clip, limits, validation, checkpointing, reporting, seed);
    }

    public TrainConfig withBatching(Batching b) {
        return new TrainConfig(
                model, data, b, optimizer, schedule, clip, limits, validation, checkpointing, reporting, seed);
    }

    /** The optimizer, with the schedule's learning rate set to {@code lr}. */
    public TrainConfig withOptimizer(OptimizerConfig o, double lr) {
        return new TrainConfig(
                model,
                data,
                batching,
                o,
                new Schedule(lr, schedule.kind(), schedule.decay(), schedule.decayEvery()),
                clip,
                limits,
                validation,
                checkpointing,
                reporting,
                seed);
    }

    public TrainConfig withSchedule(Schedule s) {
        return new TrainConfig(
                model, data, batching, optimizer, s, clip, limits, validation, checkpointing, reporting, seed);
    }

    public TrainConfig withClip(Clipping c) {
        return new TrainConfig(
                model, data, batching, optimizer, schedule, c, limits, validation, checkpointing, reporting, seed);
    }

    public TrainConfig withLimits(Limits l) {
        return new TrainConfig(
                model, data, batching, optimizer, schedule, clip, l, validation, checkpointing, reporting, seed);
    }

    public TrainConfig withValidation(Validation v) {
        return new TrainConfig(
                model, data, batching, optimizer, schedule, clip, limits, v, checkpointing, reporting, seed);
    }

    public TrainConfig withCheckpointing(Checkpointing c) {
        return new TrainConfig(
                model, data, batching, optimizer, schedule, clip, limits, validation, c, reporting, seed);
    }

    public TrainConfig withReporting(Reporting r) {
        return new TrainConfig(
                model, data, batching, optimizer, schedule, clip, limits, validation, checkpointing, r, seed);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(
                model, data, batching, optimizer, schedule, clip, limits, validation, checkpointing, reporting, s);
    }
}
