package org.charrnn.train;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The run's {@link TrainListener}, called so that a failing one (an HTML report that cannot be
 * written, a user's callback) is a logged warning, never the end of training.
 */
final class Listeners {
    private final TrainListener listener;
    private final Consumer<String> log;

    Listeners(TrainListener listener, Consumer<String> log) {
        this.listener = listener == null ? TrainListener.NONE : listener;
        this.log = log;
    }

    void iteration(TrainListener.Step s) {
        call("iteration " + s.iteration(), () -> listener.onIteration(s));
    }

    void validated(long it, double valLoss, double best) {
        call("validation at iteration " + it, () -> listener.onValidation(it, valLoss, best));
    }

    void checkpointed(long it, Path file) {
        call("checkpoint " + file.getFileName(), () -> listener.onCheckpoint(it, file));
    }

    private void call(String when, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.accept("warning: listener failed after " + when + ": " + e.getMessage());
        }
    }
}
