package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.testutil.CliRun;
import org.charrnn.train.Trainer;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportPageTest {
    @TempDir
    Path dir;

    private static String summaryValue(Document doc, String key) {
        for (Element tr : doc.select("#summary tr"))
            if (tr.selectFirst("th").text().equals(key))
                return tr.selectFirst("td").text();
        return null;
    }

    private static int points(Element polyline) {
        return polyline.attr("points").trim().split("\\s+").length;
    }

    /** The checkpoint hook refreshes the report; the page shows every iteration, every validation and every sample. */
    @Test
    void checkpointHookRefreshesTheReport() throws Exception {
        Path run = dir.resolve("run");
        List<String> iterationsShown = new ArrayList<>();
        VizFixtures.train(run, CellType.LSTM, 30, Trainer.Options.defaults().withOnCheckpoint(file -> {
            ReportPage.write(run, run.resolve("report.html"));
            try {
                iterationsShown.add(
                        summaryValue(Jsoup.parse(run.resolve("report.html").toFile(), "UTF-8"), "iterations"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }));
        assertEquals(3, iterationsShown.size());
        for (int i = 0; i < 3; i++)
            assertTrue(iterationsShown.get(i).startsWith((i + 1) * 10 + " (epoch "), iterationsShown.get(i));

        Document doc = Jsoup.parse(run.resolve("report.html").toFile(), "UTF-8");
        Elements charts = doc.select("svg.chart");
        assertEquals(7, charts.size());
        List<String> titles = new ArrayList<>();
        for (Element c : charts) titles.add(c.selectFirst("title").text());
        assertEquals(
                List.of(
                        "Loss (nats/char) vs iteration",
                        "Loss (bits/char) vs iteration",
                        "Loss (nats/char) vs wall time",
                        "Loss (bits/char) vs wall time",
                        "Learning rate",
                        "Gradient norm (before clipping)",
                        "Throughput"),
                titles);
        for (Element c : charts.subList(0, 4)) {
            assertEquals(30, points(c.selectFirst("polyline[data-name=train]")));
            assertEquals(30, points(c.selectFirst("polyline[data-name=train (smoothed)]")));
            assertEquals(3, points(c.selectFirst("polyline[data-name=validation]")));
        }
        // the clip threshold (5, --clip-mode norm) is drawn on the gradient norm chart
        assertEquals(1, charts.get(5).select("line.rule").size());

        // the samples written at the checkpoints, in iteration order, verbatim
        Elements samples = doc.select("#samples .sample");
        assertEquals(3, samples.size());
        List<Path> ckpts = Checkpoint.list(run);
        for (int i = 0; i < 3; i++) {
            assertEquals(Long.toString(10L * (i + 1)), samples.get(i).attr("data-iter"));
            assertEquals(
                    Files.readString(Checkpoint.samplePath(ckpts.get(i)), StandardCharsets.UTF_8),
                    samples.get(i).selectFirst("pre").wholeText());
        }
        assertEquals(4, doc.select("#checkpoints tr").size());
        assertTrue(doc.select("#config td").eachText().contains("lstm"));
        assertTrue(summaryValue(doc, "val loss (best)").contains("bits/char"));
        assertTrue(doc.select("[src], link, script").isEmpty(), "self-contained, no scripts");
    }

    @Test
    void metricsAcrossAResumeAndDamagedLines() throws Exception {
        String row =
                "{\"type\":\"iter\",\"iter\":%d,\"epoch\":0.1,\"chars_per_s\":100.0,\"grad_norm\":1.0,\"loss\":%s,\"lr\":0.002,\"time_s\":%s}\n";
        String text = String.format(row, 1, "4.0", "1.0") + String.format(row, 2, "3.5", "2.0")
                + "{\"type\":\"val\",\"iter\":2,\"epoch\":0.2,\"val_bpc\":5.0,\"val_loss\":3.4657}\n"
                + String.format(row, 3, "NaN", "3.0")
                + "{\"type\":\"iter\",\"iter\":\n" // cut short
                + String.format(row, 3, "3.0", "0.5") // resumed at iteration 2: 3 is done again
                + String.format(row, 4, "2.5", "1.5");
        Files.writeString(dir.resolve("metrics.jsonl"), text);
        // a line of bytes that are not UTF-8 (a damaged disk block): one more bad line, not a failed page
        Files.write(
                dir.resolve("metrics.jsonl"),
                new byte[] {(byte) 0xFF, (byte) 0xFE, '{', '\n'},
                java.nio.file.StandardOpenOption.APPEND);
        RunMetrics.Metrics m = RunMetrics.readMetrics(dir.resolve("metrics.jsonl"));
        assertEquals(2, m.badLines());
        assertEquals(
                List.of(1L, 2L, 3L, 4L),
                m.iters().stream().map(RunMetrics.IterRow::iter).toList());
        assertEquals(3.0, m.iters().get(2).loss());
        assertEquals(
                List.of(1.0, 2.0, 3.5, 4.5),
                m.iters().stream().map(RunMetrics.IterRow::wall).toList());
        assertEquals(1, m.vals().size());
        assertEquals(2.0, m.vals().get(0).wall());

        Document doc = Jsoup.parse(ReportPage.render(dir));
        assertEquals("4 (epoch 0.10)", summaryValue(doc, "iterations"));
        assertTrue(summaryValue(doc, "metrics").contains("2 line(s)"), summaryValue(doc, "metrics"));
        assertFalse(doc.select("#config .note").isEmpty(), "no config.json is noted");
    }

    @Test
    @SuppressWarnings("InlineFormatString") // one row template, filled per row below
    void aNonFiniteLossLeavesAGap() throws Exception {
        String row =
                "{\"type\":\"iter\",\"iter\":%d,\"epoch\":0.1,\"chars_per_s\":100.0,\"grad_norm\":1.0,\"loss\":%s,\"lr\":0.002,\"time_s\":%d}\n";
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 6; i++) sb.append(String.format(row, i, i == 4 ? "NaN" : "2.0", i));
        Files.writeString(dir.resolve("metrics.jsonl"), sb.toString());
        Element chart = Jsoup.parse(ReportPage.render(dir)).selectFirst("svg.chart");
        Elements raw = chart.select("polyline[data-name=train]");
        assertEquals(2, raw.size());
        assertEquals(3, points(raw.get(0)));
        assertEquals(2, points(raw.get(1)));
    }

    @Test
    void smoothingFollowsTheTrendAndSkipsNaN() {
        double[] y = new double[400];
        for (int i = 0; i < y.length; i++) y[i] = 3 - i / 200.0 + ((i % 2 == 0) ? 0.5 : -0.5);
        y[100] = Double.NaN;
        double[] s = ReportPage.smooth(y);
        assertTrue(Double.isNaN(s[100]));
        assertEquals(y[0], s[0], 1e-12); // bias-corrected: starts at the first value
        assertEquals(3 - 399 / 200.0, s[399], 0.15); // the zig-zag is averaged away, the trend kept
    }

    @Test
    void smoothingStartsAtTheFirstValue() {
        double[] constant = new double[500];
        java.util.Arrays.fill(constant, 4.17);
        for (double v : ReportPage.smooth(constant)) assertEquals(4.17, v, 1e-12);
        double[] falling = new double[500];
        for (int i = 0; i < falling.length; i++) falling[i] = 4.2 - i * 0.004;
        assertEquals(falling[0], ReportPage.smooth(falling)[0], 1e-12);
        double[] gap = {Double.NaN, 3.0, 2.0};
        assertEquals(3.0, ReportPage.smooth(gap)[1], 1e-12);
    }

    /**
     * A loss that falls fast early and flattens, with noise, over 8000 iterations (a 200-point
     * window): the smoothed curve stays near the trend from the start instead of lagging above it.
     */
    @Test
    void smoothingDoesNotLagAboveAFastFallingLoss() {
        int n = 8000;
        double[] trend = new double[n], y = new double[n];
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            trend[i] = 1.5 + 2.7 * Math.exp(-i / 150.0);
            y[i] = trend[i] + r.nextDouble(-0.15, 0.15);
        }
        double[] s = ReportPage.smooth(y);
        double worst = 0, noise = 0;
        for (int i = 10; i < 1000; i++) worst = Math.max(worst, Math.abs(s[i] - trend[i]));
        for (int i = 2000; i < n; i++) noise = Math.max(noise, Math.abs(s[i] - trend[i]));
        assertTrue(worst < 0.2, "smoothed curve is up to " + worst + " off the trend in the first 1000 iterations");
        assertTrue(noise < 0.03, "late noise is averaged away: " + noise);
    }

    @Test
    void svgReducesLongSeriesButKeepsSpikes() {
        int n = 20000;
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = 1 + 0.01 * Math.sin(i);
        }
        y[12345] = 50;
        double[][] r = Svg.reduce(x, y);
        assertTrue(r[0].length <= Svg.MAX_POINTS, "points: " + r[0].length);
        double max = 0;
        for (double v : r[1]) max = Math.max(max, v);
        assertEquals(50, max);
        for (int i = 1; i < r[0].length; i++) assertTrue(r[0][i] > r[0][i - 1], "x order");
        assertTrue(Svg.lineChart("t", "x", "y", List.of(), List.of()).contains("no data yet"));
    }

    @Test
    void trainReportOptionAndReportCommand() throws Exception {
        Path data = dir.resolve("code.c");
        Files.writeString(data, VizFixtures.code(4000, 8));
        Path run = dir.resolve("run");
        CliRun t = CliRun.of(
                "train",
                "--data",
                data.toString(),
                "--backend",
                "reference",
                "--quiet",
                "--out",
                run.toString(),
                "--layers",
                "1",
                "--hidden",
                "16",
                "--embedding",
                "8",
                "--batch",
                "4",
                "--seq",
                "20",
                "--max-iters",
                "20",
                "--checkpoint-every",
                "10",
                "--val-every",
                "10",
                "--sample-length",
                "30",
                "--report",
                "--cache-dir",
                dir.resolve("cache").toString());
        assertEquals(0, t.code(), t.err());
        Document doc = Jsoup.parse(run.resolve("report.html").toFile(), "UTF-8");
        assertTrue(summaryValue(doc, "iterations").startsWith("20 (epoch "), summaryValue(doc, "iterations"));
        assertEquals(2, doc.select("#samples .sample").size());

        Path out = dir.resolve("elsewhere/r.html");
        CliRun r = CliRun.of("report", "--run", run.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(7, Jsoup.parse(out.toFile(), "UTF-8").select("svg.chart").size());

        CliRun.of("report", "--run", dir.resolve("missing").toString(), "--out", out.toString())
                .assertOneLineError("run directory not found");
        CliRun.of("report", "--run", out.toString())
                .assertOneLineError(out + " is not a directory; give the --out of charrnn train");
        Files.createDirectories(dir.resolve("empty"));
        CliRun.of("report", "--run", dir.resolve("empty").toString()).assertOneLineError("is not a run directory");
        CliRun.of("report", "--run", run.toString(), "--out", dir.toString())
                .assertOneLineError("--out " + dir + " is a directory; give a file name");
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("pipe.html"));
        CliRun.of("report", "--run", run.toString(), "--out", pipe.toString())
                .assertOneLineError(
                        "--out " + pipe + " is not a regular file (a device, pipe or socket); give a file name");
    }
}
