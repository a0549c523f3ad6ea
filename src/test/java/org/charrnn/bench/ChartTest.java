package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The SVG chart is well-formed XML with one panel per (cell, L, B, T) and one series per backend in each. */
class ChartTest {

    private static String row(String impl, String precision, int layers, int hidden, double ms) {
        return String.format(
                java.util.Locale.ROOT,
                "{\"impl\":\"%s\",\"device\":\"dev <1> & \\\"x\\\"\",\"precision\":\"%s\",\"cell\":\"lstm\",\"layers\":%d,\"hidden\":%d,"
                        + "\"batch\":50,\"seq\":50,\"ms_per_step\":%s,\"chars_per_s\":%d}\n",
                impl,
                precision,
                layers,
                hidden,
                ms,
                Math.round(2500 / ms * 1000));
    }

    private static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void wellFormedWithOneSeriesPerBackend() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int l = 1; l <= 2; l++)
            for (int h : new int[] {64, 128, 256}) {
                sb.append(row("charrnn-reference", "fp64", l, h, 100.0 * h / 64 * l));
                sb.append(row("charrnn-opencl", "fp32", l, h, 10.0 * h / 64 * l));
                if (l == 1) sb.append(row("pytorch", "fp32", l, h, 1.0 * h / 64));
            }
        List<JsonRows> rows = JsonRows.parse(sb.toString(), "t");
        String svg = Chart.svg(rows, "throughput <test> & more");
        Document d = parse(svg);
        Element root = d.getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals("http://www.w3.org/2000/svg", root.getNamespaceURI());

        List<Element> panels = byClass(d, "g", "panel");
        assertEquals(2, panels.size());
        assertEquals("lstm L1  B50 T50", panels.get(0).getAttribute("data-panel"));
        List<Set<String>> seriesPerPanel = new ArrayList<>();
        for (Element p : panels) {
            Set<String> names = new TreeSet<>();
            int groups = 0;
            NodeList gs = p.getElementsByTagNameNS("*", "g");
            for (int i = 0; i < gs.getLength(); i++) {
                Element g = (Element) gs.item(i);
                if (!g.getAttribute("class").equals("series")) continue;
                groups++;
                names.add(g.getAttribute("data-series"));
                assertEquals(1, g.getElementsByTagNameNS("*", "polyline").getLength());
                assertEquals(3, g.getElementsByTagNameNS("*", "circle").getLength(), "one point per H");
            }
            assertEquals(names.size(), groups, "one series group per backend");
            seriesPerPanel.add(names);
        }
        assertEquals(Set.of("charrnn-reference fp64", "charrnn-opencl fp32", "pytorch fp32"), seriesPerPanel.get(0));
        assertEquals(Set.of("charrnn-reference fp64", "charrnn-opencl fp32"), seriesPerPanel.get(1));
        assertEquals(List.of("charrnn-opencl fp32", "charrnn-reference fp64", "pytorch fp32"), Chart.seriesNames(rows));
        Element legend = byClass(d, "g", "legend").get(0);
        assertEquals(3, legend.getElementsByTagNameNS("*", "text").getLength());
        assertTrue(svg.contains("throughput &lt;test&gt; &amp; more"));
    }

    @Test
    void higherThroughputIsDrawnHigher() throws Exception {
        String rows = row("charrnn-a", "fp32", 1, 64, 10) + row("charrnn-b", "fp32", 1, 64, 1);
        Document d = parse(Chart.svg(JsonRows.parse(rows, "t"), "t"));
        double ya = Double.NaN, yb = Double.NaN;
        for (Element g : byClass(d, "g", "series")) {
            Element c = (Element) g.getElementsByTagNameNS("*", "circle").item(0);
            double y = Double.parseDouble(c.getAttribute("cy"));
            if (g.getAttribute("data-series").startsWith("charrnn-a")) ya = y;
            else yb = y;
        }
        assertTrue(yb < ya, "10x the chars/s is higher on the page: " + yb + " vs " + ya);
    }

    /** Rounds of the same row are drawn at their median, not at whichever came last. */
    @Test
    void repeatedRowsAreDrawnAtTheirMedian() throws Exception {
        String once = row("charrnn-a", "fp32", 1, 64, 10) + row("charrnn-b", "fp32", 1, 64, 10);
        String rounds = row("charrnn-a", "fp32", 1, 64, 10)
                + row("charrnn-a", "fp32", 1, 64, 10)
                + row("charrnn-a", "fp32", 1, 64, 40) // the last round, an outlier
                + row("charrnn-b", "fp32", 1, 64, 10);
        assertEquals(seriesY(once, "charrnn-a"), seriesY(rounds, "charrnn-a"), 1e-9);
        assertEquals(15.0, Chart.median(List.of(40.0, 10.0, 5.0, 20.0)), 1e-12);
    }

    private static double seriesY(String rows, String series) throws Exception {
        Document d = parse(Chart.svg(JsonRows.parse(rows, "t"), "t"));
        for (Element g : byClass(d, "g", "series"))
            if (g.getAttribute("data-series").startsWith(series))
                return Double.parseDouble(
                        ((Element) g.getElementsByTagNameNS("*", "circle").item(0)).getAttribute("cy"));
        throw new AssertionError("no series " + series);
    }

    @Test
    void noRowsIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> Chart.svg(List.of(), "t"));
    }

    @Test
    void siLabels() {
        assertEquals("1", Chart.si(0));
        assertEquals("100", Chart.si(2));
        assertEquals("1k", Chart.si(3));
        assertEquals("10k", Chart.si(4));
        assertEquals("1M", Chart.si(6));
    }

    private static List<Element> byClass(Document d, String tag, String cls) {
        List<Element> out = new ArrayList<>();
        NodeList n = d.getElementsByTagNameNS("*", tag);
        for (int i = 0; i < n.getLength(); i++) {
            Element e = (Element) n.item(i);
            if (e.getAttribute("class").equals(cls)) out.add(e);
        }
        return out;
    }
}
