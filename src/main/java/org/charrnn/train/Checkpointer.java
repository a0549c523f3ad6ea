package org.charrnn.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ModelSpec;
import org.charrnn.sample.SampleOptions;
import org.charrnn.sample.Sampler;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.UserError;

/**
 * Writes a run's checkpoints: the model file, then the training state that commits it, then the
 * sample; logs it, prunes old ones and tells the listener.
 */
final class Checkpointer {

    /** What a checkpoint stores besides the parameters: the loop's counters at iteration {@code it}. */
    record Position(
            long it, double epoch, double valLoss, long updates, double lrScale, boolean lastFailed, double bestVal) {}

    private final TrainConfig cfg;
    private final ModelConfig model;
    private final Vocabulary vocabulary;
    private final Backend backend;
    private final Consumer<String> log;
    private final Consumer<String> samples; // null = not printed
    private final Listeners listeners;
    private final BooleanSupplier stopRequested; // a stop asked for while a sample is drawn cuts it short
    private Path last; // newest checkpoint this run wrote or resumed from

    Checkpointer(
            TrainConfig cfg,
            ModelConfig model,
            Vocabulary vocabulary,
            Backend backend,
            Consumer<String> log,
            Consumer<String> samples,
            Listeners listeners,
            BooleanSupplier stopRequested) {
        this.cfg = cfg;
        this.model = model;
        this.vocabulary = vocabulary;
        this.backend = backend;
        this.log = log;
        this.samples = samples;
        this.listeners = listeners;
        this.stopRequested = stopRequested;
    }

    /** A resumed run's newest checkpoint is the one it resumed from, at {@code iteration}, until it writes one. */
    void resumedFrom(long iteration) {
        last = Checkpoint.modelPath(cfg.checkpointing().out(), iteration);
    }

    /** The newest checkpoint written or resumed from, or null. */
    Path last() {
        return last;
    }

    /** "none" or the newest checkpoint, for error messages. */
    String lastForMessage() {
        return last == null ? "none" : last.toString();
    }

    /** Whether iteration {@code it} already has its checkpoint. */
    boolean has(long it) {
        return last != null
                && last.equals(Checkpoint.modelPath(cfg.checkpointing().out(), it));
    }

    Path write(Position p, RnnState state) throws IOException {
        // the checkpoint a stop asked for samples in full; a stop asked for while it is written cuts its sample
        boolean stopping = stopRequested.getAsBoolean();
        Path out = cfg.checkpointing().out();
        Path file = Checkpoint.modelPath(out, p.it());
        double[] params = backend.getParameters();
        if (!Checkpoint.fitsFloat32(params))
            throw new UserError(
                    String.format(
                            Locale.ROOT,
                            "training diverged: the parameters at iteration %d exceed the float32 range of a checkpoint"
                                    + "; last checkpoint: %s; try a lower learning rate or clip threshold",
                            p.it(),
                            lastForMessage()),
                    1,
                    null);
        Checkpoint.saveModel(
                file,
                model,
                vocabulary,
                params,
                new Checkpoint.Info(p.it(), p.epoch(), p.valLoss()),
                RunConfig.trainingJson(cfg));
        Checkpoint.saveState(
                file,
                new Checkpoint.TrainingState(
                        p.it(),
                        p.updates(),
                        p.lrScale(),
                        p.lastFailed(),
                        params,
                        cfg.optimizer().kind().id(),
                        backend.getOptimizerState(),
                        cfg.batching().batch(),
                        state.read(),
                        p.bestVal()));
        String sample = "";
        TrainConfig.Reporting r = cfg.reporting();
        if (r.sampleLength() > 0) {
            boolean[] cutShort = {false}; // what the sampler was last told: true only where it stopped early
            BooleanSupplier cut = () -> cutShort[0] = !stopping && stopRequested.getAsBoolean();
            sample = new Sampler(backend, vocabulary)
                    .sampleText(
                            "",
                            new SampleOptions(
                                    r.sampleLength(), r.sampleTemperature(), 0, 1.0, false, cfg.seed() + p.it()),
                            cut);
            AtomicFile.writeString(Checkpoint.samplePath(file), sample);
            if (cutShort[0]) log.accept("sample cut short by the stop request");
        }
        log.accept(String.format(
                Locale.ROOT,
                "checkpoint %s (iteration %d%s)",
                file,
                p.it(),
                Double.isNaN(p.valLoss()) ? "" : String.format(Locale.ROOT, ", val loss %.4f", p.valLoss())));
        if (samples != null && !sample.isEmpty())
            samples.accept("--- sample at iteration " + p.it() + " ---\n" + sample + "\n---");
        RunDirectory.prune(out, cfg.checkpointing().keep());
        last = file;
        listeners.checkpointed(p.it(), file);
        return file;
    }

    /** The checkpoint's model, which must be of shape {@code want} over {@code vocabulary} (resume, init-from). */
    static Checkpoint.Model loadMatching(Path file, Vocabulary vocabulary, ModelSpec want) {
        return requireMatching(Checkpoint.loadModel(file), vocabulary, want);
    }

    /** {@code m}, which must be of shape {@code want} over {@code vocabulary}. */
    static Checkpoint.Model requireMatching(Checkpoint.Model m, Vocabulary vocabulary, ModelSpec want) {
        Path file = m.file();
        if (!m.vocabulary().equals(vocabulary))
            throw new UserError("vocabulary mismatch: " + file + " was trained on "
                    + m.vocabulary().size() + " symbols, the data given has a different vocabulary of "
                    + vocabulary.size()
                    + "; use data with the same characters (and the same encoding and vocabulary limit)");
        ModelSpec have = m.config().spec();
        if (have.cell() != want.cell()
                || have.layers() != want.layers()
                || have.hidden() != want.hidden()
                || have.embedding() != want.embedding())
            throw new UserError("model shape mismatch: " + file + " holds a "
                    + m.config().describe() + " model, the configuration asks for "
                    + want.withVocabulary(m.config().vocabSize()).describe());
        return m;
    }
}
