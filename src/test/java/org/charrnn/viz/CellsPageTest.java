package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.data.Encoding;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.testutil.CliRun;
import org.charrnn.viz.CellSearch.Cell;
import org.charrnn.viz.CellSearch.Hit;
import org.charrnn.viz.TextFeatures.Feature;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cells page parsed as HTML and its data decoded as its script does (the browser test renders
 * it): per block the activation after each character, the text and the hover predictions.
 */
class CellsPageTest {
    @TempDir
    static Path dir;

    static Path lstmRun, gruRun, textFile;
    static String text;

    @BeforeAll
    static void trainModels() throws Exception {
        lstmRun = dir.resolve("lstm");
        gruRun = dir.resolve("gru");
        VizFixtures.train(lstmRun, CellType.LSTM, 30, null);
        VizFixtures.train(gruRun, CellType.GRU, 20, null);
        text = VizFixtures.code(900, 77).substring(0, 900);
        textFile = dir.resolve("code.c");
        Files.writeString(textFile, text + "int x;\n", StandardCharsets.UTF_8);
    }

    private static Trace trace(Checkpoint.Model m, int[] tokens) {
        try (ReferenceBackend b = new ReferenceBackend(m.config(), BackendOptions.defaults())) {
            b.setParameters(m.params());
            try (RnnState s = b.newState(1)) {
                return Trace.of(b, s, tokens);
            }
        }
    }

    private static String shown(int cp) {
        return cp == '\n' ? "\u21b5" : cp == '\t' ? "\u21e5" : new String(Character.toChars(cp));
    }

    /** A block's layer, cell and activations against the trace, and the text it shades. */
    private static void assertBlockMatches(Element block, PageData data, Cell cell, Trace tr, int H, int[] symbols) {
        assertEquals(Integer.toString(cell.layer()), block.attr("data-layer"));
        assertEquals(Integer.toString(cell.index()), block.attr("data-cell"));
        double[] v = PageData.activations(block);
        assertEquals(symbols.length, v.length, "one value per character");
        assertEquals(symbols.length, data.length());
        for (int t = 0; t < symbols.length; t++) {
            assertEquals(shown(symbols[t]), data.shown(t), "character " + t);
            double expect = tr.cells()[cell.layer()][t * H + cell.index()];
            assertEquals(expect, v[t], 0.5 / 127 + 1e-9, "value of " + cell + " at " + t);
        }
    }

    @Test
    void chosenCellsAndFeatureSearch() throws Exception {
        Path out = dir.resolve("pages/lstm.html");
        CliRun r = CliRun.of(
                "cells",
                "--checkpoint",
                lstmRun.toString(),
                "--text",
                textFile.toString(),
                "--layer",
                "0",
                "--cells",
                "0,3",
                "--max-chars",
                "900",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("wrote " + out), r.err());
        String html = Files.readString(out);
        Document doc = Jsoup.parse(html);

        Checkpoint.Model m = Checkpoint.loadModel(Checkpoint.resolveModel(lstmRun));
        int[] symbols = TextFeatures.codePoints(text);
        int[] tokens = m.vocabulary().encodePrime(text);
        Trace tr = trace(m, tokens);
        int H = m.config().hidden();

        PageData data = PageData.of(html);
        Elements chosen = doc.select("#chosen .block");
        assertEquals(2, chosen.size());
        assertBlockMatches(chosen.get(0), data, new Cell(0, 0), tr, H, symbols);
        assertBlockMatches(chosen.get(1), data, new Cell(0, 3), tr, H, symbols);
        // markup characters come through as data, not markup
        java.util.Set<String> shownChars = new java.util.HashSet<>();
        for (int t = 0; t < data.length(); t++) shownChars.add(data.shown(t));
        assertTrue(shownChars.containsAll(List.of("<", "&", "\"")), shownChars.toString());
        assertFalse(html.contains("\"<\""), "the script's data escapes markup characters");

        // the search: the 3 best cells per feature of code, as CellSearch finds them on the same trace
        List<Feature> code = TextKind.CODE.features();
        Map<Feature, double[]> fs = TextFeatures.compute(symbols, code);
        Elements features = doc.select("#features .feature");
        assertEquals(
                code.stream().map(Feature::id).toList(),
                features.stream().map(f -> f.attr("data-feature")).toList());
        assertTrue(doc.getElementById("kind").text().startsWith("The text looks like code."));
        assertTrue(r.err().contains("code.c looks like code; features: " + CellsPage.ids(code)), r.err());
        assertFalse(r.err().contains("charrnn:"), "what a run that succeeds says is not worded as an error");
        Pattern rOf = Pattern.compile("r = ([+-][0-9.]+)");
        for (Element f : features) {
            Feature feature = Feature.parse(f.attr("data-feature"));
            List<Hit> expect = CellSearch.top(tr.cells(), H, fs.get(feature), null, 3);
            Elements blocks = f.select(".block");
            assertEquals(3, blocks.size(), feature.id());
            for (int k = 0; k < 3; k++) {
                assertBlockMatches(blocks.get(k), data, expect.get(k).cell(), tr, H, symbols);
                Matcher mr = rOf.matcher(blocks.get(k).selectFirst("h3").text());
                assertTrue(mr.find());
                assertEquals(expect.get(k).r(), Double.parseDouble(mr.group(1)), 5.0001e-4);
            }
        }
        assertEquals(code.size() * 3, doc.select("table.summary tr").size() - 1);

        // hover data: the model's 5 most likely next characters after each one, in whole percent
        int V = m.config().vocabSize();
        assertEquals(5, data.k());
        for (int t : new int[] {0, 17, 450, symbols.length - 1}) {
            Integer[] order = new Integer[V];
            for (int j = 0; j < V; j++) order[j] = j;
            final int at = t;
            java.util.Arrays.sort(order, (x, y) -> Double.compare(tr.probs()[at * V + y], tr.probs()[at * V + x]));
            for (int i = 0; i < 5; i++) {
                int best = order[i];
                assertEquals(best, data.predicted(t, i), "rank " + i + " after character " + t);
                String label = m.vocabulary().display(best).equals(" ")
                        ? "\u2423"
                        : m.vocabulary().display(best);
                assertEquals(label, data.vocabLabel(best));
                assertEquals(Math.round(100 * tr.probs()[t * V + best]), data.percent(t, i));
            }
        }
        assertEquals(shown(symbols[3]).equals(" ") ? "\u2423" : shown(symbols[3]), data.label(3));
        for (int q : new int[] {-127, -40, 0, 1, 127}) assertEquals(CellsHtml.colour(q / 127.0), data.colour(q));
        // self-contained: nothing loaded from elsewhere
        assertTrue(doc.select("[src], link").isEmpty());
    }

    /**
     * 5,000 characters shaded for 23 cells: the page costs about one byte and a third per character
     * and cell (a base64 signed byte), plus per character its symbol and its five likeliest next
     * symbols (index and percent, a byte each), plus a fixed part; far below 1 MB.
     */
    @Test
    void thePageGrowsByAboutOneByteAndAThirdPerCharacterAndCell() throws Exception {
        Path big = dir.resolve("big.c");
        Files.writeString(big, VizFixtures.code(5200, 5), StandardCharsets.UTF_8);
        Path out = dir.resolve("big.html");
        CliRun r = CliRun.of(
                "cells",
                "--checkpoint",
                lstmRun.toString(),
                "--text",
                big.toString(),
                "--top",
                "5",
                "--per-feature",
                "3",
                "--max-chars",
                "5000",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        Document doc = Jsoup.parse(out.toFile(), "UTF-8");
        int blocks = doc.select(".block").size(), T = 5000;
        assertEquals(5 + 3 * TextKind.CODE.features().size(), blocks);
        long perChar = blocks + 1L + 5 * 2; // bytes before base64
        long bound = 20_000 + 400L * blocks + (long) Math.ceil(T * perChar * 4 / 3.0);
        long size = Files.size(out);
        assertTrue(size <= bound, size + " bytes, more than " + bound);
        assertTrue(size < 400_000, size + " bytes");
        for (Element b : doc.select(".block")) assertEquals(T, PageData.activations(b).length);
    }

    @Test
    void featuresThatDoNotVaryAreLeftOutAndNamed() throws Exception {
        Path out = dir.resolve("all.html");
        CliRun r = CliRun.of(
                "cells",
                "--checkpoint",
                lstmRun.toString(),
                "--text",
                textFile.toString(),
                "--cells",
                "0",
                "--features",
                "all",
                "--per-feature",
                "1",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        // this C text has no speaker lines, no speeches, no line that starts with a capital letter
        assertTrue(r.err().contains("(constant here, left out: speaker, speech-line, capital-line)"), r.err());
        Document doc = Jsoup.parse(out.toFile(), "UTF-8");
        assertTrue(
                doc.getElementById("kind")
                        .text()
                        .contains("left out, being constant in this text: speaker, speech-line, capital-line"),
                doc.getElementById("kind").text());
        assertTrue(doc.select(".feature[data-feature=speaker]").isEmpty());
        assertEquals(
                Feature.values().length - 3, doc.select("#features .feature").size());
    }

    @Test
    void gruTopCellsWithoutSearch() throws Exception {
        Path out = dir.resolve("gru.html");
        CliRun r = CliRun.of(
                "cells",
                "--checkpoint",
                gruRun.toString(),
                "--text",
                textFile.toString(),
                "--top",
                "4",
                "--per-feature",
                "0",
                "--max-chars",
                "300",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        Document doc = Jsoup.parse(out.toFile(), "UTF-8");
        Checkpoint.Model m = Checkpoint.loadModel(Checkpoint.resolveModel(gruRun));
        String head = text.substring(0, 300);
        Trace tr = trace(m, m.vocabulary().encodePrime(head));
        List<Cell> expect = CellSearch.mostActive(tr.cells(), 16, 0, 4);
        Elements blocks = doc.select("#chosen .block");
        assertEquals(4, blocks.size());
        for (int k = 0; k < 4; k++)
            assertBlockMatches(
                    blocks.get(k),
                    PageData.of(Files.readString(out)),
                    expect.get(k),
                    tr,
                    16,
                    TextFeatures.codePoints(head));
        assertTrue(doc.select("#features").isEmpty());
        assertTrue(doc.text().contains("truncated"));
    }

    @Test
    void charactersOutsideTheVocabularyAreSkippedAndCounted() throws Exception {
        Path t = dir.resolve("odd.txt");
        Files.writeString(t, "int a;\u00e9x = 1;\u20ac\n", StandardCharsets.UTF_8);
        Path out = dir.resolve("odd.html");
        CliRun r = CliRun.of(
                "cells",
                "--checkpoint",
                lstmRun.toString(),
                "--text",
                t.toString(),
                "--cells",
                "1",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("skipped 2 characters of " + t), r.err());
        PageData data = PageData.of(Files.readString(out));
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < data.length(); i++) shown.append(data.shown(i));
        assertEquals("int a;x = 1;\u21b5", shown.toString());
    }

    @Test
    void encodeMapsToTheUnknownSymbolOrSkips() {
        int[] ab = {'a', 'b'};
        CellsPage.Encoded withUnk = CellsPage.encode(
                Vocabulary.of(Encoding.UTF8, ab, true), "abc\u00e9a".getBytes(StandardCharsets.UTF_8), 100);
        assertArrayEquals(new int[] {0, 1, 2, 2, 0}, withUnk.tokens());
        assertArrayEquals(new int[] {'a', 'b', 'c', 0xe9, 'a'}, withUnk.symbols());
        assertEquals(0, withUnk.skipped());
        CellsPage.Encoded without =
                CellsPage.encode(Vocabulary.of(Encoding.UTF8, ab, false), "abcba".getBytes(StandardCharsets.UTF_8), 3);
        assertArrayEquals(new int[] {0, 1, 1}, without.tokens());
        assertEquals(1, without.skipped());
        assertTrue(without.truncated());
        // byte vocabularies see the UTF-8 bytes
        int[] bytes = new int[256];
        for (int i = 0; i < 256; i++) bytes[i] = i;
        CellsPage.Encoded b = CellsPage.encode(
                Vocabulary.of(Encoding.BYTES, bytes, false), "\u00e9!".getBytes(StandardCharsets.UTF_8), 100);
        assertArrayEquals(new int[] {0xc3, 0xa9, '!'}, b.tokens());
        assertFalse(b.truncated());
        assertEquals(
                new CellsHtml.Glyph("\\xC3", "ctl"),
                CellsHtml.glyph(Vocabulary.of(Encoding.BYTES, bytes, false), 0xc3));
        assertEquals(new CellsHtml.Glyph("<", ""), CellsHtml.glyph(Vocabulary.of(Encoding.UTF8, ab, false), '<'));
    }

    /** Vocabularies of more than 256 symbols take two bytes (little-endian) per predicted index. */
    @Test
    void predictionsOfALargeVocabularyTakeTwoBytesPerIndex() {
        int T = 2, V = 300;
        double[] p = new double[T * V];
        java.util.Arrays.fill(p, 0.1 / (V - 5));
        double[] top = {0.5, 0.2, 0.1, 0.06, 0.04};
        int[][] at = {{299, 3, 256, 0, 40}, {7, 298, 1, 2, 257}};
        for (int t = 0; t < T; t++) for (int i = 0; i < 5; i++) p[t * V + at[t][i]] = top[i];
        byte[] b = CellsHtml.predictions(p, T, V, 5, 2);
        assertEquals(T * 5 * 3, b.length);
        for (int t = 0; t < T; t++)
            for (int i = 0; i < 5; i++) {
                int o = t * 15;
                assertEquals(at[t][i], (b[o + 2 * i] & 0xFF) | (b[o + 2 * i + 1] & 0xFF) << 8, "index " + i);
                assertEquals(Math.round(100 * top[i]), b[o + 10 + i] & 0xFF, "percent " + i);
            }
    }

    @Test
    void colourIsBlueForNegativeAndRedForPositive() {
        assertEquals("#ffffff", CellsHtml.colour(0));
        assertEquals("#ff4040", CellsHtml.colour(1));
        assertEquals("#4040ff", CellsHtml.colour(-1));
        assertEquals("#ff9f9f", CellsHtml.colour(0.5));
        assertEquals("#4040ff", CellsHtml.colour(-3));
        assertEquals(127, CellsHtml.quantize(1.5));
        assertEquals(-64, CellsHtml.quantize(-0.5));
        assertEquals(0, CellsHtml.quantize(Double.NaN));
    }

    @Test
    void badInputIsOneLine() throws Exception {
        String ck = lstmRun.toString(),
                tx = textFile.toString(),
                out = dir.resolve("x.html").toString();
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--layer", "1", "--out", out)
                .assertOneLineError("--layer 1 is out of range");
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--cells", "0,16", "--out", out)
                .assertOneLineError("cell 16 is out of range");
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--cells", "0", "--top", "2", "--out", out)
                .assertOneLineError("exclude each other");
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--features", "quote,nesting", "--out", out)
                .assertOneLineError("unknown feature 'nesting'");
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--features", "quote", "--per-feature", "0", "--out", out)
                .assertOneLineError(
                        "--features quote names features to search cells for; --per-feature 0 searches none");
        CliRun.of("cells", "--checkpoint", ck, "--text", dir.resolve("none.txt").toString(), "--out", out)
                .assertOneLineError("text file not found: " + dir.resolve("none.txt"));
        CliRun.of("cells", "--checkpoint", ck, "--text", "/dev/null", "--out", out)
                .assertOneLineError("--text /dev/null is not a regular file (a device, pipe or socket)");
        CliRun.of("cells", "--checkpoint", ck, "--text", dir.toString(), "--out", out)
                .assertOneLineError("--text " + dir + " is a directory; give a text file");
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--out", dir.toString())
                .assertOneLineError("--out " + dir + " is a directory; give a file name");
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("pipe.html"));
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--out", pipe.toString())
                .assertOneLineError(
                        "--out " + pipe + " is not a regular file (a device, pipe or socket); give a file name");
        CliRun.of("cells", "--checkpoint", dir.resolve("nothing").toString(), "--text", tx, "--out", out)
                .assertOneLineError("nothing");
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--max-chars", "0", "--out", out)
                .assertOneLineError("--max-chars");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\u20ac");
        CliRun.of("cells", "--checkpoint", ck, "--text", empty.toString(), "--out", out)
                .assertOneLineError("no characters of the model's vocabulary");
        assertFalse(Files.exists(Path.of(out)));
    }

    /** The trace goes through the Backend API: OpenCL (where present) records what the reference does. */
    @Test
    void traceIsTheSameOnAnyBackend() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                new org.charrnn.backend.opencl.OpenClBackendProvider().probe().available(), "no OpenCL device");
        Checkpoint.Model m = Checkpoint.loadModel(Checkpoint.resolveModel(lstmRun));
        int[] tokens = m.vocabulary().encodePrime(text.substring(0, 200));
        Trace ref = trace(m, tokens), cl;
        try (org.charrnn.backend.Backend b =
                new org.charrnn.backend.opencl.OpenClBackend(m.config(), BackendOptions.defaults())) {
            b.setParameters(m.params());
            try (RnnState s = b.newState(1)) {
                cl = Trace.of(b, s, tokens);
            }
        }
        for (int l = 0; l < ref.cells().length; l++)
            for (int i = 0; i < ref.cells()[l].length; i++)
                assertEquals(
                        ref.cells()[l][i],
                        cl.cells()[l][i],
                        1e-4 + 1e-4 * Math.abs(ref.cells()[l][i]),
                        "layer " + l + " at " + i);
        for (int i = 0; i < ref.probs().length; i++)
            assertEquals(ref.probs()[i], cl.probs()[i], 1e-5 + 1e-4 * ref.probs()[i]);
    }
}
