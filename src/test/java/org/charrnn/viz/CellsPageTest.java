package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
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

/** The cells page parsed as HTML: one shaded element per character whose value is the cell's activation. */
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

    /** Every span of the block: its index, its character and its value, against the trace. */
    private static void assertBlockMatches(Element block, Cell cell, Trace tr, int H, int[] symbols) {
        assertEquals(Integer.toString(cell.layer()), block.attr("data-layer"));
        assertEquals(Integer.toString(cell.index()), block.attr("data-cell"));
        Elements spans = block.select("span.c");
        assertEquals(symbols.length, spans.size(), "one shaded element per character");
        for (int t = 0; t < symbols.length; t++) {
            Element s = spans.get(t);
            assertEquals(Integer.toString(t), s.attr("data-i"));
            assertEquals(shown(symbols[t]), s.wholeText(), "character " + t);
            double expect = tr.cells()[cell.layer()][t * H + cell.index()];
            double v = Double.parseDouble(s.attr("data-v"));
            assertEquals(expect, v, 5.0001e-4, "value of " + cell + " at " + t);
            String bg = s.attr("style").replace("background:", "");
            assertEquals(CellsPage.colour(expect), bg);
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

        Elements chosen = doc.select("#chosen .block");
        assertEquals(2, chosen.size());
        assertBlockMatches(chosen.get(0), new Cell(0, 0), tr, H, symbols);
        assertBlockMatches(chosen.get(1), new Cell(0, 3), tr, H, symbols);
        // markup characters come through as text, not markup
        Elements spans = chosen.get(0).select("span.c");
        assertTrue(spans.stream().anyMatch(s -> s.wholeText().equals("<")));
        assertTrue(spans.stream().anyMatch(s -> s.wholeText().equals("&")));
        assertTrue(spans.stream().anyMatch(s -> s.wholeText().equals("\"")));

        // the search: the 3 best cells per feature, as CellSearch finds them on the same trace
        Map<Feature, double[]> fs = TextFeatures.compute(symbols, List.of(Feature.values()));
        Elements features = doc.select("#features .feature");
        assertEquals(Feature.values().length, features.size());
        Pattern rOf = Pattern.compile("r = ([+-][0-9.]+)");
        for (Element f : features) {
            Feature feature = Feature.parse(f.attr("data-feature"));
            List<Hit> expect = CellSearch.top(tr.cells(), H, fs.get(feature), null, 3);
            Elements blocks = f.select(".block");
            assertEquals(3, blocks.size(), feature.id());
            for (int k = 0; k < 3; k++) {
                assertBlockMatches(blocks.get(k), expect.get(k).cell(), tr, H, symbols);
                Matcher mr = rOf.matcher(blocks.get(k).selectFirst("h3").text());
                assertTrue(mr.find());
                assertEquals(expect.get(k).r(), Double.parseDouble(mr.group(1)), 5.0001e-4);
            }
        }
        assertEquals(Feature.values().length * 3, doc.select("table.summary tr").size() - 1);

        // hover data: the model's 5 most likely next characters after each one
        Matcher pm = Pattern.compile("var PRED=(.*);\n").matcher(html);
        assertTrue(pm.find());
        JsonArray pred = JsonParser.parseString(pm.group(1)).getAsJsonArray();
        assertEquals(symbols.length, pred.size());
        int V = m.config().vocabSize();
        for (int t : new int[] {0, 17, 450, symbols.length - 1}) {
            int best = 0;
            for (int j = 1; j < V; j++) if (tr.probs()[t * V + j] > tr.probs()[t * V + best]) best = j;
            JsonArray top = pred.get(t).getAsJsonArray();
            assertEquals(5, top.size());
            String label = m.vocabulary().display(best).equals(" ")
                    ? "\u2423"
                    : m.vocabulary().display(best);
            assertEquals(label, top.get(0).getAsJsonArray().get(0).getAsString());
            assertEquals(
                    tr.probs()[t * V + best], top.get(0).getAsJsonArray().get(1).getAsDouble(), 1e-4);
        }
        // self-contained: nothing loaded from elsewhere
        assertTrue(doc.select("[src], link").isEmpty());
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
            assertBlockMatches(blocks.get(k), expect.get(k), tr, 16, TextFeatures.codePoints(head));
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
        Document doc = Jsoup.parse(out.toFile(), "UTF-8");
        StringBuilder shown = new StringBuilder();
        for (Element s : doc.select("#chosen .block span.c")) shown.append(s.wholeText());
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
                "\\xC3",
                Jsoup.parse(CellsPage.charHtml(Vocabulary.of(Encoding.BYTES, bytes, false), 0xc3))
                        .text());
        assertEquals("&lt;", CellsPage.charHtml(Vocabulary.of(Encoding.UTF8, ab, false), '<'));
    }

    @Test
    void colourIsBlueForNegativeAndRedForPositive() {
        assertEquals("#ffffff", CellsPage.colour(0));
        assertEquals("#ff4040", CellsPage.colour(1));
        assertEquals("#4040ff", CellsPage.colour(-1));
        assertEquals("#ff9f9f", CellsPage.colour(0.5));
        assertEquals("#4040ff", CellsPage.colour(-3));
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
        CliRun.of("cells", "--checkpoint", ck, "--text", tx, "--features", "quote,indent", "--out", out)
                .assertOneLineError("unknown feature 'indent'");
        CliRun.of("cells", "--checkpoint", ck, "--text", dir.resolve("none.txt").toString(), "--out", out)
                .assertOneLineError("none.txt");
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
