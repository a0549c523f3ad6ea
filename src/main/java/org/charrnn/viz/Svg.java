package org.charrnn.viz;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small inline-SVG line chart: linear axes with round ticks, several series (gaps at non-finite
 * values), optional point markers, a legend and horizontal reference lines. Long series are
 * reduced to the minimum and maximum of each of ~{@value #MAX_POINTS}/2 buckets, which keeps
 * spikes visible.
 */
public final class Svg {
    private Svg() {}

    static final int MAX_POINTS = 1600;
    static final int WIDTH = 540, HEIGHT = 300;
    private static final int LEFT = 64, RIGHT = 16, TOP = 30, BOTTOM = 44;

    /** One line: x and y of equal length, drawn with {@code colour}. */
    public record Series(
            String name,
            String colour,
            double[] x,
            double[] y,
            double strokeWidth,
            double opacity,
            boolean markers,
            boolean dashed) {
        public static Series line(String name, String colour, double[] x, double[] y) {
            return new Series(name, colour, x, y, 1.6, 1.0, false, false);
        }

        public Series faint() {
            return new Series(name, colour, x, y, 1.0, 0.35, markers, dashed);
        }

        public Series withMarkers() {
            return new Series(name, colour, x, y, strokeWidth, opacity, true, dashed);
        }

        public Series asDashed() {
            return new Series(name, colour, x, y, strokeWidth, opacity, markers, true);
        }
    }

    /** A horizontal reference line at {@code y}. */
    public record Rule(String name, String colour, double y) {}

    /** The chart as an {@code <svg>} element. */
    public static String lineChart(String title, String xLabel, String yLabel, List<Series> series, List<Rule> rules) {
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY;
        double ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                double x = s.x()[i], y = s.y()[i];
                if (!Double.isFinite(x) || !Double.isFinite(y)) continue;
                xmin = Math.min(xmin, x);
                xmax = Math.max(xmax, x);
                ymin = Math.min(ymin, y);
                ymax = Math.max(ymax, y);
            }
        }
        boolean empty = xmin > xmax;
        for (Rule r : rules) {
            if (!Double.isFinite(r.y()) || empty) continue;
            ymin = Math.min(ymin, r.y());
            ymax = Math.max(ymax, r.y());
        }
        StringBuilder sb = new StringBuilder(4096);
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"")
                .append(WIDTH)
                .append("\" height=\"")
                .append(HEIGHT)
                .append("\" viewBox=\"0 0 ")
                .append(WIDTH)
                .append(' ')
                .append(HEIGHT)
                .append("\" font-family=\"system-ui,Helvetica,Arial,sans-serif\" font-size=\"11\"><title>")
                .append(Html.esc(title))
                .append("</title>");
        sb.append("<rect x=\"0\" y=\"0\" width=\"")
                .append(WIDTH)
                .append("\" height=\"")
                .append(HEIGHT)
                .append("\" fill=\"#fff\"/>");
        sb.append("<text x=\"")
                .append(WIDTH / 2)
                .append("\" y=\"17\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"600\">")
                .append(Html.esc(title))
                .append("</text>");
        int pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
        sb.append("<rect x=\"")
                .append(LEFT)
                .append("\" y=\"")
                .append(TOP)
                .append("\" width=\"")
                .append(pw)
                .append("\" height=\"")
                .append(ph)
                .append("\" fill=\"none\" stroke=\"#bbb\"/>");
        if (empty) {
            sb.append("<text x=\"")
                    .append(LEFT + pw / 2)
                    .append("\" y=\"")
                    .append(TOP + ph / 2)
                    .append("\" text-anchor=\"middle\" fill=\"#888\">no data yet</text></svg>");
            return sb.toString();
        }
        if (xmax == xmin) {
            xmin -= 0.5;
            xmax += 0.5;
        }
        if (ymax == ymin) {
            double d = Math.abs(ymin) > 0 ? Math.abs(ymin) * 0.1 : 0.5;
            ymin -= d;
            ymax += d;
        }
        double[] yt = ticks(ymin, ymax, 5), xt = ticks(xmin, xmax, 6);
        double y0 = Math.min(ymin, yt[0]), y1 = Math.max(ymax, yt[yt.length - 1]);
        double x0 = xmin, x1 = xmax;
        Axis ax = new Axis(x0, x1, y0, y1, pw, ph);

        for (double t : yt) {
            if (t < y0 - 1e-12 * Math.abs(y1 - y0) || t > y1 + 1e-12 * Math.abs(y1 - y0)) continue;
            double py = ax.py(t);
            sb.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>",
                    LEFT,
                    LEFT + pw,
                    py,
                    py));
            sb.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%s</text>",
                    LEFT - 5,
                    py + 4,
                    tick(t, yt)));
        }
        for (double t : xt) {
            if (t < x0 - 1e-9 * (x1 - x0) || t > x1 + 1e-9 * (x1 - x0)) continue;
            double px = ax.px(t);
            sb.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>",
                    px,
                    px,
                    TOP,
                    TOP + ph));
            sb.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">%s</text>",
                    px,
                    TOP + ph + 15,
                    tick(t, xt)));
        }
        sb.append("<text x=\"")
                .append(LEFT + pw / 2)
                .append("\" y=\"")
                .append(HEIGHT - 8)
                .append("\" text-anchor=\"middle\" fill=\"#222\">")
                .append(Html.esc(xLabel))
                .append("</text>");
        sb.append(String.format(
                Locale.ROOT,
                "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">%s</text>",
                TOP + ph / 2,
                Html.esc(yLabel)));

        for (Rule r : rules) {
            if (!Double.isFinite(r.y())) continue;
            double py = ax.py(r.y());
            sb.append(String.format(
                    Locale.ROOT,
                    "<line class=\"rule\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6 4\"/>",
                    LEFT,
                    LEFT + pw,
                    py,
                    py,
                    r.colour()));
        }
        sb.append("<g class=\"lines\">");
        for (Series s : series) drawSeries(sb, s, ax);
        sb.append("</g>");

        List<String[]> legend = new ArrayList<>();
        for (Series s : series)
            if (s.name() != null && !s.name().isEmpty())
                legend.add(new String[] {
                    s.name(), s.colour(), s.dashed() ? "d" : "", String.format(Locale.ROOT, "%.2f", s.opacity())
                });
        for (Rule r : rules) if (Double.isFinite(r.y())) legend.add(new String[] {r.name(), r.colour(), "d", "1.00"});
        int ly = TOP + 8;
        for (String[] e : legend) {
            int lx = LEFT + pw - 150;
            sb.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\" stroke-opacity=\"%s\"%s/>",
                    lx,
                    lx + 18,
                    ly,
                    ly,
                    e[1],
                    e[3],
                    e[2].isEmpty() ? "" : " stroke-dasharray=\"5 3\""));
            sb.append(String.format(
                    Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#222\">%s</text>", lx + 23, ly + 4, Html.esc(e[0])));
            ly += 15;
        }
        sb.append("</svg>");
        return sb.toString();
    }

    private record Axis(double x0, double x1, double y0, double y1, int pw, int ph) {
        double px(double x) {
            return LEFT + (x - x0) / (x1 - x0) * pw;
        }

        double py(double y) {
            return TOP + ph - (y - y0) / (y1 - y0) * ph;
        }
    }

    private static void drawSeries(StringBuilder sb, Series s, Axis ax) {
        double[][] pts = reduce(s.x(), s.y());
        String style = String.format(
                Locale.ROOT,
                " fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-opacity=\"%.2f\" stroke-linejoin=\"round\"%s",
                s.colour(),
                s.strokeWidth(),
                s.opacity(),
                s.dashed() ? " stroke-dasharray=\"5 3\"" : "");
        StringBuilder line = new StringBuilder();
        int inLine = 0;
        for (int i = 0; i <= pts[0].length; i++) {
            boolean ok = i < pts[0].length && Double.isFinite(pts[0][i]) && Double.isFinite(pts[1][i]);
            if (ok) {
                line.append(String.format(Locale.ROOT, "%.1f,%.1f ", ax.px(pts[0][i]), ax.py(pts[1][i])));
                inLine++;
            }
            if (!ok || i == pts[0].length - 1) {
                if (inLine > 1)
                    sb.append("<polyline class=\"series\" data-name=\"")
                            .append(Html.esc(s.name()))
                            .append("\" points=\"")
                            .append(line.toString().trim())
                            .append('"')
                            .append(style)
                            .append("/>");
                else if (inLine == 1 && !s.markers()) {
                    String[] p = line.toString().trim().split(",");
                    sb.append("<circle cx=\"")
                            .append(p[0])
                            .append("\" cy=\"")
                            .append(p[1])
                            .append("\" r=\"2\" fill=\"")
                            .append(s.colour())
                            .append("\"/>");
                }
                line.setLength(0);
                inLine = 0;
            }
        }
        if (s.markers() && pts[0].length <= 300) {
            for (int i = 0; i < pts[0].length; i++) {
                if (!Double.isFinite(pts[0][i]) || !Double.isFinite(pts[1][i])) continue;
                sb.append(String.format(
                        Locale.ROOT,
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"/>",
                        ax.px(pts[0][i]),
                        ax.py(pts[1][i]),
                        s.colour()));
            }
        }
    }

    /** At most ~MAX_POINTS points: per bucket the minimum and the maximum, in x order. */
    static double[][] reduce(double[] x, double[] y) {
        int n = x.length;
        if (n <= MAX_POINTS) return new double[][] {x, y};
        int buckets = MAX_POINTS / 2;
        List<double[]> out = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) n * b / buckets), to = (int) ((long) n * (b + 1) / buckets);
            int lo = -1, hi = -1;
            for (int i = from; i < to; i++) {
                if (!Double.isFinite(y[i]) || !Double.isFinite(x[i])) continue;
                if (lo < 0 || y[i] < y[lo]) lo = i;
                if (hi < 0 || y[i] > y[hi]) hi = i;
            }
            if (lo < 0) {
                out.add(new double[] {x[from], Double.NaN});
                continue;
            }
            int a = Math.min(lo, hi), c = Math.max(lo, hi);
            out.add(new double[] {x[a], y[a]});
            if (c != a) out.add(new double[] {x[c], y[c]});
        }
        double[][] r = new double[2][out.size()];
        for (int i = 0; i < out.size(); i++) {
            r[0][i] = out.get(i)[0];
            r[1][i] = out.get(i)[1];
        }
        return r;
    }

    /** Round tick values covering [lo, hi], about {@code n} of them. */
    static double[] ticks(double lo, double hi, int n) {
        double step = niceStep((hi - lo) / Math.max(1, n));
        double start = Math.floor(lo / step) * step, end = Math.ceil(hi / step) * step;
        int k = (int) Math.round((end - start) / step);
        double[] t = new double[k + 1];
        for (int i = 0; i <= k; i++) t[i] = start + i * step;
        return t;
    }

    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
        return m * p;
    }

    /** A tick label with just enough digits for the step between ticks. */
    static String tick(double v, double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
        if (Math.abs(v) < step * 1e-9) return "0";
        double maxAbs = 0;
        for (double t : ticks) maxAbs = Math.max(maxAbs, Math.abs(t));
        if (maxAbs >= 1e4 && step >= 100) {
            if (maxAbs >= 1e6) return trim(String.format(Locale.ROOT, "%.3f", v / 1e6)) + "M";
            return trim(String.format(Locale.ROOT, "%.3f", v / 1e3)) + "k";
        }
        if (step < 1e-3) return String.format(Locale.ROOT, "%.2g", v);
        int digits = Math.max(0, (int) Math.ceil(-Math.log10(step) + 1e-9));
        if (step * Math.pow(10, digits) % 1 > 1e-6) digits++;
        return String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    private static String trim(String s) {
        if (!s.contains(".")) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
