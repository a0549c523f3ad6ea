package org.charrnn.viz;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.data.Encoding;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.UserError;
import org.charrnn.viz.CellSearch.Cell;
import org.charrnn.viz.CellSearch.Hit;
import org.charrnn.viz.TextFeatures.Feature;

/**
 * The {@code charrnn cells} page: a text shaded character by character by the activation of chosen
 * cells (tanh(c) for LSTM, h for GRU and RNN; blue negative, red positive, as in Karpathy et al.
 * 2016) and the cells that correlate best with features of the text. Every character is its own
 * element {@code <span class="c" data-i="t" data-v="0.123">}; hovering one shows its value and the
 * model's five most likely next characters. The page is self-contained (inline CSS and JS).
 *
 * <pre>{@code
 * Checkpoint.Model m = Checkpoint.loadModel(file);
 * CellsPage.Encoded e = CellsPage.encode(m.vocabulary(), Files.readAllBytes(text), 5000);
 * CellsPage.Analysis a = CellsPage.analyse(m, e, CellsPage.Selection.top(m.config().layers() - 1, 5),
 *         List.of(TextFeatures.Feature.values()), 3);
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

    /** The search result for one feature: its values over the text and its best cells (empty when constant). */
    public record FeatureResult(Feature feature, double[] values, List<Hit> hits) {
        public boolean constant() {
            return !CellSearch.varies(values);
        }
    }

    /** Everything the page shows. */
    public record Analysis(
            Checkpoint.Model model, Encoded text, Trace trace, List<Cell> chosen, List<FeatureResult> features) {}

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
     * is 0, the {@code perFeature} best cells of all layers for each feature.
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
        if (perFeature > 0) {
            Map<Feature, double[]> values = TextFeatures.compute(text.symbols(), features);
            for (Map.Entry<Feature, double[]> e : values.entrySet()) {
                boolean varies = CellSearch.varies(e.getValue());
                List<Hit> hits = varies ? CellSearch.top(trace.cells(), H, e.getValue(), null, perFeature) : List.of();
                results.add(new FeatureResult(e.getKey(), e.getValue(), hits));
            }
        }
        return new Analysis(model, text, trace, chosen, results);
    }

    /** Writes the page atomically. */
    public static void write(Path out, Analysis a, String textName) {
        try {
            AtomicFile.writeString(out, render(a, textName));
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    // ====================================================================== HTML

    private static final String CSS = """
            body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em 2em;color:#222;background:#fff}
            h1{font-size:1.4em;margin:0 0 .3em} h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
            h3{font-size:.95em;margin:1em 0 .3em;font-weight:600} .meta{color:#555;font-size:.9em;margin:.2em 0}
            .text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;line-height:1.45;
              white-space:pre-wrap;word-break:break-all;border:1px solid #e3e3e3;padding:6px 8px;max-height:22em;overflow:auto}
            .c{cursor:default} .c:hover{outline:1px solid #000}
            .nl{color:#999} .ctl{color:#999}
            table{border-collapse:collapse;font-size:.9em} td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
            td.r{text-align:right;font-variant-numeric:tabular-nums}
            .legend{display:inline-block;width:220px;height:12px;vertical-align:middle;border:1px solid #ccc;
              background:linear-gradient(to right,#4040ff,#ffffff,#ff4040)}
            .note{color:#777;font-style:italic}
            #tip{position:absolute;display:none;background:#fffff4;border:1px solid #888;padding:4px 8px;font-size:12px;
              font-family:ui-monospace,Menlo,Consolas,monospace;box-shadow:2px 2px 6px rgba(0,0,0,.2);pointer-events:none;z-index:10}
            #tip table{font-size:12px} #tip td{padding:0 6px;border:0}
            """;

    private static final String JS = """
            (function(){
              var tip=document.getElementById('tip');
              function esc(s){return String(s).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;');}
              document.addEventListener('mouseover',function(e){
                var s=e.target.closest?e.target.closest('.c'):null;
                if(!s){tip.style.display='none';return;}
                var i=+s.getAttribute('data-i'),p=PRED[i]||[];
                var h='<b>'+esc(SYM[i])+'</b> (position '+i+')<br>activation '+s.getAttribute('data-v')+'<br>next:<table>';
                for(var k=0;k<p.length;k++)h+='<tr><td>'+esc(p[k][0])+'</td><td>'+(100*p[k][1]).toFixed(1)+'%</td></tr>';
                tip.innerHTML=h+'</table>';tip.style.display='block';
                tip.style.left=(e.pageX+14)+'px';tip.style.top=(e.pageY+16)+'px';
              });
            })();
            """;

    /** The page as a string. */
    public static String render(Analysis a, String textName) {
        Checkpoint.Model m = a.model();
        int H = m.config().hidden(), V = m.config().vocabSize(), T = a.text().length();
        Vocabulary vocab = m.vocabulary();
        String[] chars = new String[T];
        for (int t = 0; t < T; t++) chars[t] = charHtml(vocab, a.text().symbols()[t]);

        StringBuilder sb = new StringBuilder(1 << 16);
        String title = "cells: " + m.file().getFileName();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(Html.esc(title))
                .append("</title>\n<style>")
                .append(CSS)
                .append("</style></head>\n<body>\n");
        sb.append("<h1>").append(Html.esc(title)).append("</h1>\n");
        String act = m.config().cell() == CellType.LSTM ? "tanh(c)" : "h";
        sb.append("<p class=\"meta\">")
                .append(Html.esc(m.config().describe()))
                .append(", iteration ")
                .append(m.info().iteration());
        if (!Double.isNaN(m.info().valLoss()))
            sb.append(String.format(
                    Locale.ROOT,
                    ", val loss %.4f (%.3f bits/char)",
                    m.info().valLoss(),
                    m.info().valLoss() / Math.log(2)));
        sb.append("</p>\n<p class=\"meta\">")
                .append(T)
                .append(" characters of ")
                .append(Html.esc(textName));
        if (a.text().truncated()) sb.append(" (truncated; see --max-chars)");
        if (a.text().skipped() > 0) sb.append(", ").append(a.text().skipped()).append(" not in the vocabulary skipped");
        sb.append("</p>\n<p class=\"meta\">Shading: the cell's ")
                .append(act)
                .append(
                        " after reading each character: <span class=\"legend\"></span> &minus;1 (blue) &hellip; 0 (white) &hellip; +1 (red). "
                                + "Hover a character for its value and the model's most likely next characters. Layers and cells count from 0.</p>\n");

        sb.append("<section id=\"chosen\"><h2>Chosen cells</h2>\n");
        if (a.chosen().isEmpty()) sb.append("<p class=\"note\">none</p>\n");
        for (Cell c : a.chosen()) block(sb, a, H, chars, c, c.toString(), "chosen-l" + c.layer() + "c" + c.index());
        sb.append("</section>\n");

        if (!a.features().isEmpty()) {
            sb.append(
                            "<section id=\"features\"><h2>Interpretable cells</h2>\n<p class=\"meta\">Pearson correlation r of each cell's ")
                    .append(act)
                    .append(
                            " with a feature of the text (after reading each character), over every cell of every layer; "
                                    + "strongest |r| first.</p>\n");
            sb.append(
                    "<table class=\"summary\"><tr><th>feature</th><th>rank</th><th>layer</th><th>cell</th><th>r</th></tr>\n");
            for (FeatureResult f : a.features()) {
                if (f.constant()) {
                    sb.append("<tr><td>")
                            .append(Html.esc(f.feature().id()))
                            .append("</td><td colspan=\"4\" class=\"note\">constant in this text</td></tr>\n");
                    continue;
                }
                for (int k = 0; k < f.hits().size(); k++) {
                    Hit h = f.hits().get(k);
                    sb.append("<tr><td>")
                            .append(k == 0 ? Html.esc(f.feature().id()) : "")
                            .append("</td><td class=\"r\">")
                            .append(k + 1)
                            .append("</td><td class=\"r\">")
                            .append(h.cell().layer())
                            .append("</td><td class=\"r\"><a href=\"#")
                            .append(anchor(f.feature(), h.cell()))
                            .append("\">")
                            .append(h.cell().index())
                            .append("</a></td><td class=\"r\">")
                            .append(String.format(Locale.ROOT, "%+.3f", h.r()))
                            .append("</td></tr>\n");
                }
            }
            sb.append("</table>\n");
            for (FeatureResult f : a.features()) {
                sb.append("<div class=\"feature\" data-feature=\"")
                        .append(f.feature().id())
                        .append("\"><h3>")
                        .append(Html.esc(f.feature().id()))
                        .append(": ")
                        .append(Html.esc(f.feature().description()))
                        .append("</h3>\n");
                if (f.constant())
                    sb.append(
                            "<p class=\"note\">This feature is constant over the text, so no cell can be correlated with it.</p>\n");
                for (Hit h : f.hits())
                    block(
                            sb,
                            a,
                            H,
                            chars,
                            h.cell(),
                            h.cell() + String.format(Locale.ROOT, ", r = %+.3f", h.r()),
                            anchor(f.feature(), h.cell()));
                sb.append("</div>\n");
            }
            sb.append("</section>\n");
        }

        sb.append("<div id=\"tip\"></div>\n<script>\n");
        sb.append("var SYM=").append(symbolsJson(vocab, a.text().symbols())).append(";\n");
        sb.append("var PRED=")
                .append(predictionsJson(vocab, a.trace().probs(), T, V, 5))
                .append(";\n");
        sb.append(JS).append("</script>\n</body></html>\n");
        return sb.toString();
    }

    private static String anchor(Feature f, Cell c) {
        return f.id() + "-l" + c.layer() + "c" + c.index();
    }

    private static void block(StringBuilder sb, Analysis a, int H, String[] chars, Cell c, String heading, String id) {
        double[] layer = a.trace().cells()[c.layer()];
        sb.append("<div class=\"block\" id=\"")
                .append(id)
                .append("\" data-layer=\"")
                .append(c.layer())
                .append("\" data-cell=\"")
                .append(c.index())
                .append("\"><h3>")
                .append(Html.esc(heading))
                .append("</h3><div class=\"text\">");
        for (int t = 0; t < chars.length; t++) {
            double v = layer[t * H + c.index()];
            sb.append("<span class=\"c\" data-i=\"")
                    .append(t)
                    .append("\" data-v=\"")
                    .append(String.format(Locale.ROOT, "%.3f", v))
                    .append("\" style=\"background:")
                    .append(colour(v))
                    .append("\">")
                    .append(chars[t])
                    .append("</span>");
            if (a.text().symbols()[t] == '\n') sb.append('\n');
        }
        sb.append("</div></div>\n");
    }

    /** Blue for -1, white for 0, red for +1 (clamped); at most 75% saturated so that the text stays legible. */
    static String colour(double v) {
        double x = Double.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
        int fade = (int) Math.round(255 * (1 - 0.75 * Math.abs(x)));
        int r = x >= 0 ? 255 : fade, b = x <= 0 ? 255 : fade;
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, fade, b);
    }

    /** The HTML shown for one symbol in the shaded text. */
    static String charHtml(Vocabulary vocab, int s) {
        boolean bytes = vocab.encoding() == Encoding.BYTES;
        if (s == '\n') return "<span class=\"nl\">\u21b5</span>";
        if (s == '\t') return "<span class=\"ctl\">\u21e5</span>";
        if (s == '\r') return "<span class=\"ctl\">\u240d</span>";
        if (s == ' ') return " ";
        if (bytes && s >= 0x80) return "<span class=\"ctl\">" + String.format(Locale.ROOT, "\\x%02X", s) + "</span>";
        if (invisible(s)) return "<span class=\"ctl\">\u00b7</span>";
        return Html.esc(new String(Character.toChars(s)));
    }

    private static boolean invisible(int cp) {
        int type = Character.getType(cp);
        return Character.isISOControl(cp)
                || type == Character.FORMAT
                || type == Character.UNASSIGNED
                || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR
                || type == Character.PRIVATE_USE
                || type == Character.SURROGATE
                || Character.isWhitespace(cp);
    }

    /** A readable label of a symbol in the tooltip: '␣' for space, '\n', 'U+200B', ... */
    private static String label(Vocabulary vocab, int index) {
        String d = vocab.display(index);
        return d.equals(" ") ? "\u2423" : d;
    }

    private static String symbolsJson(Vocabulary vocab, int[] symbols) {
        JsonArray arr = new JsonArray(symbols.length);
        for (int s : symbols) {
            int idx = vocab.exactIndexOf(s);
            if (idx >= 0) arr.add(label(vocab, idx));
            else if (vocab.encoding() == Encoding.BYTES) arr.add(String.format(Locale.ROOT, "\\x%02X", s));
            else arr.add(new String(Character.toChars(s)) + " (unknown)");
        }
        return new Gson().toJson(arr);
    }

    /** Per position the {@code k} most likely next symbols: {@code [[label, p], ...]}. */
    static String predictionsJson(Vocabulary vocab, double[] probs, int T, int V, int k) {
        JsonArray all = new JsonArray(T);
        int n = Math.min(k, V);
        int[] best = new int[n];
        for (int t = 0; t < T; t++) {
            int base = t * V;
            for (int i = 0; i < n; i++) { // k passes of a max search: cheap for large vocabularies
                int arg = -1;
                for (int j = 0; j < V; j++) {
                    boolean taken = false;
                    for (int q = 0; q < i; q++)
                        if (best[q] == j) {
                            taken = true;
                            break;
                        }
                    if (!taken && (arg < 0 || probs[base + j] > probs[base + arg])) arg = j;
                }
                best[i] = arg;
            }
            JsonArray top = new JsonArray(n);
            for (int i = 0; i < n; i++) {
                JsonArray e = new JsonArray(2);
                e.add(label(vocab, best[i]));
                e.add(Math.round(probs[base + best[i]] * 1e4) / 1e4);
                top.add(e);
            }
            all.add(top);
        }
        return Html.scriptSafe(new Gson().toJson(all));
    }
}
