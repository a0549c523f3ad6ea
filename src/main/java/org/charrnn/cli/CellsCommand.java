package org.charrnn.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.charrnn.backend.Backend;
import org.charrnn.backend.Backends;
import org.charrnn.io.Checkpoint;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.LogLines;
import org.charrnn.util.UserError;
import org.charrnn.viz.CellsPage;
import org.charrnn.viz.TextFeatures;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code charrnn cells}: a page of the text shaded by cell activations, and the cells that track features of it. */
@Command(
        name = "cells",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = {
            "Run a model over a text and write a self-contained HTML page shading each character by a cell's "
                    + "activation (tanh(c) for LSTM, h for GRU/RNN; blue negative, red positive), with the cells that correlate "
                    + "best with features of the text: for prose and verse quotes, brackets, line position, speaker lines, "
                    + "speeches and capitalised lines; for code comments, strings, nesting depth, if conditions, indentation "
                    + "and line position. Features that do not vary over the text are left out.",
            "Layers and cells count from 0."
        })
public final class CellsCommand implements Callable<Integer> {
    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(
            names = "--checkpoint",
            required = true,
            description = "A .safetensors checkpoint, or a run directory (its best checkpoint).")
    Path checkpoint;

    @Option(names = "--text", required = true, description = "The text to run the model over (UTF-8).")
    Path text;

    @Option(names = "--out", defaultValue = "cells.html", description = "The HTML page to write.")
    Path out;

    @Option(names = "--layer", description = "Layer of the cells shown by --cells or --top (default: the last layer).")
    Integer layer;

    @Option(
            names = "--cells",
            split = ",",
            paramLabel = "K",
            description = "Show these cells of --layer (comma-separated indices).")
    List<Integer> cells;

    @Option(
            names = "--top",
            description =
                    "Show the N cells of --layer whose activation varies most over the text (default 5 without --cells).")
    Integer top;

    @Option(
            names = "--max-chars",
            defaultValue = "5000",
            description = "Characters of the text to use (from its start).")
    int maxChars;

    @Option(
            names = "--features",
            defaultValue = "auto",
            description = "Features to search cells for: auto (those that suit the text, prose or code), all, "
                    + "or a comma-separated list of quote, comment, line-position, depth, if-condition, string, indent, "
                    + "brackets, speaker, speech-line, capital-line.")
    String features;

    @Option(names = "--per-feature", defaultValue = "3", description = "Best cells listed per feature (0 = no search).")
    int perFeature;

    @Override
    public Integer call() {
        if (cells != null && top != null) throw new UserError("--cells and --top exclude each other; give one");
        // with no search, the features to search for would be read and dropped
        if (perFeature == 0 && !features.trim().equalsIgnoreCase("auto"))
            throw new UserError("--features " + features + " names features to search cells for; --per-feature 0 "
                    + "searches none");
        if (!features.trim().equalsIgnoreCase("auto")) TextFeatures.Feature.parseList(features); // fail early
        if (Files.isDirectory(text)) throw new UserError("--text " + text + " is a directory; give a text file");
        if (!Files.exists(text)) throw new UserError("text file not found: " + text);
        if (!Files.isRegularFile(text)) throw new UserError("--text " + text + " " + AtomicFile.SPECIAL);
        AtomicFile.requireFileTarget("--out", out);
        Checkpoint.Model model = Checkpoint.loadModel(Checkpoint.resolveModel(checkpoint));
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(text);
        } catch (IOException e) {
            throw new UserError("cannot read " + text + ": " + IoErrors.reason(e), e);
        }
        CellsPage.Encoded enc = CellsPage.encode(model.vocabulary(), bytes, maxChars);
        if (enc.length() == 0)
            throw new UserError(text + " has no characters of the model's vocabulary"
                    + (enc.skipped() > 0 ? " (" + enc.skipped() + " skipped)" : ""));
        if (enc.skipped() > 0)
            System.err.println("skipped " + enc.skipped() + " character" + (enc.skipped() == 1 ? "" : "s") + " of "
                    + text + " not in the model's vocabulary");
        int l = layer != null ? layer : model.config().layers() - 1;
        CellsPage.Selection sel;
        if (cells != null) {
            int[] ks = new int[cells.size()];
            for (int i = 0; i < ks.length; i++) ks[i] = cells.get(i);
            sel = CellsPage.Selection.cells(l, ks);
        } else {
            sel = CellsPage.Selection.top(l, top != null ? top : 5);
        }
        CellsPage.check(model, enc, sel, perFeature); // bad requests fail before a backend starts
        List<TextFeatures.Feature> fs = TextFeatures.request(features, enc.symbols());
        CellsPage.Analysis a;
        try (Backend backend = Backends.create(
                backendOptions.backend,
                model.config().withDropout(0),
                backendOptions.options(0),
                new Backends.Workload(1, 1),
                LogLines.stderr())) {
            a = CellsPage.analyse(model, backend, enc, sel, fs, perFeature);
        }
        if (a.searched())
            System.err.println(text.getFileName() + " looks like " + a.kind().description()
                    + "; features: "
                    + (a.features().isEmpty()
                            ? "none varies"
                            : CellsPage.ids(a.features().stream()
                                    .map(CellsPage.FeatureResult::feature)
                                    .toList()))
                    + (a.constant().isEmpty()
                            ? ""
                            : " (constant here, left out: " + CellsPage.ids(a.constant()) + ")"));
        CellsPage.write(out, a, text.getFileName().toString());
        List<String> best = new ArrayList<>();
        for (CellsPage.FeatureResult f : a.features())
            if (!f.hits().isEmpty())
                best.add(String.format(
                        java.util.Locale.ROOT,
                        "%s: layer %d cell %d (r %+.2f)",
                        f.feature().id(),
                        f.hits().get(0).cell().layer(),
                        f.hits().get(0).cell().index(),
                        f.hits().get(0).r()));
        System.err.println("wrote " + out + " (" + enc.length() + " characters"
                + (best.isEmpty() ? "" : "; " + String.join(", ", best)) + ")");
        return 0;
    }
}
