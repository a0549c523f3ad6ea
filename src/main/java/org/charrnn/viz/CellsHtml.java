package org.charrnn.viz;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.charrnn.data.Encoding;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.viz.CellSearch.Cell;
import org.charrnn.viz.CellSearch.Hit;
import org.charrnn.viz.CellsPage.Analysis;
import org.charrnn.viz.CellsPage.FeatureResult;
import org.charrnn.viz.TextFeatures.Feature;

/**
 * The HTML of the {@link CellsPage}, kept small: the text, its shading and the hover data are
 * compact arrays that the page's script turns into one shaded element per character.
 *
 * <ul>
 *   <li>{@code D.sym}: each distinct symbol of the text once, as {@code [shown, class, label]};
 *       {@code D.si} the text as indices into it;
 *   <li>per shaded block, {@code data-a} on its {@code .text}: the cell's activation after each
 *       character quantized to a signed byte ({@code round(127 v)}, so within 0.004 of the value);
 *       {@code D.pal} the colour of each of the 255 levels;
 *   <li>{@code D.vocab}: the tooltip label of each vocabulary symbol; {@code D.pred}: per character
 *       the {@code D.k} likeliest next symbols' indices, then their probabilities in whole percent.
 * </ul>
 *
 * Index arrays hold one byte per index, or two (little-endian) where a table has more than 256
 * entries ({@code D.siw}, {@code D.pw}); byte arrays are base64. 5,000 characters shaded for 17
 * cells make a page of about 200 kB.
 */
final class CellsHtml {
    private CellsHtml() {}

    /** Next symbols listed per character. */
    static final int TOP_K = 5;

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
              function bytes(b){var s=atob(b),a=new Uint8Array(s.length);for(var i=0;i<s.length;i++)a[i]=s.charCodeAt(i);return a;}
              function at(a,w,i){return w===2?a[2*i]|a[2*i+1]<<8:a[i];}
              function esc(s){return String(s).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;');}
              var si=bytes(D.si),pred=bytes(D.pred),K=D.k,per=K*(D.pw+1),blocks=document.querySelectorAll('.text[data-a]');
              for(var b=0;b<blocks.length;b++){
                var el=blocks[b],a=bytes(el.getAttribute('data-a')),f=document.createDocumentFragment();
                for(var t=0;t<a.length;t++){
                  var g=D.sym[at(si,D.siw,t)],q=a[t]<<24>>24,s=document.createElement('span');
                  s.className=g[1]?'c '+g[1]:'c';s.textContent=g[0];s.style.background=D.pal[q+127];
                  s.setAttribute('data-i',t);s.setAttribute('data-v',(q/127).toFixed(2));f.appendChild(s);
                  if(g[1]==='nl')f.appendChild(document.createTextNode('\\n'));
                }
                el.appendChild(f);
              }
              var tip=document.getElementById('tip');
              document.addEventListener('mouseover',function(e){
                var s=e.target.closest?e.target.closest('.c'):null;
                if(!s){tip.style.display='none';return;}
                var i=+s.getAttribute('data-i'),o=i*per;
                var h='<b>'+esc(D.sym[at(si,D.siw,i)][2])+'</b> (position '+i+')<br>activation '+s.getAttribute('data-v')+'<br>next:<table>';
                for(var k=0;k<K;k++){var p=pred[o+K*D.pw+k];
                  h+='<tr><td>'+esc(D.vocab[at(pred.subarray(o),D.pw,k)])+'</td><td>'+(p?p+'%':'&lt;1%')+'</td></tr>';}
                tip.innerHTML=h+'</table>';tip.style.display='block';
                tip.style.left=(e.pageX+14)+'px';tip.style.top=(e.pageY+16)+'px';
              });
            })();
            """;

    /** The page as a string. */
    static String render(Analysis a, String textName) {
        Checkpoint.Model m = a.model();
        int H = m.config().hidden(), T = a.text().length();
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
                                + "Hover a character for its value and the model's most likely next characters. Layers and cells count from 0.</p>\n")
                .append("<noscript><p class=\"note\">The shaded text is drawn by this page's script: "
                        + "allow JavaScript to see it.</p></noscript>\n");

        sb.append("<section id=\"chosen\"><h2>Chosen cells</h2>\n");
        if (a.chosen().isEmpty()) sb.append("<p class=\"note\">none</p>\n");
        for (Cell c : a.chosen()) block(sb, a, H, c, c.toString(), "chosen-l" + c.layer() + "c" + c.index());
        sb.append("</section>\n");
        if (a.searched()) features(sb, a, H, act);

        sb.append("<div id=\"tip\"></div>\n<script>\nvar D=")
                .append(Html.scriptSafe(new Gson().toJson(data(a))))
                .append(";\n")
                .append(JS)
                .append("</script>\n</body></html>\n");
        return sb.toString();
    }

    private static void features(StringBuilder sb, Analysis a, int H, String act) {
        sb.append(
                        "<section id=\"features\"><h2>Interpretable cells</h2>\n<p class=\"meta\" id=\"kind\">The text looks like ")
                .append(Html.esc(a.kind().description()))
                .append(". Features searched: ")
                .append(Html.esc(CellsPage.ids(
                        a.features().stream().map(FeatureResult::feature).toList())));
        if (!a.constant().isEmpty())
            sb.append("; left out, being constant in this text: ").append(Html.esc(CellsPage.ids(a.constant())));
        sb.append(".</p>\n");
        if (a.features().isEmpty()) {
            sb.append(
                            "<p class=\"note\">No feature varies over this text, so no cell can be correlated with one.</p>\n")
                    .append("</section>\n");
            return;
        }
        sb.append("<p class=\"meta\">Pearson correlation r of each cell's ")
                .append(act)
                .append(" with a feature of the text (after reading each character), over every cell of every layer; "
                        + "strongest |r| first.</p>\n");
        sb.append(
                "<table class=\"summary\"><tr><th>feature</th><th>rank</th><th>layer</th><th>cell</th><th>r</th></tr>\n");
        for (FeatureResult f : a.features()) {
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
            for (Hit h : f.hits())
                block(
                        sb,
                        a,
                        H,
                        h.cell(),
                        h.cell() + String.format(Locale.ROOT, ", r = %+.3f", h.r()),
                        anchor(f.feature(), h.cell()));
            sb.append("</div>\n");
        }
        sb.append("</section>\n");
    }

    private static String anchor(Feature f, Cell c) {
        return f.id() + "-l" + c.layer() + "c" + c.index();
    }

    /** A shaded block: its activations in {@code data-a}, the characters drawn by the script. */
    private static void block(StringBuilder sb, Analysis a, int H, Cell c, String heading, String id) {
        double[] layer = a.trace().cells()[c.layer()];
        int T = a.text().length();
        byte[] q = new byte[T];
        for (int t = 0; t < T; t++) q[t] = quantize(layer[t * H + c.index()]);
        sb.append("<div class=\"block\" id=\"")
                .append(id)
                .append("\" data-layer=\"")
                .append(c.layer())
                .append("\" data-cell=\"")
                .append(c.index())
                .append("\"><h3>")
                .append(Html.esc(heading))
                .append("</h3><div class=\"text\" data-a=\"")
                .append(Base64.getEncoder().encodeToString(q))
                .append("\"></div></div>\n");
    }

    /** An activation as a signed byte: {@code 127 v} rounded half away from 0, v clamped to [-1, 1] (NaN as 0). */
    static byte quantize(double v) {
        double x = Double.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
        return (byte) (Math.signum(x) * Math.round(127 * Math.abs(x)));
    }

    /** Blue for -1, white for 0, red for +1 (clamped); at most 75% saturated so that the text stays legible. */
    static String colour(double v) {
        double x = Double.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
        int fade = (int) Math.round(255 * (1 - 0.75 * Math.abs(x)));
        int r = x >= 0 ? 255 : fade, b = x <= 0 ? 255 : fade;
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, fade, b);
    }

    /** How one symbol is shown in the shaded text: its text and a class ("nl", "ctl" or ""). */
    record Glyph(String text, String cls) {}

    static Glyph glyph(Vocabulary vocab, int s) {
        boolean bytes = vocab.encoding() == Encoding.BYTES;
        if (s == '\n') return new Glyph("\u21b5", "nl");
        if (s == '\t') return new Glyph("\u21e5", "ctl");
        if (s == '\r') return new Glyph("\u240d", "ctl");
        if (s == ' ') return new Glyph(" ", "");
        if (bytes && s >= 0x80) return new Glyph(String.format(Locale.ROOT, "\\x%02X", s), "ctl");
        if (invisible(s)) return new Glyph("\u00b7", "ctl");
        return new Glyph(new String(Character.toChars(s)), "");
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

    /** A readable label of a vocabulary symbol in the tooltip: '␣' for space, '\n', 'U+200B', ... */
    private static String label(Vocabulary vocab, int index) {
        String d = vocab.display(index);
        return d.equals(" ") ? "\u2423" : d;
    }

    /** The tooltip's label of a symbol of the text, which may be outside the vocabulary. */
    private static String symbolLabel(Vocabulary vocab, int s) {
        int idx = vocab.exactIndexOf(s);
        if (idx >= 0) return label(vocab, idx);
        if (vocab.encoding() == Encoding.BYTES) return String.format(Locale.ROOT, "\\x%02X", s);
        return new String(Character.toChars(s)) + " (unknown)";
    }

    /** The page's data object {@code D} (see the class comment). */
    static JsonObject data(Analysis a) {
        Vocabulary vocab = a.model().vocabulary();
        int[] symbols = a.text().symbols();
        int T = symbols.length, V = a.model().config().vocabSize();
        Map<Integer, Integer> table = new LinkedHashMap<>();
        int[] si = new int[T];
        for (int t = 0; t < T; t++) si[t] = table.computeIfAbsent(symbols[t], k -> table.size());
        JsonArray sym = new JsonArray(table.size());
        for (int s : table.keySet()) {
            Glyph g = glyph(vocab, s);
            JsonArray e = new JsonArray(3);
            e.add(g.text());
            e.add(g.cls());
            e.add(symbolLabel(vocab, s));
            sym.add(e);
        }
        JsonArray labels = new JsonArray(V);
        for (int v = 0; v < V; v++) labels.add(label(vocab, v));
        JsonArray pal = new JsonArray(255);
        for (int q = -127; q <= 127; q++) pal.add(colour(q / 127.0));
        int siw = table.size() > 256 ? 2 : 1, pw = V > 256 ? 2 : 1;
        JsonObject d = new JsonObject();
        d.add("sym", sym);
        d.addProperty("siw", siw);
        d.addProperty("si", Base64.getEncoder().encodeToString(indices(si, siw)));
        d.add("vocab", labels);
        d.addProperty("k", Math.min(TOP_K, V));
        d.addProperty("pw", pw);
        d.addProperty(
                "pred", Base64.getEncoder().encodeToString(predictions(a.trace().probs(), T, V, TOP_K, pw)));
        d.add("pal", pal);
        return d;
    }

    private static byte[] indices(int[] v, int width) {
        byte[] out = new byte[v.length * width];
        for (int i = 0; i < v.length; i++) put(out, i * width, v[i], width);
        return out;
    }

    private static void put(byte[] out, int at, int v, int width) {
        out[at] = (byte) v;
        if (width == 2) out[at + 1] = (byte) (v >> 8);
    }

    /**
     * Per position the {@code k} most likely next symbols: their indices ({@code width} bytes each),
     * then their probabilities in whole percent (one byte each).
     */
    static byte[] predictions(double[] probs, int T, int V, int k, int width) {
        int n = Math.min(k, V), per = n * (width + 1);
        byte[] out = new byte[T * per];
        int[] best = new int[n];
        for (int t = 0; t < T; t++) {
            int base = t * V;
            for (int i = 0; i < n; i++) { // n passes of a max search: cheap for large vocabularies
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
            for (int i = 0; i < n; i++) {
                put(out, t * per + i * width, best[i], width);
                out[t * per + n * width + i] = (byte) Math.round(100 * probs[base + best[i]]);
            }
        }
        return out;
    }
}
