package org.charrnn.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.charrnn.backend.Backend;
import org.charrnn.backend.Backends;
import org.charrnn.caption.Bleu;
import org.charrnn.caption.CaptionBatches;
import org.charrnn.caption.CaptionCheckpoint;
import org.charrnn.caption.CaptionData;
import org.charrnn.caption.CaptionSampler;
import org.charrnn.caption.CaptionTrainer;
import org.charrnn.caption.CaptionVocab;
import org.charrnn.caption.ConditionedModel;
import org.charrnn.caption.FeatureProjection;
import org.charrnn.io.RunFiles;
import org.charrnn.util.AtomicFile;
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
        subcommands = {CaptionTrain.class, CaptionCommand.Sample.class, CaptionCommand.Eval.class, CaptionDemo.class})
public final class CaptionCommand {
    static final String MODEL_FILE = RunFiles.CAPTION_MODEL;

    /** A model file, or a directory holding {@value #MODEL_FILE}. */
    static Path modelFile(Path p) {
        Path f = Files.isDirectory(p) ? p.resolve(MODEL_FILE) : p;
        if (!Files.exists(f)) throw new UserError("caption model " + f + " does not exist");
        if (!Files.isRegularFile(f)) throw new UserError("caption model " + f + " " + AtomicFile.SPECIAL);
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

        @Option(
                names = "--temperature",
                defaultValue = "0",
                description = "0: greedy; else sample at it (not with --beam).")
        double temperature;

        @Option(names = "--max-length", defaultValue = "100", description = "Longest caption written, in characters.")
        int maxLength;

        @Option(names = "--seed", defaultValue = "42", description = "Seed of the sampling (with --temperature).")
        long seed;

        @Mixin
        BackendOptionsMixin backendOptions;

        @Override
        public Integer call() {
            // the options first, before the model and the features are read
            if (beam < 0) throw new IllegalArgumentException("--beam must be >= 0, got " + beam);
            if (beam > 0) CaptionSampler.checkBeam(beam);
            CaptionSampler.checkMaxLength(maxLength);
            CaptionSampler.checkTemperature(temperature);
            // beam search draws nothing: a temperature given with it would be ignored
            if (beam > 0 && temperature != 0)
                throw new IllegalArgumentException("--beam searches for the most likely caption; --temperature "
                        + temperature + " does not apply with it");
            CaptionCheckpoint.Contents c = CaptionCheckpoint.load(modelFile(checkpoint));
            CaptionData.Features f = CaptionData.readFeatures(features);
            checkWidth(f, c, features);
            if (image < 0 || image >= f.count())
                throw new UserError("--image " + image + " is outside the " + f.count() + " feature rows (0.."
                        + (f.count() - 1) + ")");
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
            CaptionSampler.checkBeam(beam);
            CaptionSampler.checkMaxLength(maxLength); // before the loss pass, not after it
            CaptionCheckpoint.Contents c = CaptionCheckpoint.load(modelFile(checkpoint));
            CaptionData.Features f = CaptionData.readFeatures(features);
            checkWidth(f, c, features);
            List<CaptionData.Caption> all = CaptionData.readCaptions(captions, f.count());
            List<CaptionData.Caption> sel = all;
            if (split.equals("val")) {
                double frac;
                long seed;
                try {
                    frac = Double.parseDouble(c.metadata().getOrDefault("val_frac", "0.1"));
                    seed = Long.parseLong(c.metadata().getOrDefault("split_seed", "42"));
                } catch (NumberFormatException e) {
                    throw new UserError(checkpoint + ": corrupt caption model: bad val_frac or split_seed (its "
                            + "held-out images are unknown); use --split all");
                }
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
