package org.charrnn.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.charrnn.backend.Backend;
import org.charrnn.backend.Backends;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.caption.Bleu;
import org.charrnn.caption.CaptionBatches;
import org.charrnn.caption.CaptionCheckpoint;
import org.charrnn.caption.CaptionData;
import org.charrnn.caption.CaptionMetrics;
import org.charrnn.caption.CaptionResume;
import org.charrnn.caption.CaptionSampler;
import org.charrnn.caption.CaptionTrainer;
import org.charrnn.caption.CaptionVocab;
import org.charrnn.caption.Condition;
import org.charrnn.caption.ConditionedModel;
import org.charrnn.caption.FeatureProjection;
import org.charrnn.io.RunFiles;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.train.RunLock;
import org.charrnn.util.IoErrors;
import org.charrnn.util.LogLines;
import org.charrnn.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code charrnn caption}: image captioning, a language model conditioned on image features. */
@Command(
        name = "caption",
        mixinStandardHelpOptions = true,
        description = "Image captioning: train, sample and evaluate a character model conditioned on image features.",
        subcommands = {
            CaptionCommand.Train.class,
            CaptionCommand.Sample.class,
            CaptionCommand.Eval.class,
            CaptionDemo.class
        })
public final class CaptionCommand {
    static final String MODEL_FILE = RunFiles.CAPTION_MODEL;

    /** A model file, or a directory holding {@value #MODEL_FILE}. */
    static Path modelFile(Path p) {
        Path f = Files.isDirectory(p) ? p.resolve(MODEL_FILE) : p;
        if (!Files.isRegularFile(f)) throw new UserError("caption model " + f + " does not exist");
        return f;
    }

    /** The model of a file on a backend. */
    static ConditionedModel load(CaptionCheckpoint.Contents c, BackendOptionsMixin b) {
        Backend be = Backends.create(b.backend, c.config(), b.options(42), LogLines.stderr());
        be.setParameters(c.params());
        FeatureProjection p = FeatureProjection.of(c.condition(), c.config(), c.features());
        p.setParameters(c.projection());
        return new ConditionedModel(be, p);
    }

    static void checkWidth(CaptionData.Features f, CaptionCheckpoint.Contents c, Path file) {
        if (f.width() != c.features())
            throw new UserError(
                    "features file " + file + " has " + f.width() + " features per image, the model " + c.features());
    }

    @Command(
            name = "train",
            mixinStandardHelpOptions = true,
            showDefaultValues = true,
            description = "Train a caption model; writes OUT/" + MODEL_FILE + " (the best by val loss).")
    static final class Train implements Callable<Integer> {
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
                description = "Continue the run in --out from its last whole epoch (same data and options; "
                        + "--epochs may be raised).")
        boolean resume;

        @Mixin
        BackendOptionsMixin backendOptions;

        @Override
        public Integer call() throws IOException {
            if (logEvery < 0) throw new IllegalArgumentException("--log-every must be >= 0, got " + logEvery);
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
            OptimizerKind kind = s.optimizer();
            Path resumeFile = out.resolve(CaptionResume.FILE);
            CaptionResume.Run run = new CaptionResume.Run(
                    cfg,
                    vocab,
                    f.width(),
                    kind,
                    Map.of(
                            "--batch", Integer.toString(batch),
                            "--condition", cond.id(),
                            "--seed", Long.toString(seed),
                            "--val-frac", Double.toString(valFrac)));
            CaptionResume.State from = null;
            if (resume) {
                from = CaptionResume.load(resumeFile, run);
                if (from.epoch() >= epochs)
                    throw new UserError("--resume: the run in " + out + " has done " + from.epoch() + " epochs; raise "
                            + "--epochs above that to train longer");
            }
            Consumer<String> log = LogLines.stderr();
            try (RunLock lock = CaptionRunDirectory.claim(out, from == null, log)) {
                Backend be = Backends.create(backendOptions.backend, cfg, backendOptions.options(seed), log);
                be.setParameters(Init.initialize(be.layout(), seed));
                FeatureProjection p = FeatureProjection.of(cond, cfg, f.width());
                p.initialize(seed + 1);
                if (from != null) {
                    be.setParameters(from.params());
                    p.setParameters(from.projection());
                }
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
                Map<String, String> extra =
                        Map.of("val_frac", Double.toString(valFrac), "split_seed", Long.toString(seed));
                Path file = out.resolve(MODEL_FILE);
                try (ConditionedModel m = new ConditionedModel(be, p);
                        CaptionBatches trainB = new CaptionBatches(be, vocab, tr, cond);
                        CaptionBatches valB =
                                new CaptionBatches(be, vocab, va.isEmpty() ? tr.subList(0, 0) : va, cond)) {
                    CaptionTrainer t = new CaptionTrainer(m, f, s);
                    double[] best = {Double.POSITIVE_INFINITY};
                    if (from != null) {
                        t.restore(from.iteration(), from.modelSlots(), from.projectionSlots());
                        best[0] = from.best();
                        System.out.printf(
                                Locale.ROOT,
                                "resuming after epoch %d (iteration %d)%n",
                                from.epoch(),
                                from.iteration());
                    }
                    long start = System.nanoTime();
                    try (CaptionMetrics metrics = new CaptionMetrics(out, from == null ? -1 : from.iteration())) {
                        t.train(
                                trainB,
                                valB,
                                new CaptionTrainer.Listener() {
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
                                        } catch (IOException ex) {
                                            throw cannotWrite(out, ex);
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
                                        try {
                                            metrics.validation(e.iteration(), e.epoch(), e.valLoss());
                                            double score = Double.isNaN(e.valLoss()) ? e.trainLoss() : e.valLoss();
                                            if (score < best[0]) {
                                                best[0] = score;
                                                CaptionCheckpoint.save(
                                                        file,
                                                        cfg,
                                                        vocab,
                                                        be.getParameters(),
                                                        p,
                                                        e.iteration(),
                                                        e.valLoss(),
                                                        extra);
                                            }
                                            CaptionResume.save(
                                                    resumeFile,
                                                    run,
                                                    new CaptionResume.State(
                                                            e.epoch(),
                                                            e.iteration(),
                                                            best[0],
                                                            be.getParameters(),
                                                            p.parameters(),
                                                            be.getOptimizerState(),
                                                            t.projectionSlots()));
                                        } catch (IOException ex) {
                                            throw cannotWrite(out, ex);
                                        }
                                    }
                                },
                                from == null ? 0 : from.epoch());
                    } catch (IOException ex) {
                        throw cannotWrite(out, ex);
                    }
                }
                System.out.println("wrote " + file);
                return 0;
            }
        }
    }

    /** A failed write of a caption run's files: the run stops there (its files so far stay whole). */
    private static UserError cannotWrite(Path out, IOException e) {
        return new UserError("cannot write in " + out + ": " + IoErrors.reason(e), e);
    }

    private static int countTrue(boolean[] a) {
        int n = 0;
        for (boolean b : a) if (b) n++;
        return n;
    }

    @Command(
            name = "sample",
            mixinStandardHelpOptions = true,
            showDefaultValues = true,
            description = "Write a caption for one image.")
    static final class Sample implements Callable<Integer> {
        @Option(names = "--checkpoint", required = true, description = "Model file or training output directory.")
        Path checkpoint;

        @Option(
                names = "--features",
                required = true,
                description = "Safetensors file with one [N, F] float32 tensor, F as in training.")
        Path features;

        @Option(names = "--image", required = true, description = "Row of the features file.")
        Integer image;

        @Option(names = "--beam", defaultValue = "0", description = "Beam width (0: no beam search).")
        int beam;

        @Option(names = "--temperature", defaultValue = "0", description = "0: greedy; else sample at it.")
        double temperature;

        @Option(names = "--max-length", defaultValue = "100", description = "Longest caption written, in characters.")
        int maxLength;

        @Option(names = "--seed", defaultValue = "42", description = "Seed of the sampling (with --temperature).")
        long seed;

        @Mixin
        BackendOptionsMixin backendOptions;

        @Override
        public Integer call() {
            CaptionCheckpoint.Contents c = CaptionCheckpoint.load(modelFile(checkpoint));
            CaptionData.Features f = CaptionData.readFeatures(features);
            checkWidth(f, c, features);
            if (image < 0 || image >= f.count())
                throw new UserError("--image " + image + " is outside the " + f.count() + " feature rows (0.."
                        + (f.count() - 1) + ")");
            if (beam < 0) throw new IllegalArgumentException("--beam must be >= 0, got " + beam);
            try (ConditionedModel m = load(c, backendOptions)) {
                CaptionSampler s = new CaptionSampler(m, maxLength);
                double[] feat = f.rows(new int[] {image});
                int[] ids = beam > 0 ? s.beam(feat, beam) : s.sample(feat, temperature, new SplittableRandom(seed));
                System.out.println(c.vocab().decode(ids));
            }
            return 0;
        }
    }

    @Command(
            name = "eval",
            mixinStandardHelpOptions = true,
            showDefaultValues = true,
            description =
                    "Loss per character and BLEU-4 (and exact-match rate) of the model's captions on held-out images.")
    static final class Eval implements Callable<Integer> {
        @Option(names = "--checkpoint", required = true, description = "Model file or training output directory.")
        Path checkpoint;

        @Option(
                names = "--features",
                required = true,
                description = "Safetensors file with one [N, F] float32 tensor, F as in training.")
        Path features;

        @Option(
                names = "--captions",
                required = true,
                description = "JSON lines {\"image\": i, \"caption\": \"...\"}: the references.")
        Path captions;

        @Option(
                names = "--split",
                defaultValue = "val",
                description = "val (the training run's held-out images) | all.")
        String split;

        @Option(names = "--beam", defaultValue = "1", description = "Beam width of the generated captions (1: greedy).")
        int beam;

        @Option(names = "--max-length", defaultValue = "100", description = "Longest caption written, in characters.")
        int maxLength;

        @Mixin
        BackendOptionsMixin backendOptions;

        @Override
        public Integer call() {
            if (!split.equals("val") && !split.equals("all"))
                throw new IllegalArgumentException("--split must be val or all, got " + split);
            if (beam < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + beam);
            CaptionCheckpoint.Contents c = CaptionCheckpoint.load(modelFile(checkpoint));
            CaptionData.Features f = CaptionData.readFeatures(features);
            checkWidth(f, c, features);
            List<CaptionData.Caption> all = CaptionData.readCaptions(captions, f.count());
            List<CaptionData.Caption> sel = all;
            if (split.equals("val")) {
                double frac = Double.parseDouble(c.metadata().getOrDefault("val_frac", "0.1"));
                long seed = Long.parseLong(c.metadata().getOrDefault("split_seed", "42"));
                sel = CaptionData.select(all, CaptionData.validationImages(all, f.count(), frac, seed), true);
                if (sel.isEmpty()) throw new UserError("the training run held out no images; use --split all");
            }
            try (ConditionedModel m = load(c, backendOptions);
                    CaptionBatches data = new CaptionBatches(m.backend(), c.vocab(), sel, c.condition())) {
                double loss = CaptionTrainer.loss(m, f, data, 32);
                Quality q = quality(m, c.vocab(), f, sel, beam, maxLength);
                System.out.printf(
                        Locale.ROOT,
                        "loss %.4f nats/char  BLEU-4 %.4f  exact match %.1f%% (%d images, %d captions)%n",
                        loss,
                        q.bleu4(),
                        100 * q.exactMatch(),
                        q.images(),
                        sel.size());
            }
            return 0;
        }
    }

    /** BLEU-4 and exact-match rate of generated captions, one per image, against every reference of it. */
    record Quality(double bleu4, double exactMatch, int images, Map<Integer, String> generated) {}

    static Quality quality(
            ConditionedModel m,
            CaptionVocab vocab,
            CaptionData.Features f,
            List<CaptionData.Caption> refs,
            int beam,
            int maxLength) {
        Map<Integer, List<String>> byImage = new TreeMap<>();
        for (CaptionData.Caption c : refs)
            byImage.computeIfAbsent(c.image(), k -> new ArrayList<>()).add(c.text());
        CaptionSampler s = new CaptionSampler(m, maxLength);
        List<String> hyps = new ArrayList<>();
        List<List<String>> rs = new ArrayList<>();
        Map<Integer, String> generated = new TreeMap<>();
        int exact = 0;
        for (Map.Entry<Integer, List<String>> e : byImage.entrySet()) {
            String h = vocab.decode(s.beam(f.rows(new int[] {e.getKey()}), beam));
            generated.put(e.getKey(), h);
            hyps.add(h);
            rs.add(e.getValue());
            if (e.getValue().contains(h)) exact++;
        }
        return new Quality(Bleu.bleu4(hyps, rs), (double) exact / byImage.size(), byImage.size(), generated);
    }
}
