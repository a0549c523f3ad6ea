package org.charrnn.viz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.data.Encoding;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;
import org.charrnn.viz.CellSearch.Cell;
import org.charrnn.viz.CellSearch.Hit;
import org.charrnn.viz.TextFeatures.Feature;

/**
 * The {@code charrnn cells} page: a text shaded character by character by the activation of chosen
 * cells (tanh(c) for LSTM, h for GRU and RNN; blue negative, red positive, as in Karpathy et al.
 * 2016) and the cells that correlate best with features of the text that vary over it (chosen to
 * suit the text: see {@link TextKind}). The page's script draws every character as its own element
 * {@code <span class="c" data-i="t" data-v="0.12">} from compact data ({@link CellsHtml});
 * hovering one shows its value and the model's five most likely next characters. The page is
 * self-contained (inline CSS and JS).
 *
 * <pre>{@code
 * Checkpoint.Model m = Checkpoint.loadModel(file);
 * CellsPage.Encoded e = CellsPage.encode(m.vocabulary(), Files.readAllBytes(text), 5000);
 * CellsPage.Analysis a = CellsPage.analyse(m, backend, e, CellsPage.Selection.top(m.config().layers() - 1, 5),
 *         TextFeatures.request("auto", e.symbols()), 3);
 * CellsPage.write(out, a, "my text");
 * }</pre>
 */
public final class CellsPage {
    private CellsPage() {}

    /**
     * A text as fed to the model: {@code symbols} the code points (or bytes) kept, {@code tokens}
     * their vocabulary indices, {@code skipped} the symbols left out because the vocabulary has
     * neither them nor an unknown symbol.
     */
    public record Encoded(int[] symbols, int[] tokens, int skipped, boolean truncated) {
        public int length() {
            return tokens.length;
        }
    }

    /** Which cells to show: explicit indices of one layer, or the {@code top} most active cells of it. */
    public record Selection(int layer, int[] cells, int top) {
        public static Selection cells(int layer, int... cells) {
            return new Selection(layer, cells.clone(), 0);
        }

        public static Selection top(int layer, int n) {
            return new Selection(layer, null, n);
        }
    }

    /** The search result for one feature that varies over the text: its values and its best cells. */
    public record FeatureResult(Feature feature, double[] values, List<Hit> hits) {}

    /**
     * Everything the page shows: {@code kind} what the text looks like; {@code features} the
     * features searched, {@code constant} those asked for but left out because they do not vary
     * over the text; {@code searched} false when no search was asked for ({@code --per-feature 0}).
     */
    public record Analysis(
            Checkpoint.Model model,
            Encoded text,
            Trace trace,
            List<Cell> chosen,
            TextKind kind,
            boolean searched,
            List<FeatureResult> features,
            List<Feature> constant) {}

    /** Maps text to vocabulary indices; at most {@code maxChars} symbols are kept. */
    public static Encoded encode(Vocabulary v, byte[] text, int maxChars) {
        if (maxChars < 1) throw new UserError("--max-chars must be at least 1, got " + maxChars);
        int[] in;
        if (v.encoding() == Encoding.BYTES) {
            in = new int[text.length];
            for (int i = 0; i < text.length; i++) in[i] = text[i] & 0xFF;
        } else {
            in = new String(text, StandardCharsets.UTF_8).codePoints().toArray();
        }
        int n = Math.min(in.length, maxChars);
        int[] symbols = new int[n], tokens = new int[n];
        int kept = 0, skipped = 0, i = 0;
        for (; i < in.length && kept < maxChars; i++) {
            int idx = v.indexOf(in[i]);
            if (idx < 0) {
                skipped++;
                continue;
            }
            symbols[kept] = in[i];
            tokens[kept] = idx;
            kept++;
        }
        return new Encoded(Arrays.copyOf(symbols, kept), Arrays.copyOf(tokens, kept), skipped, i < in.length);
    }

    /**
     * Checks the request against the model and text (one-line UserErrors) and returns the cells
     * {@code sel} names explicitly (empty for --top).
     */
    public static List<Cell> check(Checkpoint.Model model, Encoded text, Selection sel, int perFeature) {
        int L = model.config().layers(), H = model.config().hidden();
        if (text.length() == 0) throw new UserError("the text has no characters of the model's vocabulary");
        if (sel.layer() < 0 || sel.layer() >= L)
            throw new UserError("--layer " + sel.layer() + " is out of range: the model has " + L + " layer"
                    + (L == 1 ? "" : "s") + " (0.." + (L - 1) + ")");
        if (perFeature < 0) throw new UserError("--per-feature must be at least 0, got " + perFeature);
        List<Cell> chosen = new ArrayList<>();
        if (sel.cells() != null) {
            for (int c : sel.cells()) {
                if (c < 0 || c >= H)
                    throw new UserError("--cells: cell " + c + " is out of range: layers have " + H + " cells (0.."
                            + (H - 1) + ")");
                Cell cell = new Cell(sel.layer(), c);
                if (!chosen.contains(cell)) chosen.add(cell);
            }
        } else if (sel.top() < 0) {
            throw new UserError("--top must be at least 0, got " + sel.top());
        }
        return chosen;
    }

    /**
     * Runs the model on {@code backend} (one of the model's config; its parameters are set here)
     * over the text from a zero state, picks the cells of {@code sel} and, unless {@code perFeature}
     * is 0, the {@code perFeature} best cells of all layers for each of {@code features} that
     * varies over the text; those that do not are listed in {@link Analysis#constant}.
     */
    public static Analysis analyse(
            Checkpoint.Model model,
            Backend backend,
            Encoded text,
            Selection sel,
            List<Feature> features,
            int perFeature) {
        List<Cell> chosen = check(model, text, sel, perFeature);
        int H = model.config().hidden();
        Trace trace;
        backend.setParameters(model.params());
        try (RnnState state = backend.newState(1)) {
            trace = Trace.of(backend, state, text.tokens());
        }
        if (sel.cells() == null) chosen.addAll(CellSearch.mostActive(trace.cells(), H, sel.layer(), sel.top()));
        List<FeatureResult> results = new ArrayList<>();
        List<Feature> constant = new ArrayList<>();
        if (perFeature > 0) {
            Map<Feature, double[]> values = TextFeatures.compute(text.symbols(), features);
            for (Map.Entry<Feature, double[]> e : values.entrySet()) {
                if (!CellSearch.varies(e.getValue())) {
                    constant.add(e.getKey());
                    continue;
                }
                List<Hit> hits = CellSearch.top(trace.cells(), H, e.getValue(), null, perFeature);
                results.add(new FeatureResult(e.getKey(), e.getValue(), hits));
            }
        }
        return new Analysis(
                model, text, trace, chosen, TextKind.detect(text.symbols()), perFeature > 0, results, constant);
    }

    /** Feature ids as a comma-separated list, for the log and the page. */
    public static String ids(List<Feature> fs) {
        return String.join(", ", fs.stream().map(Feature::id).toList());
    }

    /** The page as a string. */
    public static String render(Analysis a, String textName) {
        return CellsHtml.render(a, textName);
    }

    /** Writes the page atomically. */
    public static void write(Path out, Analysis a, String textName) {
        try {
            AtomicFile.writeString(out, render(a, textName));
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + IoErrors.reason(e), e);
        }
    }
}
