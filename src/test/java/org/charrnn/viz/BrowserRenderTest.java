package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders both pages in a real headless browser (Debian's chromium) and checks the screenshots are
 * not blank. Skips where /usr/bin/chromium is absent; CI installs it.
 */
class BrowserRenderTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    static Path dir;

    static Path run;

    @BeforeAll
    static void trainModel() {
        assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed (apt-get install chromium)");
        run = dir.resolve("run");
        VizFixtures.train(run, CellType.LSTM, 30, null);
    }

    /** A screenshot of {@code html} at 1200x900. */
    private static BufferedImage screenshot(Path html, String name) throws Exception {
        Path png = dir.resolve(name + ".png");
        Path profile = Files.createTempDirectory(dir, "profile");
        Process p = new ProcessBuilder(
                        CHROMIUM.toString(),
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--user-data-dir=" + profile,
                        "--screenshot=" + png,
                        "--window-size=1200,900",
                        html.toUri().toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile())
                .start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 90 s");
        }
        assertTrue(
                Files.isRegularFile(png),
                "no screenshot; chromium said: " + Files.readString(dir.resolve(name + ".log")));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1200, img.getWidth());
        assertEquals(900, img.getHeight());
        return img;
    }

    /** The DOM after the page's scripts ran, in a 1200x900 window. */
    private static String dumpDom(Path html, String name) throws Exception {
        return dumpDom(html, name, 1200, 900);
    }

    /** The DOM after the page's scripts ran, in a window of the given size. */
    private static String dumpDom(Path html, String name, int width, int height) throws Exception {
        Path profile = Files.createTempDirectory(dir, "profile");
        Path out = dir.resolve(name + ".dom");
        Process p = new ProcessBuilder(
                        CHROMIUM.toString(),
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--user-data-dir=" + profile,
                        "--window-size=" + width + "," + height,
                        "--dump-dom",
                        html.toUri().toString())
                .redirectOutput(out.toFile())
                .redirectError(dir.resolve(name + ".log").toFile())
                .start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 90 s");
        }
        return Files.readString(out);
    }

    private record Stats(double nonWhite, int colours, int reddish, int bluish) {}

    private static Stats stats(BufferedImage img) {
        long nonWhite = 0;
        int reddish = 0, bluish = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xFFFFFF;
                int r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
                colours.add(rgb);
                if (r < 245 || g < 245 || b < 245) nonWhite++;
                if (r > 200 && g < 170 && b < 170) reddish++;
                if (b > 200 && r < 170 && g < 170) bluish++;
            }
        }
        return new Stats(nonWhite / (double) (img.getWidth() * img.getHeight()), colours.size(), reddish, bluish);
    }

    @Test
    void cellsPageRendersShadedText() throws Exception {
        Checkpoint.Model m = Checkpoint.loadModel(Checkpoint.resolveModel(run));
        CellsPage.Encoded e =
                CellsPage.encode(m.vocabulary(), VizFixtures.code(1500, 21).getBytes(StandardCharsets.UTF_8), 1500);
        CellsPage.Analysis a;
        try (org.charrnn.backend.ReferenceBackend b =
                new org.charrnn.backend.ReferenceBackend(m.config(), org.charrnn.backend.BackendOptions.defaults())) {
            a = CellsPage.analyse(m, b, e, CellsPage.Selection.top(0, 3), List.of(TextFeatures.Feature.values()), 2);
        }
        Path html = dir.resolve("cells.html");
        CellsPage.write(html, a, "code.c");
        Stats s = stats(screenshot(html, "cells"));
        assertTrue(s.nonWhite() > 0.05, "mostly blank: " + s);
        assertTrue(s.colours() > 50, "too few colours: " + s);
        assertTrue(s.reddish() > 500 && s.bluish() > 500, "red and blue shading expected: " + s);

        // the script draws every character of every block, shaded by its quantized activation
        String page = Files.readString(html);
        PageData data = PageData.of(page);
        Document drawn = Jsoup.parse(dumpDom(html, "cells"));
        Document raw = Jsoup.parse(page);
        Elements blocks = drawn.select(".block");
        assertEquals(raw.select(".block").size(), blocks.size());
        for (Element b : blocks) {
            Elements spans = b.select("span.c");
            assertEquals(e.length(), spans.size(), "one element per character");
            double[] v = PageData.activations(raw.getElementById(b.id()));
            for (int t = 0; t < spans.size(); t++) {
                Element c = spans.get(t);
                int q = (int) Math.round(v[t] * 127);
                assertEquals(data.shown(t), c.wholeText(), "character " + t);
                assertEquals(Integer.toString(t), c.attr("data-i"));
                assertEquals(String.format(java.util.Locale.ROOT, "%.2f", q / 127.0), c.attr("data-v"));
                assertEquals(rgb(data.colour(q)), c.attr("style").replaceAll(".*background: *([^;]*);?.*", "$1"));
            }
        }

        // hovering a character shows its value and the most likely next characters
        Path hover = dir.resolve("hover.html");
        Files.writeString(
                hover,
                page.replace(
                        "</body>",
                        "<script>var s=document.querySelectorAll('#chosen .c')[7];"
                                + "s.dispatchEvent(new MouseEvent('mouseover',{bubbles:true,clientX:20,clientY:20}));</script></body>"));
        Document dom = Jsoup.parse(dumpDom(hover, "hover"));
        Element tip = dom.getElementById("tip");
        assertTrue(tip.attr("style").contains("display: block"), tip.outerHtml());
        Element span = drawn.select("#chosen .c").get(7);
        assertTrue(tip.text().contains("activation " + span.attr("data-v")), tip.text());
        assertEquals(5, tip.select("tr").size(), tip.outerHtml());
        String first = data.vocabLabel(data.predicted(7, 0));
        assertTrue(tip.select("tr").get(0).text().startsWith(first), tip.outerHtml());
        assertTrue(tip.select("tr").get(0).text().endsWith(data.percent(7, 0) + "%"), tip.outerHtml());
    }

    /** "#ff9f9f" as the browser writes it in a style: "rgb(255, 159, 159)". */
    private static String rgb(String hex) {
        int v = Integer.parseInt(hex.substring(1), 16);
        return "rgb(" + (v >> 16) + ", " + (v >> 8 & 0xFF) + ", " + (v & 0xFF) + ")";
    }

    @Test
    void reportRendersCharts() throws Exception {
        Path html = run.resolve("report.html");
        ReportPage.write(run, html);
        Stats s = stats(screenshot(html, "report"));
        assertTrue(s.nonWhite() > 0.03, "mostly blank: " + s);
        assertTrue(s.colours() > 50, "too few colours: " + s);
    }

    /**
     * The charts' laid-out boxes: per chart "left,top,width", its cell's width and how far its
     * content overflows the cell, and the width of the page's content.
     */
    private static Document chartLayout(Path html, int width) throws Exception {
        Path probe = dir.resolve("layout-" + width + ".html");
        Files.writeString(
                probe,
                Files.readString(html)
                        .replace(
                                "</body>",
                                "<script>document.body.setAttribute('data-content',document.body.clientWidth);"
                                        + "document.querySelectorAll('svg.chart').forEach(function(c){var r=c.getBoundingClientRect();"
                                        + "c.setAttribute('data-box',Math.round(r.left)+','+Math.round(r.top)+','+Math.round(r.width));"
                                        + "var d=c.parentNode;d.setAttribute('data-width',Math.round(d.getBoundingClientRect().width));"
                                        + "d.setAttribute('data-overflow',d.scrollWidth-d.clientWidth);"
                                        + "});</script></body>"));
        return Jsoup.parse(dumpDom(probe, "layout-" + width, width, 900));
    }

    @Test
    void chartsFillTheWidthOfAWidePageAndKeepAReadableSizeOnANarrowOne() throws Exception {
        Path html = run.resolve("report.html");
        ReportPage.write(run, html);
        Document wide = chartLayout(html, 1400);
        int content = Integer.parseInt(wide.body().attr("data-content"));
        assertTrue(content > 1200, "content width " + content);
        Elements charts = wide.select("svg.chart");
        assertEquals(7, charts.size());
        int[] first = box(charts.get(0));
        int rowRight = 0, inRow = 0;
        for (Element c : charts) {
            int[] b = box(c);
            if (b[1] != first[1]) continue;
            inRow++;
            rowRight = Math.max(rowRight, b[0] + b[2]);
        }
        assertTrue(inRow >= 2, "charts side by side: " + inRow);
        for (Element c : charts) assertEquals("0", c.parent().attr("data-overflow"), "no sideways scrolling when wide");
        // the first row reaches across the page (less the body's margin)
        assertTrue(rowRight - first[0] >= 0.97 * content, "row spans " + (rowRight - first[0]) + " of " + content);

        // a phone-sized window (headless Chromium keeps windows at least about 500 px wide): one column
        Document narrow = chartLayout(html, 500);
        int narrowContent = Integer.parseInt(narrow.body().attr("data-content"));
        assertTrue(narrowContent < 500, "content width " + narrowContent);
        java.util.Set<Integer> tops = new java.util.HashSet<>();
        for (Element c : narrow.select("svg.chart")) {
            tops.add(box(c)[1]);
            assertTrue(box(c)[2] >= 400, "a chart keeps a readable width: " + c.attr("data-box"));
            int cell = Integer.parseInt(c.parent().attr("data-width"));
            assertTrue(cell <= narrowContent, "its cell fits the page: " + cell + " of " + narrowContent);
        }
        assertEquals(7, tops.size(), "one chart per row");
    }

    private static int[] box(Element chart) {
        String[] p = chart.attr("data-box").split(",");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
    }
}
