package org.charrnn.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.charrnn.caption.CaptionCheckpoint;
import org.charrnn.caption.CaptionData;
import org.charrnn.caption.CaptionPage;
import org.charrnn.caption.CaptionSampler;
import org.charrnn.caption.Condition;
import org.charrnn.caption.ConditionedModel;
import org.charrnn.caption.SceneFeatures;
import org.charrnn.caption.Scenes;
import org.charrnn.io.Safetensors;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code charrnn caption demo}: a synthetic image set ({@link Scenes}), its features from a fixed
 * extractor standing in for a CNN ({@link SceneFeatures}), {@code caption train} on them, then the
 * held-out images' BLEU-4 and exact-match rate and a page of their captions.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Generate a synthetic image set of coloured shapes, train a caption model on it (offline), "
                + "print the held-out BLEU-4 and exact-match rate and write OUT/" + CaptionDemo.PAGE + ".")
final class CaptionDemo implements Callable<Integer> {
    static final String PAGE = "captions.html", FEATURES = "features.safetensors", CAPTIONS = "captions.jsonl";

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Option(names = "--images", defaultValue = "2000", description = "Images to generate.")
    int images;

    @Option(names = "--max-shapes", defaultValue = "2", description = "Shapes per image: 1 up to this (1..3).")
    int maxShapes;

    @Option(names = "--val-frac", defaultValue = "0.1", description = "Fraction of the images held out.")
    double valFrac;

    @Option(
            names = "--model",
            defaultValue = "lstm",
            description = "lstm | gru | rnn | mut1 | mut2 | mut3 (mut1 and mut2 need --embedding = --hidden).")
    String model;

    @Option(names = "--condition", defaultValue = "state", description = "How the image enters: state | input.")
    String condition;

    @Option(names = "--hidden", defaultValue = "128", description = "Hidden size H.")
    int hidden;

    @Option(names = "--embedding", defaultValue = "16", description = "Embedding size E.")
    int embedding;

    @Option(names = "--batch", defaultValue = "32", description = "Captions per batch.")
    int batch;

    @Option(names = "--epochs", defaultValue = "30", description = "Passes over the training captions.")
    int epochs;

    @Option(names = "--lr", defaultValue = "5e-3", description = "Adam learning rate.")
    double lr;

    @Option(names = "--beam", defaultValue = "1", description = "Beam width of the held-out captions (1: greedy).")
    int beam;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the images, the split and the training.")
    long seed;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Override
    public Integer call() throws IOException {
        CaptionSampler.checkBeam(beam);
        Condition.parse(condition);
        CaptionRunDirectory.refuseTaken(out, "give a new --out directory");
        long start = System.nanoTime();
        List<Scenes.Scene> scenes = Scenes.generate(images, maxShapes, seed);
        CaptionRunDirectory.create(out);
        Path features = out.resolve(FEATURES), captions = out.resolve(CAPTIONS);
        writeData(scenes, features, captions);
        System.out.printf(
                Locale.ROOT,
                "demo: %d synthetic %dx%d images of 1..%d shapes, %d features each; wrote %s and %s%n",
                scenes.size(),
                Scenes.SIZE,
                Scenes.SIZE,
                maxShapes,
                SceneFeatures.WIDTH,
                features,
                captions);
        train(features, captions);
        double trainSeconds = (System.nanoTime() - start) / 1e9;

        CaptionCheckpoint.Contents c = CaptionCheckpoint.load(out.resolve(CaptionCommand.MODEL_FILE));
        CaptionData.Features f = CaptionData.readFeatures(features);
        List<CaptionData.Caption> all = CaptionData.readCaptions(captions, f.count());
        List<CaptionData.Caption> held =
                CaptionData.select(all, CaptionData.validationImages(all, f.count(), valFrac, seed), true);
        if (held.isEmpty()) throw new UserError("no held-out images: raise --images or --val-frac");
        CaptionCommand.Quality q;
        try (ConditionedModel m = CaptionCommand.load(c, backendOptions)) {
            q = CaptionCommand.quality(m, c.vocab(), f, held, beam, 100);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String result = String.format(
                Locale.ROOT,
                "held-out: BLEU-4 %.4f  exact match %.1f%% (%d images, %d captions); trained in %.0f s, %.0f s in all",
                q.bleu4(),
                100 * q.exactMatch(),
                q.images(),
                held.size(),
                trainSeconds,
                seconds);
        System.out.println(result);

        Path page = writePage(scenes, q, result, all.size());
        System.out.println("wrote " + page);
        return 0;
    }

    /** {@code caption train} on the demo's files into {@link #out}, with the demo's settings. */
    private void train(Path features, Path captions) throws IOException {
        CaptionTrain train = new CaptionTrain();
        new CommandLine(train)
                .parseArgs(
                        "--features", features.toString(),
                        "--captions", captions.toString(),
                        "--out", out.toString(),
                        "--val-frac", Double.toString(valFrac),
                        "--model", model,
                        "--condition", condition,
                        "--hidden", Integer.toString(hidden),
                        "--embedding", Integer.toString(embedding),
                        "--batch", Integer.toString(batch),
                        "--epochs", Integer.toString(epochs),
                        "--lr", Double.toString(lr),
                        "--seed", Long.toString(seed),
                        "--backend", backendOptions.backend,
                        "--device", Integer.toString(backendOptions.device),
                        "--precision", backendOptions.precision,
                        "--threads", Integer.toString(backendOptions.threads),
                        "--rnn-kernel", backendOptions.rnnKernel);
        train.call();
    }

    /** The page of the held-out images with their generated and reference captions; returns its path. */
    private Path writePage(List<Scenes.Scene> scenes, CaptionCommand.Quality q, String result, int captions)
            throws IOException {
        List<CaptionPage.Entry> entries = new ArrayList<>();
        for (Map.Entry<Integer, String> e : q.generated().entrySet()) {
            int i = e.getKey();
            entries.add(new CaptionPage.Entry(
                    i, scenes.get(i).pixels(), e.getValue(), scenes.get(i).captions()));
        }
        String settings = String.format(
                Locale.ROOT,
                "model: %s, 1 layer, hidden %d, embedding %d, image as %s; %d epochs, batch %d, lr %s, seed %d; %s",
                model.toUpperCase(Locale.ROOT),
                hidden,
                embedding,
                condition.equals("input") ? "the first input" : "the initial state",
                epochs,
                batch,
                Double.toString(lr),
                seed,
                beam == 1 ? "greedy captions" : "beam " + beam);
        String note = "The images are synthetic " + Scenes.SIZE + "x" + Scenes.SIZE + " scenes. Their feature "
                + "vectors come from a fixed extractor that stands in for a CNN: for each third of the image, "
                + "colour histograms and the bounding box of its shape (fill ratio, corners, width and height), "
                + "computed from the pixels alone. A caption in green equals one of the references; one in red "
                + "differs from all.";
        Path page = out.resolve(PAGE);
        AtomicFile.writeString(
                page,
                CaptionPage.html(
                        "charrnn caption demo: held-out images",
                        List.of(result, settings, scenes.size() + " images, " + captions + " captions"),
                        note,
                        entries));
        return page;
    }

    /** The features file ([N, F] float32) and the captions file (every caption of every scene). */
    static void writeData(List<Scenes.Scene> scenes, Path features, Path captions) throws IOException {
        int n = scenes.size(), w = SceneFeatures.WIDTH;
        double[] v = new double[n * w];
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < n; i++) {
            System.arraycopy(SceneFeatures.extract(scenes.get(i).pixels()), 0, v, i * w, w);
            for (String cap : scenes.get(i).captions()) {
                JsonObject o = new JsonObject();
                o.addProperty("image", i);
                o.addProperty("caption", cap);
                lines.append(o).append('\n');
            }
        }
        Safetensors.write(
                features,
                List.of(new Safetensors.Tensor("features", Safetensors.DType.F32, new long[] {n, w}, v)),
                Map.of("extractor", "charrnn caption demo: per-third colour histograms and bounding-box statistics"));
        Files.writeString(captions, lines, StandardCharsets.UTF_8);
    }
}
