package org.charrnn.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Renders benchmark rows as an SVG chart: characters per second (log scale, shared by all panels)
 * against hidden size H (log2 scale), one panel per (cell, L, B, T) and, in each panel, one line per
 * series (implementation and precision, PyTorch variants included). Colours are fixed per series
 * across panels; the legend is below the panels.
 */
public final class Chart {
    private Chart() {}

    static final String[] PALETTE = {
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"
    };
    static final int PANEL_W = 300, PANEL_H = 230, PANELS_PER_ROW = 3;
    static final int LEFT = 64, TOP = 80, GAP_X = 40, GAP_Y = 64, BOTTOM_PAD = 36;

    /** A panel: one (cell, L, B, T). */
    record PanelKey(String cell, int layers, int batch, int seq) {
        String title() {
            return cell + " L" + layers + "  B" + batch + " T" + seq;
        }
    }

    /** The SVG document. */
    public static String svg(List<JsonRows> rows, String title) {
        if (rows.isEmpty()) throw new IllegalArgumentException("no benchmark rows to chart");
        Map<PanelKey, Map<String, TreeMap<Integer, Double>>> panels = medians(rows);
        if (panels.isEmpty()) throw new IllegalArgumentException("no benchmark rows with a positive chars/s");
        double yMin = Double.POSITIVE_INFINITY, yMax = 0;
        for (var series : panels.values())
            for (var points : series.values())
                for (double m : points.values()) {
                    yMin = Math.min(yMin, m);
                    yMax = Math.max(yMax, m);
                }
        List<String> seriesNames = seriesNames(rows);
        Map<String, String> colour = new LinkedHashMap<>();
        for (String s : seriesNames) colour.put(s, PALETTE[colour.size() % PALETTE.length]);
        int lo = (int) Math.floor(Math.log10(yMin)), hi = (int) Math.ceil(Math.log10(yMax));
        if (hi == lo) hi = lo + 1;

        int n = panels.size();
        int cols = Math.min(PANELS_PER_ROW, n), prow = (n + PANELS_PER_ROW - 1) / PANELS_PER_ROW;
        int legendRows = (seriesNames.size() + 1) / 2;
        int width = LEFT + cols * PANEL_W + (cols - 1) * GAP_X + 24;
        int height = TOP + prow * PANEL_H + (prow - 1) * GAP_Y + BOTTOM_PAD + 20 + legendRows * 20 + 12;
        StringBuilder sb = new StringBuilder();
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append(f(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
                width, height, width, height));
        sb.append(f("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height));
        sb.append(f("<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", LEFT, esc(title)));
        sb.append(f(
                "<text x=\"%d\" y=\"42\" fill=\"#555\">characters per second (log scale) vs hidden size H; "
                        + "training step = forward, backward, clip, Adam; E = H, V = 65</text>\n",
                LEFT));

        int idx = 0;
        for (Map.Entry<PanelKey, Map<String, TreeMap<Integer, Double>>> e : panels.entrySet()) {
            int px = LEFT + (idx % PANELS_PER_ROW) * (PANEL_W + GAP_X);
            int py = TOP + (idx / PANELS_PER_ROW) * (PANEL_H + GAP_Y);
            panel(sb, e.getKey(), e.getValue(), colour, px, py, lo, hi);
            idx++;
        }
        legend(sb, colour, TOP + prow * PANEL_H + (prow - 1) * GAP_Y + BOTTOM_PAD + 16);
        sb.append("</svg>\n");
        return sb.toString();
    }

    /**
     * The rows with a positive chars/s by panel, series and H, each point the median of its rows
     * (rounds of the same grid measure a row several times); panels in {@link #cellOrder}, then by
     * cell, B, T and L.
     */
    private static Map<PanelKey, Map<String, TreeMap<Integer, Double>>> medians(List<JsonRows> rows) {
        Map<PanelKey, Map<String, TreeMap<Integer, List<Double>>>> measured = new LinkedHashMap<>();
        for (JsonRows r : rows) {
            if (!(r.charsPerS() > 0)) continue;
            PanelKey k = new PanelKey(r.cell(), r.layers(), r.batch(), r.seq());
            measured.computeIfAbsent(k, x -> new LinkedHashMap<>())
                    .computeIfAbsent(r.variant(), x -> new TreeMap<>())
                    .computeIfAbsent(r.hidden(), x -> new ArrayList<>())
                    .add(r.charsPerS());
        }
        Map<PanelKey, Map<String, TreeMap<Integer, Double>>> panels =
                new TreeMap<>(Comparator.comparingInt((PanelKey k) -> cellOrder(k.cell()))
                        .thenComparing(PanelKey::cell)
                        .thenComparingInt(PanelKey::batch)
                        .thenComparingInt(PanelKey::seq)
                        .thenComparingInt(PanelKey::layers));
        for (var panel : measured.entrySet())
            for (var series : panel.getValue().entrySet())
                for (var point : series.getValue().entrySet())
                    panels.computeIfAbsent(panel.getKey(), x -> new LinkedHashMap<>())
                            .computeIfAbsent(series.getKey(), x -> new TreeMap<>())
                            .put(point.getKey(), median(point.getValue()));
        return panels;
    }

    /** The legend, two series a row, from baseline {@code ly}: each series' line, marker and name. */
    private static void legend(StringBuilder sb, Map<String, String> colour, int ly) {
        int i = 0;
        sb.append("<g class=\"legend\">\n");
        for (Map.Entry<String, String> c : colour.entrySet()) {
            int x = LEFT + (i % 2) * 360, y = ly + (i / 2) * 20;
            sb.append(f(
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"%s/>"
                            + "<circle cx=\"%d\" cy=\"%d\" r=\"3.5\" fill=\"%s\"/>",
                    x, y - 4, x + 24, y - 4, c.getValue(), dash(c.getKey()), x + 12, y - 4, c.getValue()));
            sb.append(f("<text x=\"%d\" y=\"%d\">%s</text>\n", x + 32, y, esc(c.getKey())));
            i++;
        }
        sb.append("</g>\n");
    }

    private static void panel(
            StringBuilder sb,
            PanelKey key,
            Map<String, ? extends java.util.SortedMap<Integer, Double>> series,
            Map<String, String> colour,
            int px,
            int py,
            int lo,
            int hi) {
        TreeSet<Integer> hs = new TreeSet<>();
        for (java.util.SortedMap<Integer, Double> s : series.values()) hs.addAll(s.keySet());
        double xLo = log2(hs.first()) - 0.5, xHi = log2(hs.last()) + 0.5;
        sb.append(f("<g class=\"panel\" data-panel=\"%s\">\n", esc(key.title())));
        sb.append(f(
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#999\"/>\n",
                px, py, PANEL_W, PANEL_H));
        sb.append(f(
                "<text x=\"%d\" y=\"%d\" font-weight=\"bold\" text-anchor=\"middle\">%s</text>\n",
                px + PANEL_W / 2, py - 6, esc(key.title())));
        for (int d = lo; d <= hi; d++) {
            double y = yPix(Math.pow(10, d), py, lo, hi);
            sb.append(f("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>", px, y, px + PANEL_W, y));
            sb.append(
                    f("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%s</text>\n", px - 5, y + 4, si(d)));
        }
        for (int h : hs) {
            double x = xPix(h, px, xLo, xHi);
            sb.append(f("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>", x, py, x, py + PANEL_H));
            sb.append(f(
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">%d</text>\n",
                    x, py + PANEL_H + 15, h));
        }
        sb.append(f(
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">H</text>\n",
                px + PANEL_W / 2, py + PANEL_H + 30));
        for (Map.Entry<String, ? extends java.util.SortedMap<Integer, Double>> s : series.entrySet()) {
            String c = colour.get(s.getKey());
            sb.append(f("<g class=\"series\" data-series=\"%s\">", esc(s.getKey())));
            StringBuilder pts = new StringBuilder();
            for (Map.Entry<Integer, Double> p : s.getValue().entrySet())
                pts.append(f("%.1f,%.1f ", xPix(p.getKey(), px, xLo, xHi), yPix(p.getValue(), py, lo, hi)));
            sb.append(f(
                    "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>",
                    pts.toString().strip(), c, dash(s.getKey())));
            for (Map.Entry<Integer, Double> p : s.getValue().entrySet())
                sb.append(f(
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s H%d: %s chars/s</title></circle>",
                        xPix(p.getKey(), px, xLo, xHi),
                        yPix(p.getValue(), py, lo, hi),
                        c,
                        esc(s.getKey()),
                        p.getKey(),
                        Table.grouped(Math.round(p.getValue()))));
            sb.append("</g>\n");
        }
        sb.append("</g>\n");
    }

    /** The median of {@code v} (the mean of the middle two for an even count). */
    static double median(List<Double> v) {
        List<Double> sorted = new ArrayList<>(v);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** lstm panels first (the torch-rnn grid), then gru, rnn, anything else. */
    private static int cellOrder(String cell) {
        return switch (cell) {
            case "lstm" -> 0;
            case "gru" -> 1;
            case "rnn" -> 2;
            default -> 3;
        };
    }

    private static String dash(String series) {
        return series.startsWith("pytorch") ? " stroke-dasharray=\"6,3\"" : "";
    }

    private static double xPix(int h, int px, double lo, double hi) {
        return px + (log2(h) - lo) / (hi - lo) * PANEL_W;
    }

    private static double yPix(double v, int py, int lo, int hi) {
        return py + PANEL_H - (Math.log10(v) - lo) / (hi - lo) * PANEL_H;
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }

    /** 10^d as "100", "1k", "10k", "1M", "10G". */
    static String si(int d) {
        String[] suffix = {"", "k", "M", "G", "T"};
        if (d < 0) return String.format(Locale.ROOT, "%s", Math.pow(10, d));
        int g = Math.min(d / 3, suffix.length - 1);
        return "1" + "0".repeat(d - 3 * g) + suffix[g];
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }

    /** The series a chart of {@code rows} draws, in legend order (ours first, then PyTorch's). */
    public static List<String> seriesNames(List<JsonRows> rows) {
        TreeSet<String> s = new TreeSet<>(Comparator.comparing((String x) -> x.startsWith("pytorch") ? 1 : 0)
                .thenComparing(x -> x));
        for (JsonRows r : rows) if (r.charsPerS() > 0) s.add(r.variant());
        return new ArrayList<>(s);
    }
}
