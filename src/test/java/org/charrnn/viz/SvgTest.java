package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Element;
import org.jsoup.parser.Parser;
import org.junit.jupiter.api.Test;

/** The charts' axes, legend and size. */
class SvgTest {

    /** Labels of the linear ticks over [lo, hi]: distinct, and each one reads back as its tick. */
    private static String[] checkedLabels(double lo, double hi) {
        double[] t = Ticks.linear(lo, hi, 5);
        double eps = (t[1] - t[0]) * 1e-6;
        assertTrue(t[0] <= lo + eps && t[t.length - 1] >= hi - eps, Arrays.toString(t));
        String[] l = Ticks.linearLabels(t);
        assertEquals(t.length, new HashSet<>(List.of(l)).size(), "repeated labels: " + Arrays.toString(l));
        double step = t[1] - t[0];
        for (int i = 0; i < t.length; i++) {
            String s = l[i];
            double scale = s.endsWith("M") ? 1e6 : s.endsWith("k") ? 1e3 : 1;
            double v = Double.parseDouble(scale == 1 ? s : s.substring(0, s.length() - 1)) * scale;
            assertEquals(t[i], v, step * 1e-6, "label " + s + " of tick " + t[i]);
        }
        return l;
    }

    @Test
    void narrowRangesGetLabelsThatDiffer() {
        // a learning rate decaying from 0.00201 to 0.00188
        assertArrayEquals(
                new String[] {"0.00185", "0.00190", "0.00195", "0.00200", "0.00205"}, checkedLabels(0.00188, 0.00201));
        assertArrayEquals(new String[] {"1.0000", "1.0001", "1.0002", "1.0003"}, checkedLabels(1.00002, 1.00029));
        assertArrayEquals(
                new String[] {"2.0000e-4", "2.0001e-4", "2.0002e-4", "2.0003e-4"},
                checkedLabels(2.00002e-4, 2.00029e-4));
        assertArrayEquals(
                new String[] {"1.0000M", "1.0005M", "1.0010M", "1.0015M", "1.0020M"}, checkedLabels(1e6, 1.002e6));
        assertArrayEquals(
                new String[] {"123.0k", "123.5k", "124.0k", "124.5k", "125.0k"}, checkedLabels(123401, 124999));
        checkedLabels(-3e-7, 1e-7);
        checkedLabels(0.3, 0.30000001);
    }

    @Test
    void wideRangesGetShortLabels() {
        assertArrayEquals(new String[] {"0", "1", "2", "3", "4", "5"}, checkedLabels(0, 4.1));
        assertArrayEquals(new String[] {"0", "50k", "100k", "150k", "200k"}, checkedLabels(0, 200000));
        assertArrayEquals(new String[] {"0", "0.5M", "1.0M", "1.5M", "2.0M"}, checkedLabels(0, 2e6));
        assertArrayEquals(
                new String[] {"0", "250", "500", "750", "1000"}, Ticks.linearLabels(Ticks.linear(0, 1000, 4)));
        assertTrue(List.of(checkedLabels(0.0025, 0.003)).contains("0.0025"));
        checkedLabels(-1234, 98765);
    }

    @Test
    void logTicksAreDecadesWithPlainOrExponentLabels() {
        double[] t = Ticks.log(3e-6, 2e-3);
        assertArrayEquals(new double[] {1e-6, 1e-5, 1e-4, 1e-3, 1e-2}, t);
        assertArrayEquals(new String[] {"1e-6", "1e-5", "1e-4", "0.001", "0.01"}, Ticks.logLabels(t));
        double[] few = Ticks.log(0.05, 3);
        assertArrayEquals(new double[] {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}, few);
        assertArrayEquals(
                new String[] {"0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"}, Ticks.logLabels(few));
        assertArrayEquals(new String[] {"5e-7", "2e4"}, Ticks.logLabels(new double[] {5e-7, 2e4}));
    }

    private static Element svg(String s) {
        return Jsoup.parse(s, "", Parser.xmlParser()).selectFirst("svg");
    }

    private static double attr(Element e, String name) {
        return Double.parseDouble(e.attr(name));
    }

    @Test
    void aDecayingLearningRateIsDrawnOnALogAxisOnlyWhenAsked() {
        int n = 300;
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
            y[i] = 2e-3 * Math.pow(0.98, i);
        }
        List<Svg.Series> lr = List.of(Svg.Series.line("lr", "#2ca02c", x, y));
        Element log = svg(Svg.lineChart("Learning rate", "iteration", "learning rate", lr, List.of(), true));
        List<String> ticks = log.select("text.ytick").eachText();
        assertEquals(List.of("1e-6", "1e-5", "1e-4", "0.001", "0.01"), ticks);
        assertTrue(log.text().contains("(log scale)"));
        Element linear = svg(Svg.lineChart("Learning rate", "iteration", "learning rate", lr, List.of(), false));
        assertFalse(linear.text().contains("(log scale)"));
        // less than two decades stays linear even when asked
        double[] flat = new double[n];
        Arrays.fill(flat, 0.002);
        flat[0] = 0.0019;
        Element narrow = svg(Svg.lineChart(
                "Learning rate", "iteration", "lr", List.of(Svg.Series.line("lr", "#000", x, flat)), List.of(), true));
        List<String> labels = narrow.select("text.ytick").eachText();
        assertEquals(labels.size(), new HashSet<>(labels).size(), labels.toString());
        // long labels push the plot right rather than run into the axis title (at x = 14, about 4 units each side)
        for (Element t : narrow.select("text.ytick"))
            assertTrue(attr(t, "x") - 6.4 * t.text().length() >= 20, t.text() + " ends at " + t.attr("x"));
        assertFalse(narrow.text().contains("(log scale)"));
    }

    @Test
    void theLegendSitsAboveThePlotAndScalesWithThePage() {
        int n = 50;
        double[] x = new double[n], a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            a[i] = 0.002; // a constant line runs through the middle of the plot's top, where legends used to be
            b[i] = 0.002 - i * 1e-6;
        }
        Element svg = svg(Svg.lineChart(
                "Learning rate",
                "iteration",
                "learning rate",
                List.of(
                        Svg.Series.line("lr", "#2ca02c", x, a),
                        Svg.Series.line("a series with a rather long name", "#1f77b4", x, b),
                        Svg.Series.line("another series with a long name", "#ff7f0e", x, b)),
                List.of(new Svg.Rule("threshold", "#d62728", 0.00197))));
        Element plot = svg.selectFirst("rect.plot");
        double top = attr(plot, "y"), left = attr(plot, "x"), right = left + attr(plot, "width");
        List<Element> entries = svg.select("g.legend text");
        assertEquals(4, entries.size());
        assertTrue(
                svg.select("g.legend line").stream()
                                .map(l -> attr(l, "y1"))
                                .distinct()
                                .count()
                        > 1,
                "two rows");
        for (Element t : entries) {
            // a label's glyphs reach at most ~4 units below its baseline; the plot starts below that
            assertTrue(attr(t, "y") + 4 < top, t.text() + " at " + t.attr("y") + ", plot at " + top);
            double end = attr(t, "x") + 6.4 * t.text().length();
            assertTrue(attr(t, "x") >= left && end <= right + 1, t.text() + " fits the width");
        }
        for (Element p : svg.select("polyline"))
            for (String pt : p.attr("points").trim().split("\\s+"))
                assertTrue(Double.parseDouble(pt.split(",")[1]) >= top - 0.05, "point " + pt + " in the plot");
        // no fixed pixel size: a viewBox and the full width of its container
        assertEquals("100%", svg.attr("width"));
        assertFalse(svg.hasAttr("height"));
        String[] box = svg.attr("viewBox").split(" ");
        assertEquals(Integer.toString(Svg.WIDTH), box[2]);
        assertEquals(top + Svg.PLOT_HEIGHT + 44, Double.parseDouble(box[3]));
    }
}
