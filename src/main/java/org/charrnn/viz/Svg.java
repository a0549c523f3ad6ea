package org.charrnn.viz;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small inline-SVG line chart: axes with round ticks (see {@link Ticks}; optionally a log y axis
 * for data spanning decades), several series (gaps at non-finite values), optional point markers,
 * horizontal reference lines and a legend in rows above the plot, where it hides no data. The
 * drawing has a viewBox and width 100%: it scales to the width of the element it is put in. Long
 * series are reduced to the minimum and maximum of each of ~{@value #MAX_POINTS}/2 buckets, which
 * keeps spikes visible.
 */
public final class Svg {
    private Svg() {}

    static final int MAX_POINTS = 1600;
    /** The drawing's size in viewBox units; the page scales it to the width of its column. */
    static final int WIDTH = 540, PLOT_HEIGHT = 226;

    /** The plot's margins; the left one grows with the y labels, to keep them clear of the axis title. */
    private static final int MIN_LEFT = 64, RIGHT = 16, BOTTOM = 44, AXIS_TITLE = 25;
    /** Baseline of the title, first legend row, and the legend rows' spacing. */
    private static final int TITLE_Y = 17, LEGEND_Y = 35, LEGEND_ROW = 15;
    /** An estimate of the legend's text width per character at font-size 11, a little generous. */
    private static final double CHAR_WIDTH = 6.4;

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

    /** The chart as an {@code <svg>} element, on linear axes. */
    public static String lineChart(String title, String xLabel, String yLabel, List<Series> series, List<Rule> rules) {
        return lineChart(title, xLabel, yLabel, series, rules, false);
    }

    /**
     * The chart as an {@code <svg>} element; with {@code logWhenDecades} the y axis is logarithmic
     * when every value is positive and the largest is at least 100 times the smallest.
     */
    public static String lineChart(
            String title, String xLabel, String yLabel, List<Series> series, List<Rule> rules, boolean logWhenDecades) {
        Range r = Range.of(series, rules, logWhenDecades);
        double[] yt = r.empty()
                ? new double[0]
                : r.log() ? Ticks.log(r.ymin(), r.ymax()) : Ticks.linear(r.ymin(), r.ymax(), 5);
        double[] xt = r.empty() ? new double[0] : Ticks.linear(r.xmin(), r.xmax(), 6);
        String[] yl = r.log() ? Ticks.logLabels(yt) : Ticks.linearLabels(yt), xl = Ticks.linearLabels(xt);
        double y0 = r.empty() ? 0 : Math.min(r.ymin(), yt[0]),
                y1 = r.empty() ? 1 : Math.max(r.ymax(), yt[yt.length - 1]);
        int longest = 0;
        for (String l : yl) longest = Math.max(longest, l.length());
        int left = Math.max(MIN_LEFT, AXIS_TITLE + 5 + (int) Math.ceil(longest * CHAR_WIDTH));
        int pw = WIDTH - left - RIGHT, ph = PLOT_HEIGHT;
        List<LegendEntry> legend = r.empty() ? List.of() : legend(series, rules, pw);
        int rows = legend.isEmpty() ? 0 : legend.get(legend.size() - 1).row() + 1;
        int top = rows == 0 ? 30 : LEGEND_Y + (rows - 1) * LEGEND_ROW + 12;
        int height = top + PLOT_HEIGHT + BOTTOM;
        Axis ax = new Axis(
                r.xmin(),
                r.xmax(),
                r.log() ? Math.log10(y0) : y0,
                r.log() ? Math.log10(y1) : y1,
                r.log(),
                left,
                top,
                pw,
                ph);
        StringBuilder sb = new StringBuilder(4096);
        frame(sb, title, height, ax);
        if (r.empty()) {
            sb.append("<text x=\"")
                    .append(left + pw / 2)
                    .append("\" y=\"")
                    .append(top + ph / 2)
                    .append("\" text-anchor=\"middle\" fill=\"#888\">no data yet</text></svg>");
            return sb.toString();
        }
        grid(sb, ax, yt, yl, xt, xl);
        sb.append("<text x=\"")
                .append(left + pw / 2)
                .append("\" y=\"")
                .append(height - 8)
                .append("\" text-anchor=\"middle\" fill=\"#222\">")
                .append(Html.esc(xLabel))
                .append("</text>");
        sb.append(String.format(
                Locale.ROOT,
                "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">%s</text>",
                top + ph / 2,
                Html.esc(yLabel + (r.log() ? " (log scale)" : ""))));
        for (Rule rule : rules) {
            if (!Double.isFinite(rule.y())) continue;
            double py = ax.py(rule.y());
            sb.append(String.format(
                    Locale.ROOT,
                    "<line class=\"rule\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6 4\"/>",
                    left,
                    left + pw,
                    py,
                    py,
                    rule.colour()));
        }
        sb.append("<g class=\"lines\">");
        for (Series s : series) drawSeries(sb, s, ax);
        sb.append("</g>");
        drawLegend(sb, legend, left);
        sb.append("</svg>");
        return sb.toString();
    }

    /**
     * The extent of the finite points of every series and, where there are points, of the rules;
     * an axis of one value widened around it; log: the y axis logarithmic (see {@link #lineChart}).
     */
    private record Range(double xmin, double xmax, double ymin, double ymax, boolean empty, boolean log) {
        static Range of(List<Series> series, List<Rule> rules, boolean logWhenDecades) {
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
            boolean log = !empty && logWhenDecades && ymin > 0 && ymax >= 100 * ymin;
            if (!empty && xmax == xmin) {
                xmin -= 0.5;
                xmax += 0.5;
            }
            if (!empty && ymax == ymin) {
                double d = Math.abs(ymin) > 0 ? Math.abs(ymin) * 0.1 : 0.5;
                ymin -= d;
                ymax += d;
            }
            return new Range(xmin, xmax, ymin, ymax, empty, log);
        }
    }

    /** The svg element's opening, its white background, the title and the plot's border. */
    private static void frame(StringBuilder sb, String title, int height, Axis ax) {
        sb.append(
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"100%\" viewBox=\"0 0 ")
                .append(WIDTH)
                .append(' ')
                .append(height)
                .append("\" preserveAspectRatio=\"xMidYMid meet\"")
                .append(" font-family=\"system-ui,Helvetica,Arial,sans-serif\" font-size=\"11\"><title>")
                .append(Html.esc(title))
                .append("</title>");
        sb.append("<rect x=\"0\" y=\"0\" width=\"")
                .append(WIDTH)
                .append("\" height=\"")
                .append(height)
                .append("\" fill=\"#fff\"/>");
        sb.append("<text x=\"")
                .append(WIDTH / 2)
                .append("\" y=\"")
                .append(TITLE_Y)
                .append("\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"600\">")
                .append(Html.esc(title))
                .append("</text>");
        sb.append("<rect class=\"plot\" x=\"")
                .append(ax.left())
                .append("\" y=\"")
                .append(ax.top())
                .append("\" width=\"")
                .append(ax.pw())
                .append("\" height=\"")
                .append(ax.ph())
                .append("\" fill=\"none\" stroke=\"#bbb\"/>");
    }

    /** The grid lines and labels of the ticks yt (labels yl) and xt (xl) that fall inside the plot. */
    private static void grid(StringBuilder sb, Axis ax, double[] yt, String[] yl, double[] xt, String[] xl) {
        int left = ax.left(), top = ax.top(), pw = ax.pw(), ph = ax.ph();
        for (int i = 0; i < yt.length; i++) {
            double py = ax.py(yt[i]);
            if (py < top - 0.01 || py > top + ph + 0.01) continue;
            sb.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>",
                    left,
                    left + pw,
                    py,
                    py));
            sb.append(String.format(
                    Locale.ROOT,
                    "<text class=\"ytick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%s</text>",
                    left - 5,
                    py + 4,
                    yl[i]));
        }
        for (int i = 0; i < xt.length; i++) {
            double px = ax.px(xt[i]);
            if (px < left - 0.01 || px > left + pw + 0.01) continue;
            sb.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>",
                    px,
                    px,
                    top,
                    top + ph));
            sb.append(String.format(
                    Locale.ROOT,
                    "<text class=\"xtick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">%s</text>",
                    px,
                    top + ph + 15,
                    xl[i]));
        }
    }

    /** The legend in rows between the title and the plot, where it cannot hide any data. */
    private static void drawLegend(StringBuilder sb, List<LegendEntry> legend, int left) {
        sb.append("<g class=\"legend\">");
        for (LegendEntry e : legend) {
            int lx = left + e.x(), ly = LEGEND_Y + e.row() * LEGEND_ROW;
            sb.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\" stroke-opacity=\"%.2f\"%s/>",
                    lx,
                    lx + 18,
                    ly - 4,
                    ly - 4,
                    e.colour(),
                    e.opacity(),
                    e.dashed() ? " stroke-dasharray=\"5 3\"" : ""));
            sb.append(String.format(
                    Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#222\">%s</text>", lx + 23, ly, Html.esc(e.name())));
        }
        sb.append("</g>");
    }

    /** One legend entry at {@code x} (from the plot's left edge) in legend row {@code row}. */
    record LegendEntry(String name, String colour, boolean dashed, double opacity, int row, int x) {}

    /** The legend laid out left to right in rows no wider than the plot. */
    static List<LegendEntry> legend(List<Series> series, List<Rule> rules, int pw) {
        List<LegendEntry> out = new ArrayList<>();
        int row = 0, x = 0;
        List<Object> items = new ArrayList<>();
        for (Series s : series) if (s.name() != null && !s.name().isEmpty()) items.add(s);
        for (Rule r : rules) if (Double.isFinite(r.y())) items.add(r);
        for (Object o : items) {
            String name = o instanceof Series s ? s.name() : ((Rule) o).name();
            int w = 23 + (int) Math.ceil(name.length() * CHAR_WIDTH);
            if (x > 0 && x + w > pw) {
                row++;
                x = 0;
            }
            if (o instanceof Series s) out.add(new LegendEntry(name, s.colour(), s.dashed(), s.opacity(), row, x));
            else out.add(new LegendEntry(name, ((Rule) o).colour(), true, 1, row, x));
            x += w + 16;
        }
        return out;
    }

    private record Axis(double x0, double x1, double y0, double y1, boolean log, int left, int top, int pw, int ph) {
        double px(double x) {
            return left + (x - x0) / (x1 - x0) * pw;
        }

        double py(double y) {
            double v = log ? Math.log10(y) : y;
            return top + ph - (v - y0) / (y1 - y0) * ph;
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
}
