package org.charrnn.cli;

import java.util.function.Predicate;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.train.LrSchedule;
import org.charrnn.train.TrainConfig;
import org.charrnn.util.UserError;

/**
 * The options of {@code charrnn train} that only one optimizer, schedule or setting reads: typed
 * where the run's settings (fresh, or a resumed run's own) would leave them unread, they are a
 * one-line error rather than a value stored and never used.
 */
final class IgnoredOptions {
    private IgnoredOptions() {}

    /** Throws a UserError for the first option {@code typed} says was typed that {@code cfg} does not read. */
    static void check(TrainConfig cfg, Predicate<String> typed) {
        OptimizerKind optimizer = cfg.optimizer().kind();
        LrSchedule schedule = cfg.schedule().kind();
        if (typed.test("--momentum") && optimizer != OptimizerKind.SGD)
            throw unread("--momentum", "--optimizer sgd", "optimizer " + optimizer.id());
        if (typed.test("--decay") && optimizer != OptimizerKind.RMSPROP)
            throw unread(
                    "--decay",
                    "--optimizer rmsprop (its square average; the learning rate's is --lr-decay)",
                    "optimizer " + optimizer.id());
        for (String option : new String[] {"--lr-decay", "--lr-decay-every"})
            if (typed.test(option) && schedule != LrSchedule.STEP)
                throw unread(option, "--lr-schedule step", "schedule " + schedule.id());
        if (typed.test("--sample-temperature") && cfg.reporting().sampleLength() == 0)
            throw unread("--sample-temperature", "checkpoint samples", "--sample-length 0");
        if (cfg.data() != null && cfg.data().valFrac() == 0)
            for (String option : new String[] {"--val-every", "--val-max-windows", "--early-stop"})
                if (typed.test(option)) throw unread(option, "a validation split", "--val-frac 0");
    }

    private static UserError unread(String option, String appliesTo, String runHas) {
        return new UserError(option + " applies to " + appliesTo + " only; this run has " + runHas);
    }
}
