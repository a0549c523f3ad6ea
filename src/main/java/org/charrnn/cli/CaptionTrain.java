package org.charrnn.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.charrnn.backend.Backend;
import org.charrnn.backend.Backends;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.caption.CaptionBatches;
import org.charrnn.caption.CaptionCheckpoint;
import org.charrnn.caption.CaptionData;
import org.charrnn.caption.CaptionMetrics;
import org.charrnn.caption.CaptionResume;
import org.charrnn.caption.CaptionTrainer;
import org.charrnn.caption.CaptionVocab;
import org.charrnn.caption.Condition;
import org.charrnn.caption.ConditionedModel;
import org.charrnn.caption.FeatureProjection;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.train.RunLock;
import org.charrnn.util.IoErrors;
import org.charrnn.util.LogLines;
import org.charrnn.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code charrnn caption train}: a caption model trained on image features and their captions; OUT holds
 * the best model by val loss ({@value CaptionCommand#MODEL_FILE}), the resume state of the last whole
 * epoch and the metrics.
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Train a caption model; writes OUT/" + CaptionCommand.MODEL_FILE + " (the best by val loss).")
final class CaptionTrain implements Callable<Integer> {
    @Option(names = "--features", required = true, description = "Safetensors file with one [N, F] float32 tensor.")
    Path features;

    @Option(names = "--captions", required = true, description = "JSON lines {\"image\": i, \"caption\": \"...\"}.")
    Path captions;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Option(
            names = "--condition",
            defaultValue = "state",
            description = "How the image enters: state (the initial hidden state of every layer) | input "
                    + "(the model's input at the first step); saved in the model file.")
    String condition;

    @Option(
            names = "--model",
            defaultValue = "lstm",
            description = "lstm | gru | rnn | mut1 | mut2 | mut3 (mut1 and mut2 need --embedding = --hidden).")
    String model;

    @Option(names = "--layers", defaultValue = "1", description = "Stacked recurrent layers L.")
    int layers;

    @Option(names = "--hidden", defaultValue = "128", description = "Hidden size H.")
    int hidden;

    @Option(
            names = "--embedding",
            defaultValue = "32",
            description = "Embedding size E (with --condition input, the image's projection has it too).")
    int embedding;

    @Option(names = "--batch", defaultValue = "32", description = "Captions per batch.")
    int batch;

    @Option(names = "--epochs", defaultValue = "10", description = "Passes over the training captions.")
    int epochs;

    @Option(
            names = "--optimizer",
            defaultValue = "adam",
            description = "adam | rmsprop | adagrad | sgd, for the model and the projection.")
    String optimizer;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Learning rate.")
    double lr;

    @Option(names = "--clip", defaultValue = "5", description = "Max L2 norm of all the gradients together.")
    double clip;

    @Option(names = "--val-frac", defaultValue = "0.1", description = "Fraction of the images held out.")
    double valFrac;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Seed of the split, the initialisation and the caption order.")
    long seed;

    @Option(
            names = "--log-every",
            defaultValue = "50",
            description = "Print a progress line every this many iterations (0: none).")
    int logEvery;

    @Option(
            names = "--resume",
            description = "Continue the run in --out from its last whole epoch, with its model, optimizer, "
                    + "--batch, --condition, --seed, --val-frac, --lr and --clip unless given (--lr and --clip may "
                    + "change, --epochs be raised; the same --features and --captions).")
    boolean resume;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Spec
    CommandSpec spec;

    /**
     * With --resume, the run's own model, optimizer, data options, --lr and --clip where they are not
     * given again (one given with another value than the run's is refused when its state is read).
     */
    private void takeRecordedOptions() {
        Path file = out.resolve(CaptionResume.FILE);
        for (Map.Entry<String, String> e : CaptionResume.recordedOptions(file).entrySet()) {
            String option = e.getKey(), v = e.getValue();
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) continue;
            try {
                switch (option) {
                    case "--model" -> model = v;
                    case "--layers" -> layers = Integer.parseInt(v);
                    case "--hidden" -> hidden = Integer.parseInt(v);
                    case "--embedding" -> embedding = Integer.parseInt(v);
                    case "--optimizer" -> optimizer = v;
                    case "--batch" -> batch = Integer.parseInt(v);
                    case "--condition" -> condition = v;
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--val-frac" -> valFrac = Double.parseDouble(v);
                    case "--lr" -> lr = Double.parseDouble(v);
                    case "--clip" -> clip = Double.parseDouble(v);
                    default -> {} // an option of a later version: its check, if any, is load's
                }
            } catch (NumberFormatException ex) {
                throw new UserError("--resume: " + file + " is corrupt: its " + option + " is '" + v + "'");
            }
        }
    }

    @Override
    public Integer call() throws IOException {
        if (logEvery < 0) throw new IllegalArgumentException("--log-every must be >= 0, got " + logEvery);
        if (resume) takeRecordedOptions();
        Condition cond = Condition.parse(condition);
        CaptionTrainer.Settings s =
                new CaptionTrainer.Settings(batch, epochs, lr, clip, seed, OptimizerKind.parse(optimizer));
        CaptionData.Features f = CaptionData.readFeatures(features);
        List<CaptionData.Caption> all = CaptionData.readCaptions(captions, f.count());
        boolean[] val = CaptionData.validationImages(all, f.count(), valFrac, seed);
        List<CaptionData.Caption> tr = CaptionData.select(all, val, false), va = CaptionData.select(all, val, true);
        List<String> texts = new ArrayList<>();
        for (CaptionData.Caption c : all) texts.add(c.text());
        CaptionVocab vocab = CaptionVocab.of(texts);
        ModelConfig cfg = new ModelConfig(CellType.parse(model), vocab.size(), embedding, hidden, layers, 0.0);
        CaptionResume.Run run = new CaptionResume.Run(
                cfg,
                vocab,
                f.width(),
                s.optimizer(),
                Map.of(
                        "--batch", Integer.toString(batch),
                        "--condition", cond.id(),
                        "--seed", Long.toString(seed),
                        "--val-frac", Double.toString(valFrac)),
                Map.of("--lr", Double.toString(lr), "--clip", Double.toString(clip)));
        CaptionResume.State from = resume ? resumable(run) : null;
        Consumer<String> log = LogLines.stderr();
        try (RunLock lock = CaptionRunDirectory.claim(out, from == null, log);
                ConditionedModel m = model(cfg, cond, f.width(), from, log)) {
            System.out.printf(
                    Locale.ROOT,
                    "caption: %d images x %d features; %d train captions, %d val captions (%d held-out images); "
                            + "%d symbols%n",
                    f.count(),
                    f.width(),
                    tr.size(),
                    va.size(),
                    countTrue(val),
                    vocab.size());
            try (CaptionBatches trainB = new CaptionBatches(m.backend(), vocab, tr, cond);
                    CaptionBatches valB =
                            new CaptionBatches(m.backend(), vocab, va.isEmpty() ? tr.subList(0, 0) : va, cond)) {
                CaptionTrainer t = new CaptionTrainer(m, f, s);
                double best = Double.POSITIVE_INFINITY;
                if (from != null) {
                    t.restore(from.iteration(), from.modelSlots(), from.projectionSlots());
                    best = from.best();
                    System.out.printf(
                            Locale.ROOT, "resuming after epoch %d (iteration %d)%n", from.epoch(), from.iteration());
                }
                try (CaptionMetrics metrics = new CaptionMetrics(out, from == null ? -1 : from.iteration())) {
                    t.train(
                            trainB,
                            valB,
                            new Progress(metrics, t, m, run, !va.isEmpty(), best),
                            from == null ? 0 : from.epoch());
                } catch (IOException e) {
                    throw cannotWrite(e);
                }
            }
        }
        System.out.println("wrote " + out.resolve(CaptionCommand.MODEL_FILE));
        return 0;
    }

    /** The state of the run in --out that --resume continues, checked against this run's data and options. */
    private CaptionResume.State resumable(CaptionResume.Run run) throws IOException {
        CaptionResume.State from = CaptionResume.load(out.resolve(CaptionResume.FILE), run);
        if (from.epoch() >= epochs)
            throw new UserError("--resume: the run in " + out + " has done " + from.epoch() + " epochs; raise "
                    + "--epochs above that to train longer");
        return from;
    }

    /**
     * The model on the chosen backend: initialised from --seed (the projection from seed + 1), or with
     * the parameters of the state it resumes.
     */
    private ConditionedModel model(
            ModelConfig cfg, Condition cond, int width, CaptionResume.State from, Consumer<String> log) {
        Backend be = Backends.create(backendOptions.backend, cfg, backendOptions.options(seed), log);
        try {
            be.setParameters(from == null ? Init.initialize(be.layout(), seed) : from.params());
            FeatureProjection p = FeatureProjection.of(cond, cfg, width);
            if (from == null) p.initialize(seed + 1);
            else p.setParameters(from.projection());
            return new ConditionedModel(be, p);
        } catch (RuntimeException e) {
            be.close();
            throw e;
        }
    }

    /**
     * What the run does as it trains: a progress line every --log-every iterations and the metrics of
     * every step; at each epoch's end the model when its val loss (train loss without a val split) is
     * the best so far, and the resume state.
     */
    private final class Progress implements CaptionTrainer.Listener {
        private final CaptionMetrics metrics;
        private final CaptionTrainer trainer;
        private final ConditionedModel model;
        private final CaptionResume.Run run;
        private final Map<String, String> extra =
                Map.of("val_frac", Double.toString(valFrac), "split_seed", Long.toString(seed));
        private final long start = System.nanoTime();
        private final boolean validates; // whether a val split is held out (else its loss is NaN by design)
        private double best;

        Progress(
                CaptionMetrics metrics,
                CaptionTrainer trainer,
                ConditionedModel model,
                CaptionResume.Run run,
                boolean validates,
                double best) {
            this.metrics = metrics;
            this.validates = validates;
            this.trainer = trainer;
            this.model = model;
            this.run = run;
            this.best = best;
        }

        @Override
        public void step(CaptionTrainer.Step st) {
            boolean log = logEvery > 0 && st.iteration() % logEvery == 0;
            if (log)
                System.out.printf(
                        Locale.ROOT,
                        "iter %d  epoch %.2f  loss %.4f  grad norm %.3f%n",
                        st.iteration(),
                        st.epoch(),
                        st.loss(),
                        st.gradNorm());
            try {
                metrics.step(st, lr, (System.nanoTime() - start) / 1e9);
                if (log) metrics.flush();
            } catch (IOException e) {
                throw cannotWrite(e);
            }
        }

        @Override
        public void epoch(CaptionTrainer.Epoch e) {
            System.out.printf(
                    Locale.ROOT,
                    "epoch %d  iter %d  train loss %.4f  val loss %.4f nats/char%n",
                    e.epoch(),
                    e.iteration(),
                    e.trainLoss(),
                    e.valLoss());
            Backend be = model.backend();
            try {
                metrics.validation(e.iteration(), e.epoch(), e.valLoss());
                double[] params = be.getParameters();
                boolean fits = Checkpoint.fitsFloat32(params)
                        && Checkpoint.fitsFloat32(model.projection().parameters());
                if (!fits || !Double.isFinite(e.trainLoss()) || (validates && !Double.isFinite(e.valLoss()))) {
                    metrics.flush();
                    throw diverged(e, fits);
                }
                double score = Double.isNaN(e.valLoss()) ? e.trainLoss() : e.valLoss();
                if (score < best) {
                    best = score;
                    CaptionCheckpoint.save(
                            out.resolve(CaptionCommand.MODEL_FILE),
                            run.config(),
                            run.vocab(),
                            params,
                            model.projection(),
                            e.iteration(),
                            e.valLoss(),
                            extra);
                }
                CaptionResume.save(
                        out.resolve(CaptionResume.FILE),
                        run,
                        new CaptionResume.State(
                                e.epoch(),
                                e.iteration(),
                                best,
                                params,
                                model.projection().parameters(),
                                be.getOptimizerState(),
                                trainer.projectionSlots()));
            } catch (IOException ex) {
                throw cannotWrite(ex);
            }
        }
    }

    /**
     * An epoch whose loss is not finite, or whose weights no longer fit float32 ({@code fits}
     * false): its weights are not saved (neither as the model nor as the resume state), and the run
     * stops there, the files of its last good epoch kept.
     */
    private UserError diverged(CaptionTrainer.Epoch e, boolean fits) {
        Path model = out.resolve(CaptionCommand.MODEL_FILE);
        return new UserError(String.format(
                Locale.ROOT,
                "training diverged in epoch %d (train loss %s, val loss %s%s): %s; lower --lr or --clip",
                e.epoch(),
                e.trainLoss(),
                e.valLoss(),
                fits ? "" : ", weights beyond the float32 range",
                Files.exists(model) ? "the best model so far stays in " + model : "no model was written"));
    }

    /** A failed write of the run's files: the run stops there (its files so far stay whole). */
    private UserError cannotWrite(IOException e) {
        return new UserError("cannot write in " + out + ": " + IoErrors.reason(e), e);
    }

    private static int countTrue(boolean[] a) {
        int n = 0;
        for (boolean b : a) if (b) n++;
        return n;
    }
}
