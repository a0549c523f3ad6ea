package org.charrnn.cli;

import java.util.List;
import java.util.Objects;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.model.ModelSpec;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.TrainConfig.Checkpointing;
import org.charrnn.train.TrainConfig.Data;
import org.charrnn.train.TrainConfig.Limits;
import org.charrnn.train.TrainConfig.Reporting;
import org.charrnn.train.TrainConfig.Schedule;
import org.charrnn.train.TrainConfig.Validation;
import org.charrnn.util.Durations;
import org.charrnn.util.UserError;

/**
 * What {@code train --resume DIR} does with the options given again: the run's own settings (its
 * config.json) come back, and each option typed on the command line replaces its setting where that
 * is safe, with one log line per change. Changing the model's shape, the vocabulary (encoding,
 * vocabulary limit), the batch (the carried state has one row per stream) or the optimizer (its
 * state would not fit) is a one-line error.
 */
final class RunSettings {
    private RunSettings() {}

    /** One option: whether a resume may change it, its value, and how to take it from the command line. */
    private record Setting(
            String option, boolean safe, Function<TrainConfig, Object> value, BinaryOperator<TrainConfig> take) {}

    private static Setting safe(String option, Function<TrainConfig, Object> value, BinaryOperator<TrainConfig> take) {
        return new Setting(option, true, value, take);
    }

    private static Setting fixed(String option, Function<TrainConfig, Object> value) {
        return new Setting(option, false, value, (run, given) -> run);
    }

    private static final List<Setting> SETTINGS = List.of(
            fixed("--model", c -> c.model().cell().id()),
            fixed("--layers", c -> c.model().layers()),
            fixed("--hidden", c -> c.model().hidden()),
            fixed("--embedding", c -> c.model().embedding()),
            fixed(
                    "--encoding",
                    c -> c.data() == null ? null : c.data().encoding().id()),
            fixed("--max-vocab", c -> c.data() == null ? null : c.data().maxVocab()),
            fixed("--batch", c -> c.batching().batch()),
            fixed("--optimizer", c -> c.optimizer().kind().id()),
            safe("--dropout", c -> c.model().dropout(), (r, g) -> {
                ModelSpec m = r.model();
                return r.withModel(new ModelSpec(
                        m.cell(),
                        m.layers(),
                        m.hidden(),
                        m.embedding(),
                        g.model().dropout()));
            }),
            safe(
                    "--data",
                    c -> c.data() == null ? null : c.data().path(),
                    (r, g) -> r.withData(data(r, g, g.data().path(), -1, -1))),
            safe(
                    "--val-frac",
                    c -> c.data() == null ? null : c.data().valFrac(),
                    (r, g) -> r.withData(data(r, g, null, g.data().valFrac(), -1))),
            safe(
                    "--test-frac",
                    c -> c.data() == null ? null : c.data().testFrac(),
                    (r, g) -> r.withData(data(r, g, null, -1, g.data().testFrac()))),
            safe(
                    "--seq",
                    c -> c.batching().seqLen(),
                    (r, g) -> r.withBatching(new TrainConfig.Batching(
                            r.batching().batch(), g.batching().seqLen()))),
            safe(
                    "--lr",
                    c -> c.schedule().lr(),
                    (r, g) -> r.withSchedule(schedule(r, g.schedule().lr(), null, -1, -1))),
            safe(
                    "--lr-schedule",
                    c -> c.schedule().kind().id(),
                    (r, g) -> r.withSchedule(schedule(r, -1, g.schedule(), -1, -1))),
            safe(
                    "--lr-decay",
                    c -> c.schedule().decay(),
                    (r, g) -> r.withSchedule(schedule(r, -1, null, g.schedule().decay(), -1))),
            safe(
                    "--lr-decay-every",
                    c -> c.schedule().decayEvery(),
                    (r, g) -> r.withSchedule(
                            schedule(r, -1, null, -1, g.schedule().decayEvery()))),
            safe(
                    "--weight-decay",
                    c -> c.optimizer().weightDecay(),
                    (r, g) -> optimizer(
                            r, r.optimizer().withWeightDecay(g.optimizer().weightDecay()))),
            safe(
                    "--momentum",
                    c -> c.optimizer().momentum(),
                    (r, g) -> optimizer(
                            r, r.optimizer().withMomentum(g.optimizer().momentum()))),
            safe(
                    "--decay",
                    c -> c.optimizer().decay(),
                    (r, g) -> optimizer(r, r.optimizer().withDecay(g.optimizer().decay()))),
            safe(
                    "--clip",
                    c -> c.clip().max(),
                    (r, g) -> r.withClip(
                            new TrainConfig.Clipping(g.clip().max(), r.clip().mode()))),
            safe(
                    "--clip-mode",
                    c -> c.clip().mode().id(),
                    (r, g) -> r.withClip(
                            new TrainConfig.Clipping(r.clip().max(), g.clip().mode()))),
            safe(
                    "--max-epochs",
                    c -> c.limits().maxEpochs(),
                    (r, g) -> r.withLimits(new Limits(
                            g.limits().maxEpochs(),
                            r.limits().maxIters(),
                            r.limits().maxTime(),
                            r.limits().earlyStop()))),
            safe(
                    "--max-iters",
                    c -> c.limits().maxIters(),
                    (r, g) -> r.withLimits(new Limits(
                            r.limits().maxEpochs(),
                            g.limits().maxIters(),
                            r.limits().maxTime(),
                            r.limits().earlyStop()))),
            safe(
                    "--max-time",
                    c -> Durations.format(c.limits().maxTime()),
                    (r, g) -> r.withLimits(new Limits(
                            r.limits().maxEpochs(),
                            r.limits().maxIters(),
                            g.limits().maxTime(),
                            r.limits().earlyStop()))),
            safe(
                    "--early-stop",
                    c -> c.limits().earlyStop(),
                    (r, g) -> r.withLimits(new Limits(
                            r.limits().maxEpochs(),
                            r.limits().maxIters(),
                            r.limits().maxTime(),
                            g.limits().earlyStop()))),
            safe(
                    "--val-every",
                    c -> c.validation().every(),
                    (r, g) -> r.withValidation(new Validation(
                            g.validation().every(), r.validation().maxWindows()))),
            safe(
                    "--val-max-windows",
                    c -> c.validation().maxWindows(),
                    (r, g) -> r.withValidation(new Validation(
                            r.validation().every(), g.validation().maxWindows()))),
            safe(
                    "--checkpoint-every",
                    c -> c.checkpointing().every(),
                    (r, g) -> r.withCheckpointing(new Checkpointing(
                            r.checkpointing().out(),
                            g.checkpointing().every(),
                            r.checkpointing().keep(),
                            r.checkpointing().minutes()))),
            safe(
                    "--keep",
                    c -> c.checkpointing().keep(),
                    (r, g) -> r.withCheckpointing(new Checkpointing(
                            r.checkpointing().out(),
                            r.checkpointing().every(),
                            g.checkpointing().keep(),
                            r.checkpointing().minutes()))),
            safe(
                    "--checkpoint-minutes",
                    c -> c.checkpointing().minutes(),
                    (r, g) -> r.withCheckpointing(new Checkpointing(
                            r.checkpointing().out(),
                            r.checkpointing().every(),
                            r.checkpointing().keep(),
                            g.checkpointing().minutes()))),
            safe(
                    "--print-every",
                    c -> c.reporting().printEvery(),
                    (r, g) -> r.withReporting(new Reporting(
                            g.reporting().printEvery(),
                            r.reporting().sampleLength(),
                            r.reporting().sampleTemperature()))),
            safe(
                    "--sample-length",
                    c -> c.reporting().sampleLength(),
                    (r, g) -> r.withReporting(new Reporting(
                            r.reporting().printEvery(),
                            g.reporting().sampleLength(),
                            r.reporting().sampleTemperature()))),
            safe(
                    "--sample-temperature",
                    c -> c.reporting().sampleTemperature(),
                    (r, g) -> r.withReporting(new Reporting(
                            r.reporting().printEvery(),
                            r.reporting().sampleLength(),
                            g.reporting().sampleTemperature()))),
            safe("--seed", TrainConfig::seed, (r, g) -> r.withSeed(g.seed())));

    /**
     * The run's settings {@code run} with every option {@code given} on the command line (those
     * {@code typed} says were typed) that changes a safe setting, each change logged; an unsafe
     * change, or an option the merged settings would not read ({@link IgnoredOptions}), is a UserError.
     */
    static TrainConfig restore(TrainConfig run, TrainConfig given, Predicate<String> typed, Consumer<String> log) {
        if (run.data() == null && !typed.test("--data"))
            throw new UserError(
                    "the run's config.json names no corpus (it was trained through the library): give --data");
        TrainConfig merged = run;
        List<String> changes = new java.util.ArrayList<>();
        for (Setting s : SETTINGS) {
            if (!typed.test(s.option())) continue;
            Object was = s.value().apply(run), now = s.value().apply(given);
            if (Objects.equals(was, now)) continue;
            if (!s.safe())
                throw new UserError(
                        s.option() + " " + now + " differs from the run's " + was + ": a resumed run keeps its "
                                + why(s.option()) + "; start a new run (--init-from takes a checkpoint's weights)");
            merged = s.take().apply(merged, given);
            changes.add("resume: " + s.option() + " " + now + " (the run had " + was + ")");
        }
        IgnoredOptions.check(merged, typed); // before any change is logged as taken
        changes.forEach(log);
        return merged;
    }

    private static String why(String option) {
        return switch (option) {
            case "--encoding", "--max-vocab" -> "vocabulary";
            case "--batch" -> "batch size (its carried state has one row per stream)";
            case "--optimizer" -> "optimizer (its state would not fit another)";
            default -> "model shape";
        };
    }

    private static Data data(TrainConfig r, TrainConfig g, String path, double valFrac, double testFrac) {
        Data d = r.data() != null ? r.data() : g.data();
        return new Data(
                path != null ? path : d.path(),
                d.encoding(),
                d.maxVocab(),
                valFrac >= 0 ? valFrac : d.valFrac(),
                testFrac >= 0 ? testFrac : d.testFrac());
    }

    private static Schedule schedule(TrainConfig r, double lr, Schedule kindFrom, double decay, int every) {
        Schedule s = r.schedule();
        return new Schedule(
                lr > 0 ? lr : s.lr(),
                kindFrom != null ? kindFrom.kind() : s.kind(),
                decay > 0 ? decay : s.decay(),
                every > 0 ? every : s.decayEvery());
    }

    private static TrainConfig optimizer(TrainConfig r, OptimizerConfig o) {
        return r.withOptimizer(o, r.schedule().lr());
    }
}
