package org.charrnn.viz;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Safetensors;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;
import org.charrnn.viz.RunMetrics.IterRow;
import org.charrnn.viz.RunMetrics.Metrics;
import org.charrnn.viz.RunMetrics.Sample;
import org.charrnn.viz.RunMetrics.ValRow;

/**
 * The {@code charrnn report} page of a run directory: training and validation loss (nats and
 * bits/char) against iterations and wall time, learning rate, gradient norm before clipping,
 * throughput, the run's configuration, its checkpoints and the samples written at them. One
 * self-contained HTML file with inline SVG charts (no scripts, no network).
 *
 * <p>Reads {@code config.json}, {@code metrics.jsonl} and the samples ({@link RunMetrics}) and
 * {@code ckpt-*.safetensors} metadata.
 */
public final class ReportPage {
    private ReportPage() {}

    private static final double LN2 = Math.log(2);

    /** Writes the report of {@code runDir} to {@code out} atomically. */
    public static void write(Path runDir, Path out) {
        String html = render(runDir);
        try {
            AtomicFile.writeString(out, html);
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * Exponential moving average, bias-corrected (divided by the weight the average has gathered,
     * {@code 1 - beta^t} for a fixed beta, as Adam does), so that it starts at the first value
     * instead of rising from 0. Its window is about 1/40 of the series (1 to 200 points) but, as
     * in TensorFlow's ExponentialMovingAverage, at most about {@code (t + 10) / 9} points at the
     * t-th value: early in training, where the loss falls fastest, a long window would keep the
     * curve far above the loss it averages. Non-finite values are passed over (NaN there).
     */
    static double[] smooth(double[] y) {
        int finite = 0;
        for (double v : y) if (Double.isFinite(v)) finite++;
        double w = Math.max(1, Math.min(200, finite / 40.0));
        double beta = 1 - 1 / w;
        double[] out = new double[y.length];
        double avg = 0, weight = 0;
        int t = 0;
        for (int i = 0; i < y.length; i++) {
            if (!Double.isFinite(y[i])) {
                out[i] = Double.NaN;
                continue;
            }
            double b = Math.min(beta, (1.0 + t) / (10.0 + t));
            avg = b * avg + (1 - b) * y[i];
            weight = b * weight + (1 - b);
            out[i] = avg / weight;
            t++;
        }
        return out;
    }

    // ====================================================================== HTML

    private static final String CSS = """
            body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em 2em;color:#222;background:#fff}
            h1{font-size:1.4em;margin:0 0 .3em} h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}
            .meta{color:#555;font-size:.9em;margin:.2em 0} .note{color:#777;font-style:italic}
            .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));gap:14px}
            .charts>div{overflow-x:auto} .charts svg{display:block;box-sizing:border-box;width:100%;height:auto;min-width:400px;border:1px solid #e5e5e5}
            @media (max-width:600px){body{margin:.8em}}
            table{border-collapse:collapse;font-size:.9em} td,th{padding:2px 12px;border-bottom:1px solid #eee;text-align:left}
            td.r{text-align:right;font-variant-numeric:tabular-nums}
            pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:#f7f7f7;
              border:1px solid #e5e5e5;padding:6px 8px;white-space:pre-wrap;word-break:break-word;margin:.3em 0 1em}
            h3{font-size:.95em;margin:.8em 0 .2em}
            """;

    private static final String BLUE = "#1f77b4",
            ORANGE = "#ff7f0e",
            GREEN = "#2ca02c",
            RED = "#d62728",
            PURPLE = "#9467bd",
            GREY = "#7f7f7f";

    /** A one-line {@link UserError} where {@code runDir} is no directory (missing, or a file). */
    public static void requireRunDirectory(Path runDir) {
        if (Files.isDirectory(runDir)) return;
        throw new UserError(
                Files.exists(runDir)
                        ? runDir + " is not a directory; give the --out of charrnn train"
                        : "run directory not found: " + runDir);
    }

    /** The report of {@code runDir} as a string. */
    public static String render(Path runDir) {
        requireRunDirectory(runDir);
        Path configFile = runDir.resolve("config.json"), metricsFile = runDir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(configFile) && !Files.isRegularFile(metricsFile))
            throw new UserError(runDir
                    + " is not a run directory (no config.json or metrics.jsonl); give the --out of charrnn train");
        JsonObject config = readConfig(configFile);
        Metrics m = RunMetrics.readMetrics(metricsFile);
        List<Sample> samples = RunMetrics.readSamples(runDir);

        StringBuilder sb = new StringBuilder(1 << 16);
        String name = runDir.toAbsolutePath().normalize().getFileName() == null
                ? runDir.toString()
                : runDir.toAbsolutePath().normalize().getFileName().toString();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(Html.esc("training report: " + name))
                .append("</title>\n<style>")
                .append(CSS)
                .append("</style></head>\n<body>\n");
        sb.append("<h1>").append(Html.esc("Training report: " + name)).append("</h1>\n");
        summary(sb, config, m);
        charts(sb, config, m);
        configuration(sb, config);
        checkpoints(sb, runDir);
        sb.append("<section id=\"samples\"><h2>Samples at checkpoints</h2>\n");
        if (samples.isEmpty()) sb.append("<p class=\"note\">no samples (train with --sample-length &gt; 0)</p>\n");
        for (Sample s : samples)
            sb.append("<div class=\"sample\" data-iter=\"")
                    .append(s.iteration())
                    .append("\"><h3>iteration ")
                    .append(s.iteration())
                    .append("</h3><pre>")
                    .append(Html.esc(s.text()))
                    .append("</pre></div>\n");
        sb.append("</section>\n</body></html>\n");
        return sb.toString();
    }

    private static JsonObject readConfig(Path file) {
        if (!Files.isRegularFile(file)) return new JsonObject();
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            return e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
        } catch (IOException | RuntimeException e) {
            return new JsonObject();
        }
    }

    private static String str(JsonObject o, String... path) {
        JsonElement e = o;
        for (String k : path) {
            if (e == null || !e.isJsonObject()) return null;
            e = e.getAsJsonObject().get(k);
        }
        return e == null || e.isJsonNull() ? null : e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    private static void summary(StringBuilder sb, JsonObject config, Metrics m) {
        List<String[]> rows = new ArrayList<>();
        String cell = str(config, "training", "model", "cell");
        if (cell != null)
            rows.add(new String[] {
                "model",
                String.format(
                        Locale.ROOT,
                        "%s, %s layers of %s, embedding %s, vocabulary %s, dropout %s",
                        cell.toUpperCase(Locale.ROOT),
                        str(config, "training", "model", "layers"),
                        str(config, "training", "model", "hidden"),
                        str(config, "training", "model", "embedding"),
                        str(config, "vocab_size"),
                        str(config, "training", "model", "dropout"))
            });
        if (str(config, "corpus") != null) rows.add(new String[] {"data", str(config, "corpus")});
        if (str(config, "backend") != null)
            rows.add(new String[] {
                "backend",
                str(config, "backend") + (str(config, "device") != null ? " on " + str(config, "device") : "")
            });
        if (!m.iters().isEmpty()) {
            IterRow last = m.iters().get(m.iters().size() - 1);
            rows.add(
                    new String[] {"iterations", String.format(Locale.ROOT, "%d (epoch %.2f)", last.iter(), last.epoch())
                    });
            double[] loss = column(m.iters(), IterRow::loss);
            double[] sm = smooth(loss);
            double lastSmooth = Double.NaN;
            for (int i = sm.length - 1; i >= 0 && Double.isNaN(lastSmooth); i--) lastSmooth = sm[i];
            rows.add(new String[] {"train loss (smoothed, last)", bothUnits(lastSmooth)});
            if (Double.isFinite(last.wall())) rows.add(new String[] {"wall time", duration(last.wall())});
            double cps = 0;
            int n = 0;
            for (IterRow r : m.iters())
                if (Double.isFinite(r.charsPerS())) {
                    cps += r.charsPerS();
                    n++;
                }
            if (n > 0)
                rows.add(new String[] {"throughput (mean)", String.format(Locale.ROOT, "%,.0f chars/s", cps / n)});
        }
        if (!m.vals().isEmpty()) {
            ValRow best = null;
            for (ValRow v : m.vals())
                if (Double.isFinite(v.valLoss()) && (best == null || v.valLoss() < best.valLoss())) best = v;
            ValRow lastVal = m.vals().get(m.vals().size() - 1);
            rows.add(
                    new String[] {"val loss (last)", bothUnits(lastVal.valLoss()) + " at iteration " + lastVal.iter()});
            if (best != null)
                rows.add(new String[] {"val loss (best)", bothUnits(best.valLoss()) + " at iteration " + best.iter()});
        }
        if (m.badLines() > 0)
            rows.add(new String[] {"metrics", m.badLines() + " line(s) of metrics.jsonl could not be read"});
        sb.append("<section id=\"summary\"><table>\n");
        for (String[] r : rows)
            sb.append("<tr><th>")
                    .append(Html.esc(r[0]))
                    .append("</th><td>")
                    .append(Html.esc(r[1]))
                    .append("</td></tr>\n");
        sb.append("</table></section>\n");
    }

    private static String intish(String s) {
        if (s == null) return "?";
        try {
            double d = Double.parseDouble(s);
            return d == Math.rint(d) ? Long.toString((long) d) : s;
        } catch (NumberFormatException e) {
            return s;
        }
    }

    private static String bothUnits(double nats) {
        if (!Double.isFinite(nats)) return "n/a";
        return String.format(Locale.ROOT, "%.4f nats/char = %.4f bits/char", nats, nats / LN2);
    }

    private static String duration(double s) {
        if (s < 120) return String.format(Locale.ROOT, "%.1f s", s);
        if (s < 7200) return String.format(Locale.ROOT, "%.1f min", s / 60);
        return String.format(Locale.ROOT, "%.2f h", s / 3600);
    }

    private interface Col<T> {
        double get(T row);
    }

    private static <T> double[] column(List<T> rows, Col<T> c) {
        double[] out = new double[rows.size()];
        for (int i = 0; i < out.length; i++) out[i] = c.get(rows.get(i));
        return out;
    }

    private static double[] scale(double[] v, double f) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) o[i] = v[i] * f;
        return o;
    }

    private static void charts(StringBuilder sb, JsonObject config, Metrics m) {
        sb.append("<section id=\"charts\"><h2>Training curves</h2>\n");
        if (m.iters().isEmpty()) {
            sb.append("<p class=\"note\">no metrics yet</p></section>\n");
            return;
        }
        double[] it = column(m.iters(), r -> r.iter());
        double[] wall = column(m.iters(), IterRow::wall);
        double[] loss = column(m.iters(), IterRow::loss);
        double[] vit = column(m.vals(), r -> r.iter());
        double[] vwall = column(m.vals(), ValRow::wall);
        double[] vloss = column(m.vals(), ValRow::valLoss);
        double maxWall = 0;
        for (double w : wall) if (Double.isFinite(w)) maxWall = Math.max(maxWall, w);
        String unit = maxWall < 120 ? "s" : maxWall < 7200 ? "min" : "h";
        double div = unit.equals("s") ? 1 : unit.equals("min") ? 60 : 3600;
        double[] wallU = scale(wall, 1 / div), vwallU = scale(vwall, 1 / div);

        Losses losses = new Losses(loss, smooth(loss), vloss);
        sb.append("<div class=\"charts\">\n");
        for (boolean bits : new boolean[] {false, true})
            chart(sb, losses.chart("iteration", "iteration", it, vit, bits));
        for (boolean bits : new boolean[] {false, true})
            chart(sb, losses.chart("wall time", "wall time (" + unit + ")", wallU, vwallU, bits));
        chart(
                sb,
                Svg.lineChart(
                        "Learning rate",
                        "iteration",
                        "learning rate",
                        List.of(Svg.Series.line("lr", GREEN, it, column(m.iters(), IterRow::lr))),
                        List.of(),
                        true));
        double[] norm = column(m.iters(), IterRow::gradNorm);
        chart(
                sb,
                Svg.lineChart(
                        "Gradient norm (before clipping)",
                        "iteration",
                        "global L2 norm",
                        List.of(
                                Svg.Series.line("grad norm", PURPLE, it, norm).faint(),
                                Svg.Series.line("smoothed", PURPLE, it, smooth(norm))),
                        clipRule(config)));
        chart(
                sb,
                Svg.lineChart(
                        "Throughput",
                        "iteration",
                        "chars/s",
                        List.of(Svg.Series.line("chars/s", GREY, it, column(m.iters(), IterRow::charsPerS))),
                        List.of()));
        sb.append("</div></section>\n");
    }

    /** Training loss per iteration (as logged and smoothed) and validation loss per validation, in nats/char. */
    private record Losses(double[] train, double[] smoothed, double[] validation) {
        /** The three against {@code x} (validation against {@code vx}), in bits/char where {@code bits}. */
        String chart(String against, String xLabel, double[] x, double[] vx, boolean bits) {
            double f = bits ? 1 / LN2 : 1;
            String u = bits ? "bits/char" : "nats/char";
            return Svg.lineChart(
                    "Loss (" + u + ") vs " + against,
                    xLabel,
                    u,
                    List.of(
                            Svg.Series.line("train", BLUE, x, scale(train, f)).faint(),
                            Svg.Series.line("train (smoothed)", BLUE, x, scale(smoothed, f)),
                            Svg.Series.line("validation", ORANGE, vx, scale(validation, f))
                                    .withMarkers()),
                    List.of());
        }
    }

    /** The clip threshold as a rule on the gradient-norm chart, where the run clipped the global norm. */
    private static List<Svg.Rule> clipRule(JsonObject config) {
        String value = str(config, "training", "clip", "max"), mode = str(config, "training", "clip", "mode");
        if (value == null || !"norm".equals(mode)) return List.of();
        try {
            return List.of(new Svg.Rule("clip threshold", RED, Double.parseDouble(value)));
        } catch (NumberFormatException e) {
            return List.of(); // a hand-edited config.json: the chart without the line
        }
    }

    /** One chart in its grid cell, which scrolls sideways on screens narrower than the chart's minimum width. */
    private static void chart(StringBuilder sb, String svg) {
        sb.append("<div>").append(svg).append("</div>\n");
    }

    private static void configuration(StringBuilder sb, JsonObject config) {
        sb.append("<section id=\"config\"><h2>Configuration</h2>\n");
        if (config.size() == 0) {
            sb.append("<p class=\"note\">no config.json</p></section>\n");
            return;
        }
        sb.append("<table>\n");
        rows(sb, "", config);
        sb.append("</table>\n<details><summary>config.json</summary><pre>")
                .append(Html.esc(new GsonBuilder().setPrettyPrinting().create().toJson(config)))
                .append("</pre></details></section>\n");
    }

    /** One row per leaf of {@code o}, named by its dotted path ("training.model.cell"). */
    private static void rows(StringBuilder sb, String prefix, JsonObject o) {
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            if (e.getValue().isJsonObject())
                rows(sb, prefix + e.getKey() + ".", e.getValue().getAsJsonObject());
            else row(sb, prefix + e.getKey(), e.getValue());
        }
    }

    private static void row(StringBuilder sb, String key, JsonElement v) {
        String s = v.isJsonPrimitive() ? v.getAsString() : v.toString();
        if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) s = intish(s);
        sb.append("<tr><th>")
                .append(Html.esc(key))
                .append("</th><td>")
                .append(Html.esc(s))
                .append("</td></tr>\n");
    }

    private static void checkpoints(StringBuilder sb, Path runDir) {
        List<Path> all = Checkpoint.list(runDir);
        sb.append("<section id=\"checkpoints\"><h2>Checkpoints</h2>\n");
        if (all.isEmpty()) {
            sb.append("<p class=\"note\">none yet</p></section>\n");
            return;
        }
        sb.append(
                "<table><tr><th>file</th><th>iteration</th><th>epoch</th><th>val loss (nats)</th><th>val bits/char</th></tr>\n");
        for (Path p : all) {
            Map<String, String> meta;
            try {
                meta = Safetensors.readMetadata(p);
            } catch (RuntimeException e) {
                continue; // pruned or being written
            }
            double val = parse(meta.get("val_loss")), epoch = parse(meta.get("epoch"));
            sb.append("<tr><td>")
                    .append(Html.esc(p.getFileName().toString()))
                    .append("</td><td class=\"r\">")
                    .append(Html.esc(meta.getOrDefault("iteration", "?")))
                    .append("</td><td class=\"r\">")
                    .append(Double.isFinite(epoch) ? String.format(Locale.ROOT, "%.2f", epoch) : "")
                    .append("</td><td class=\"r\">")
                    .append(Double.isFinite(val) ? String.format(Locale.ROOT, "%.4f", val) : "")
                    .append("</td><td class=\"r\">")
                    .append(Double.isFinite(val) ? String.format(Locale.ROOT, "%.4f", val / LN2) : "")
                    .append("</td></tr>\n");
        }
        sb.append("</table></section>\n");
    }

    private static double parse(String s) {
        if (s == null || s.isEmpty()) return Double.NaN;
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
