package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.data.Encoding;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code charrnn eval}: characters outside the model's vocabulary are an error, or dropped with --skip-unknown. */
class EvalCommandTest {
    @TempDir
    Path dir;

    private static final String KNOWN = "\n abcd";
    private static final String CLEAN = "abc dab\ncd ba dcab\nabcd dcba\n".repeat(20);

    /** A small random LSTM checkpoint over the characters of {@link #KNOWN} (plus an unknown symbol). */
    private Path checkpoint(String name, boolean withUnknown) throws Exception {
        int[] symbols = KNOWN.codePoints().sorted().toArray();
        Vocabulary vocab = Vocabulary.of(Encoding.UTF8, symbols, withUnknown);
        ModelConfig cfg = new ModelConfig(CellType.LSTM, vocab.size(), 3, 8, 1, 0.0);
        Path file = Checkpoint.modelPath(Files.createDirectories(dir.resolve(name)), 10);
        Checkpoint.saveModel(
                file,
                cfg,
                vocab,
                Init.initialize(new ParamLayout(cfg), 5),
                new Checkpoint.Info(10, 1, Double.NaN),
                "{}");
        return file;
    }

    /** {@link #CLEAN} with {@code extra} characters put in after every 7th character, in turn. */
    private static String withUnknown(String extra) {
        int[] e = extra.codePoints().toArray();
        StringBuilder sb = new StringBuilder();
        int k = 0;
        for (int i = 0; i < CLEAN.length(); i++) {
            sb.append(CLEAN.charAt(i));
            if (i % 7 == 6) sb.appendCodePoint(e[k++ % e.length]);
        }
        return sb.toString();
    }

    /** eval on the reference, --seq 16 and (unless {@code extra} gives another) --batch 4. */
    private CliRun eval(Path checkpoint, Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "eval",
                "--checkpoint",
                checkpoint.toString(),
                "--data",
                data.toString(),
                "--backend",
                "reference",
                "--seq",
                "16",
                "--cache-dir",
                dir.resolve("cache").toString()));
        if (!List.of(extra).contains("--batch")) a.addAll(List.of("--batch", "4"));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private static String lossLine(CliRun r) {
        for (String l : r.out().split("\n")) if (l.startsWith("loss ")) return l;
        throw new AssertionError("no loss line in: " + r.out());
    }

    /**
     * Exit 2 and, after eval's own "checkpoint:" and "backend:" lines, one error line {@code charrnn: ...}
     * containing {@code expect}; no stack trace.
     */
    private static void assertError(CliRun r, String expect) {
        assertEquals(2, r.code(), r.err());
        List<String> errors =
                r.err().lines().filter(l -> l.startsWith("charrnn: ")).toList();
        assertEquals(1, errors.size(), r.err());
        assertTrue(errors.get(0).contains(expect), errors.get(0));
        assertTrue(
                r.err()
                        .lines()
                        .allMatch(l ->
                                l.startsWith("charrnn: ") || l.startsWith("checkpoint: ") || l.startsWith("backend: ")),
                r.err());
    }

    @Test
    void unknownCharactersAreAnErrorThatNamesTheOption() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path data = write("t.txt", withUnknown("éZ"));
        CliRun r = eval(ckpt, data);
        assertError(r, data + " has 2 characters not in the model's vocabulary: 'Z' (U+005A), 'é' (U+00E9)");
        assertTrue(r.err().contains("--skip-unknown"), r.err());
    }

    @Test
    void skipUnknownDropsThemAndSaysWhich() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path clean = write("clean.txt", CLEAN);
        Path dirty = write("dirty.txt", withUnknown("é😀Zé"));
        CliRun base = eval(ckpt, clean);
        assertEquals(0, base.code(), base.err());
        int inserted = CLEAN.length() / 7;
        for (int run = 0; run < 2; run++) { // encoded, then loaded from the cache
            CliRun r = eval(ckpt, dirty, "--skip-unknown");
            assertEquals(0, r.code(), r.err());
            assertEquals(lossLine(base), lossLine(r), "the loss of the text without them");
            assertTrue(
                    r.out()
                            .startsWith(String.format(
                                    "skipped %d characters not in the model's vocabulary (3 distinct: 'é' (U+00E9), "
                                            + "'😀' (U+1F600), 'Z' (U+005A))\n",
                                    inserted)),
                    r.out());
        }
        // the cache of the skipping run is not used by one without the option
        assertError(eval(ckpt, dirty), "has 3 characters not in the model's vocabulary");

        CliRun none = eval(ckpt, clean, "--skip-unknown");
        assertEquals(0, none.code(), none.err());
        assertTrue(none.out().startsWith("skipped 0 characters: all are in the model's vocabulary\n"), none.out());
        assertEquals(lossLine(base), lossLine(none));
    }

    @Test
    void skipUnknownListsAFewAndCountsTheRest() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path dirty = write("dirty.txt", withUnknown("ABCDEFGH"));
        CliRun r = eval(ckpt, dirty, "--skip-unknown");
        assertEquals(0, r.code(), r.err());
        assertTrue(
                r.out()
                        .startsWith(String.format(
                                "skipped %d characters not in the model's vocabulary (8 distinct: 'A' (U+0041), "
                                        + "'B' (U+0042), 'C' (U+0043), 'D' (U+0044), 'E' (U+0045) and 3 more)\n",
                                CLEAN.length() / 7)),
                r.out());
    }

    @Test
    void skipUnknownDropsRatherThanMapsWithAnUnknownSymbol() throws Exception {
        Path ckpt = checkpoint("u", true);
        Path clean = write("clean.txt", CLEAN);
        Path dirty = write("dirty.txt", withUnknown("Z"));
        CliRun base = eval(ckpt, clean);
        CliRun mapped = eval(ckpt, dirty);
        CliRun skipped = eval(ckpt, dirty, "--skip-unknown");
        assertEquals(0, base.code() + mapped.code() + skipped.code(), base.err() + mapped.err() + skipped.err());
        assertEquals(lossLine(base), lossLine(skipped));
        assertTrue(!lossLine(base).equals(lossLine(mapped)), lossLine(mapped));
        assertTrue(skipped.out().startsWith("skipped "), skipped.out());
    }

    @Test
    void nothingLeftIsAnError() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path data = write("t.txt", "XYZXYZQQ");
        assertError(
                eval(ckpt, data, "--skip-unknown"),
                data + " has no characters in the model's vocabulary (all 8 are skipped)");
    }

    /** Text that is not UTF-8 is named without advice that eval cannot take (reading it as bytes). */
    @Test
    void textThatIsNotUtf8IsNamedInTheModelsTerms() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path data = Files.write(dir.resolve("t.bin"), new byte[] {'a', 'b', (byte) 0xFF, 'c'});
        assertError(
                eval(ckpt, data),
                data + " is not valid UTF-8: invalid lead byte at byte offset 2 (bytes FF); the model's vocabulary"
                        + " is of UTF-8 characters, so its text must be UTF-8");
        Path nul = Files.write(dir.resolve("t.nul"), new byte[] {'a', 0, 'b'});
        assertError(
                eval(ckpt, nul),
                nul + " looks like a binary file, not text: it has a NUL byte at byte offset 1; the model's"
                        + " vocabulary is of UTF-8 characters, so its text must be UTF-8");
    }

    /** --encoding and --max-vocab shape a vocabulary eval does not build: given, they were ignored. */
    @Test
    void vocabularyOptionsTheModelDecidesAreRefused() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path data = write("t.txt", CLEAN);
        String loss = lossLine(eval(ckpt, data));
        assertEquals(loss, lossLine(eval(ckpt, data, "--encoding", "utf8")), "the model's own encoding is taken");
        assertError(
                eval(ckpt, data, "--encoding", "bytes"),
                "--encoding bytes does not match the model's vocabulary (utf8): eval reads the text in the model's"
                        + " encoding; leave --encoding out");
        assertError(eval(ckpt, data, "--max-vocab", "3"), "--max-vocab is a training option");
    }

    /** Streams shorter than one window (each from a zero state) are pointed out; long ones are not. */
    @Test
    void streamsShorterThanAWindowAreNoted() throws Exception {
        Path ckpt = checkpoint("m", false);
        Path data = write("t.txt", CLEAN); // 580 characters: 4 streams of 144 (--batch 4), 50 of 11
        String note = "note: --batch 50 cuts the text into 50 streams of 11 characters, each read from a zero state";
        CliRun many = eval(ckpt, data, "--batch", "50");
        assertEquals(0, many.code(), many.err());
        assertTrue(many.err().contains(note), many.err());
        CliRun few = eval(ckpt, data);
        assertEquals(0, few.code(), few.err());
        assertFalse(few.err().contains("note:"), few.err());

        assertNull(EvalCommand.shortStreams(1000, 1, 100), "one stream");
        assertNull(EvalCommand.shortStreams(1001, 10, 100), "streams of one window");
        assertTrue(EvalCommand.shortStreams(1000, 10, 100).contains("10 streams of 99 characters"));
        assertTrue(EvalCommand.shortStreams(5, 50, 100).contains("4 streams of 1 character,"), "at most n - 1 streams");
    }
}
