package org.charrnn.train;

import java.nio.file.Path;

/**
 * Follows a training run as it goes (a progress display, a dashboard, an early stop of your own via
 * {@link Trainer#requestStop()}). Called on the training thread between steps, so keep it short; an
 * exception thrown here is logged as a warning and training goes on.
 *
 * <pre>{@code
 * Trainer.Options.defaults().withListener(new TrainListener() {
 *     public void onIteration(TrainListener.Step s) {
 *         if (s.iteration() % 100 == 0) System.out.printf("%d/%d loss %.3f%n", s.iteration(), s.total(), s.loss());
 *     }
 * });
 * }</pre>
 */
public interface TrainListener {

    /**
     * One finished iteration.
     *
     * @param iteration    iterations done in the whole run (a resumed run counts the earlier ones)
     * @param total        iterations the run will do in all
     * @param epoch        fractional epochs done
     * @param loss         training loss of the step, nats/char (NaN or infinite on a skipped step)
     * @param gradNorm     global gradient L2 norm before clipping
     * @param lr           learning rate used by the step
     * @param charsPerSecond training throughput of the iterations since the last log line: their
     *     characters over their own time (each from its start to its loss), so the validations,
     *     checkpoints and samples between them do not count
     */
    record Step(
            long iteration, long total, double epoch, double loss, double gradNorm, double lr, double charsPerSecond) {}

    /** After every iteration. */
    default void onIteration(Step step) {}

    /** After each validation pass: mean loss in nats/char over the val split, and the best so far. */
    default void onValidation(long iteration, double valLoss, double bestValLoss) {}

    /** After each checkpoint is complete on disk ({@code modelFile} is its .safetensors file). */
    default void onCheckpoint(long iteration, Path modelFile) {}

    /** Listens to nothing. */
    TrainListener NONE = new TrainListener() {};
}
