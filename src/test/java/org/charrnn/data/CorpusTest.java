package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.write(dir.resolve(name), text.getBytes(StandardCharsets.UTF_8));
    }

    private Path writeBytes(String name, byte[] b) throws IOException {
        return Files.write(dir.resolve(name), b);
    }

    private static String decode(Corpus c, TokenSequence t) {
        StringBuilder sb = new StringBuilder();
        Vocabulary v = c.vocabulary();
        for (long i = 0; i < t.length(); i++) sb.append(new String(v.bytes(t.get(i)), StandardCharsets.UTF_8));
        return sb.toString();
    }

    private static CorpusOptions opts() {
        return CorpusOptions.defaults();
    }

    @Test
    void unicodeCodePointsRoundTrip() throws IOException {
        String text = "안녕하세요 세계! 😀🎉 naïve café\n한국어 😀\n";
        Path f = write("ko.txt", text);
        try (Corpus c = Corpus.open(f, opts().withSplits(0, 0), Progress.NONE)) {
            assertEquals(text.codePointCount(0, text.length()), c.tokens().length());
            assertEquals(text.codePoints().distinct().count(), c.vocabulary().size());
            assertEquals(text, decode(c, c.tokens()));
            assertEquals(f.toFile().length(), c.sizeBytes());
            assertEquals(f, c.file());
            int[] p = c.vocabulary().encodePrime("😀한");
            assertEquals(2, p.length);
            assertFalse(c.fromCache());
            assertNull(c.cacheFile());
            assertEquals("heap", c.storage());
        }
    }

    @Test
    void splitsTakenFromTheEndInOrder() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1000; i++) sb.append((char) ('a' + i % 26));
        Path f = write("abc.txt", sb.toString());
        try (Corpus c = Corpus.open(f, opts().withSplits(0.1, 0.05), Progress.NONE)) {
            assertEquals(850, c.train().length());
            assertEquals(100, c.val().length());
            assertEquals(50, c.test().length());
            String all = sb.toString();
            assertEquals(all.substring(0, 850), decode(c, c.train()));
            assertEquals(all.substring(850, 950), decode(c, c.val()));
            assertEquals(all.substring(950), decode(c, c.test()));
            assertEquals("abc.txt: 1,000 chars, vocabulary 26, train 850 / val 100 / test 50", c.summary());
        }
    }

    @Test
    void bytesModeAcceptsInvalidUtf8() throws IOException {
        byte[] b = {'h', 'i', (byte) 0xFF, (byte) 0xC3, (byte) 0xA9, 0, 'h'};
        Path f = writeBytes("raw.bin", b);
        try (Corpus c = Corpus.open(f, opts().withEncoding(Encoding.BYTES).withSplits(0, 0), Progress.NONE)) {
            assertEquals(Encoding.BYTES, c.vocabulary().encoding());
            assertEquals(7, c.tokens().length());
            assertEquals(6, c.vocabulary().size());
            for (int i = 0; i < b.length; i++)
                assertEquals(b[i] & 0xFF, c.vocabulary().symbol(c.tokens().get(i)));
            assertArrayEquals(
                    new byte[] {(byte) 0xFF}, c.vocabulary().bytes(c.tokens().get(2)));
            assertTrue(c.summary().startsWith("raw.bin: 7 bytes, vocabulary 6"), c.summary());
        }
    }

    @Test
    void invalidUtf8NamesOffsetAndSuggestsBytes() throws IOException {
        byte[] b = "hello world".getBytes(StandardCharsets.US_ASCII);
        byte[] bad = new byte[b.length + 3];
        System.arraycopy(b, 0, bad, 0, b.length);
        bad[b.length] = (byte) 0xE2;
        bad[b.length + 1] = 'x';
        bad[b.length + 2] = 'y';
        Path f = writeBytes("bad.txt", bad);
        UserError e = assertThrows(UserError.class, () -> Corpus.open(f, opts(), Progress.NONE));
        assertEquals(
                f + " is not valid UTF-8: invalid UTF-8 sequence at byte offset 11 (bytes E2 78);"
                        + " use CorpusOptions.encoding bytes to train on its raw bytes",
                e.getMessage());
        assertEquals(2, e.exitCode());
    }

    @Test
    void binaryGarbageIsRejected() throws IOException {
        byte[] g = new byte[4096];
        new java.util.Random(7).nextBytes(g);
        Path f = writeBytes("garbage.bin", g);
        UserError e = assertThrows(UserError.class, () -> Corpus.open(f, opts(), Progress.NONE));
        assertTrue(
                e.getMessage().contains("is not valid UTF-8")
                        && e.getMessage().contains("CorpusOptions.encoding bytes"),
                e.getMessage());
        // NUL bytes are valid UTF-8 but mark a binary file
        Path z = writeBytes("zeros.bin", new byte[] {'a', 'b', 0, 0, 'c'});
        UserError e2 = assertThrows(UserError.class, () -> Corpus.open(z, opts(), Progress.NONE));
        assertEquals(
                z + " looks like a binary file, not text: it has a NUL byte at byte offset 2;"
                        + " use CorpusOptions.encoding bytes to train on its raw bytes",
                e2.getMessage());
        try (Corpus c = Corpus.open(z, opts().withEncoding(Encoding.BYTES), Progress.NONE)) {
            assertEquals(5, c.tokens().length());
        }
    }

    @Test
    void badFilesAreOneLineUserErrors() throws Exception {
        Path missing = dir.resolve("nope.txt");
        assertEquals(
                "corpus file not found: " + missing,
                assertThrows(UserError.class, () -> Corpus.open(missing, opts(), Progress.NONE))
                        .getMessage());
        assertEquals(
                dir + " is a directory, not a corpus file",
                assertThrows(UserError.class, () -> Corpus.open(dir, opts(), Progress.NONE))
                        .getMessage());
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("pipe.txt"));
        assertEquals(
                pipe + " is not a regular file (a device, pipe or socket)",
                assertThrows(UserError.class, () -> Corpus.open(pipe, opts(), Progress.NONE))
                        .getMessage());
        Path empty = write("empty.txt", "");
        assertEquals(
                "corpus file " + empty + " is empty",
                assertThrows(UserError.class, () -> Corpus.open(empty, opts(), Progress.NONE))
                        .getMessage());
        Path cache = dir.resolve("cache");
        assertThrows(UserError.class, () -> Corpus.open(empty, opts().withCacheDir(cache), Progress.NONE));
        if (Files.exists(cache.resolve("encoded"))) {
            try (var written = Files.list(cache.resolve("encoded"))) {
                assertFalse(written.findAny().isPresent(), "nothing written for a bad file");
            }
        }
    }

    @Test
    void unreadableFile() throws IOException {
        Path f = write("secret.txt", "abc");
        assertTrue(f.toFile().setReadable(false, false));
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(
                    Files.isReadable(f),
                    "running with privileges that read any file (e.g. root): cannot test an unreadable file");
            UserError e = assertThrows(UserError.class, () -> Corpus.open(f, opts(), Progress.NONE));
            assertEquals("cannot read corpus file " + f + ": permission denied", e.getMessage());
        } finally {
            f.toFile().setReadable(true, false);
        }
    }

    @Test
    void maxVocabMapsRarestToUnknown() throws IOException {
        // a x5, b x4, c x3, d x2, e x1, f x1
        Path f = write("freq.txt", "aaaaabbbbcccddef");
        try (Corpus c = Corpus.open(f, opts().withMaxVocab(4).withSplits(0, 0), Progress.NONE)) {
            Vocabulary v = c.vocabulary();
            assertEquals(4, v.size());
            assertEquals(3, v.unknownIndex());
            assertArrayEquals(new int[] {'a', 'b', 'c'}, v.symbols());
            assertEquals(3, c.unknownDistinct());
            assertEquals(4, c.unknownCount());
            assertEquals("aaaaabbbbccc\uFFFD\uFFFD\uFFFD\uFFFD", decode(c, c.tokens()));
            assertEquals(
                    "freq.txt: 16 chars, vocabulary 4 (incl. unknown symbol: 3 rare characters, 4 occurrences),"
                            + " train 16 / val 0 / test 0",
                    c.summary());
        }
        try (Corpus c = Corpus.open(f, opts().withMaxVocab(6), Progress.NONE)) {
            assertEquals(6, c.vocabulary().size());
            assertEquals(-1, c.vocabulary().unknownIndex(), "no unknown symbol when everything fits");
        }
    }

    @Test
    void tiesAmongRareSymbolsBreakByCodePoint() throws IOException {
        Path f = write("tie.txt", "zzyyxxww");
        try (Corpus c = Corpus.open(f, opts().withMaxVocab(3), Progress.NONE)) {
            assertArrayEquals(new int[] {'w', 'x'}, c.vocabulary().symbols());
        }
    }

    @Test
    void givenVocabulary() throws IOException {
        Path f = write("eval.txt", "abcabcé");
        Vocabulary withUnk = Vocabulary.of(Encoding.UTF8, new int[] {'a', 'b', 'c'}, true);
        try (Corpus c = Corpus.open(f, withUnk, opts().withSplits(0, 0), Progress.NONE)) {
            assertSame(withUnk, c.vocabulary());
            assertEquals(3, c.tokens().get(6));
            assertEquals(1, c.unknownCount());
        }
        Vocabulary noUnk = Vocabulary.of(Encoding.UTF8, new int[] {'a', 'b'}, false);
        UserError e = assertThrows(UnknownSymbolsError.class, () -> Corpus.open(f, noUnk, opts(), Progress.NONE));
        assertEquals(f + " has 2 characters not in the model's vocabulary: 'c' (U+0063), 'é' (U+00E9)", e.getMessage());
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 15; i++) many.append((char) ('k' + i));
        Path g = write("many.txt", "ab" + many);
        UserError e2 = assertThrows(UserError.class, () -> Corpus.open(g, noUnk, opts(), Progress.NONE));
        assertTrue(e2.getMessage().endsWith("'t' (U+0074) and 5 more"), e2.getMessage());
        // the vocabulary's encoding wins over the options'
        Vocabulary bytes = Vocabulary.of(Encoding.BYTES, new int[] {'a', 'b', 'c', 0xA9, 0xC3}, false);
        try (Corpus c = Corpus.open(f, bytes, opts(), Progress.NONE)) {
            assertEquals(8, c.tokens().length());
        }
    }

    @Test
    void skippingUnknownSymbolsDropsThem() throws IOException {
        Path f = write("skip.txt", "éabcabcZé\nab");
        Vocabulary noUnk = Vocabulary.of(Encoding.UTF8, new int[] {'\n', 'a', 'b', 'c'}, false);
        Vocabulary withUnk = Vocabulary.of(Encoding.UTF8, new int[] {'\n', 'a', 'b', 'c'}, true);
        for (Vocabulary v : List.of(noUnk, withUnk)) {
            for (Path cache : new Path[] {null, dir.resolve("cache"), dir.resolve("cache")}) {
                try (Corpus c = Corpus.open(f, v, true, opts().withSplits(0, 0).withCacheDir(cache), Progress.NONE)) {
                    assertEquals("abcabc\nab", decode(c, c.tokens()));
                    assertEquals(3, c.unknownCount());
                    assertEquals(2, c.unknownDistinct());
                    assertTrue(c.unknownSkipped());
                    assertEquals(List.of("'é' (U+00E9)", "'Z' (U+005A)"), c.unknownExamples(5));
                    assertEquals(List.of("'é' (U+00E9)"), c.unknownExamples(1));
                    assertTrue(
                            c.summary()
                                    .contains(
                                            "vocabulary " + v.size() + " (3 characters not in it skipped, 2 distinct)"),
                            c.summary());
                }
            }
        }
        // what a skipping open cached is not what an open that maps them to the unknown symbol reads
        try (Corpus c =
                Corpus.open(f, withUnk, opts().withSplits(0, 0).withCacheDir(dir.resolve("cache")), Progress.NONE)) {
            assertEquals(12, c.tokens().length());
            assertFalse(c.unknownSkipped());
        }
        Path clean = write("clean.txt", "abc");
        try (Corpus c = Corpus.open(clean, noUnk, true, opts(), Progress.NONE)) {
            assertEquals(0, c.unknownCount());
            assertEquals(List.of(), c.unknownExamples(5));
        }
        Path none = write("none.txt", "xyz");
        UserError e = assertThrows(UserError.class, () -> Corpus.open(none, noUnk, true, opts(), Progress.NONE));
        assertEquals(none + " has no characters in the model's vocabulary (all 3 are skipped)", e.getMessage());
    }

    @Test
    void largeVocabularyUsesTwoBytesPerSymbol() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int cp = 0xAC00; cp < 0xAC00 + 1000; cp++) sb.appendCodePoint(cp).append(' ');
        sb.appendCodePoint(0x1F600);
        Path f = write("hangul.txt", sb.toString());
        for (Path cache : new Path[] {null, dir.resolve("cache")}) {
            try (Corpus c = Corpus.open(f, opts().withSplits(0, 0).withCacheDir(cache), Progress.NONE)) {
                assertEquals(1002, c.vocabulary().size());
                assertEquals(sb.toString(), decode(c, c.tokens()));
                int[] dst = new int[10];
                c.tokens().copyTo(1991, dst, 0, 10);
                for (int k = 0; k < 10; k++) assertEquals(c.tokens().get(1991 + k), dst[k]);
                if (cache != null) {
                    long expectedData = 2L * c.tokens().length();
                    assertTrue(Files.size(c.cacheFile()) >= expectedData
                            && Files.size(c.cacheFile()) < expectedData + 16384);
                }
            }
        }
    }

    @Test
    void cacheIsReusedAndRebuiltWhenStale() throws IOException {
        Path f = write("c.txt", "hello cache world\n");
        Path cache = dir.resolve("cache");
        CorpusOptions o = opts().withCacheDir(cache).withSplits(0, 0);
        Path cacheFile;
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertFalse(c.fromCache());
            cacheFile = c.cacheFile();
            assertNotNull(cacheFile);
            assertTrue(cacheFile.startsWith(cache.resolve("encoded")));
            assertTrue(cacheFile.getFileName().toString().matches("[0-9a-f]{16}\\.tokens"));
            assertEquals("cache file " + cacheFile, c.storage());
        }
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertTrue(c.fromCache());
            assertEquals("hello cache world\n", decode(c, c.tokens()));
        }
        // same size and modification time, different content: the content hash notices
        FileTime t = Files.getLastModifiedTime(f);
        write("c.txt", "jello cache world\n");
        Files.setLastModifiedTime(f, t);
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertFalse(c.fromCache());
            assertEquals("jello cache world\n", decode(c, c.tokens()));
        }
        // a newer modification time alone rebuilds too
        Files.setLastModifiedTime(f, FileTime.fromMillis(t.toMillis() + 5000));
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertFalse(c.fromCache());
        }
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertTrue(c.fromCache());
        }
        // a damaged cache file is rebuilt, not an error
        byte[] damaged = Files.readAllBytes(cacheFile);
        Files.write(cacheFile, java.util.Arrays.copyOf(damaged, damaged.length - 3));
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertFalse(c.fromCache());
            assertEquals("jello cache world\n", decode(c, c.tokens()));
        }
        Files.write(cacheFile, new byte[] {1, 2, 3});
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertFalse(c.fromCache());
        }
        try (Stream<Path> s = Files.list(cache.resolve("encoded"))) {
            assertEquals(1, s.count(), "one file per key, no leftovers");
        }
    }

    @Test
    void differentOptionsUseDifferentCacheFiles() throws IOException {
        Path f = write("o.txt", "aaabbc");
        Path cache = dir.resolve("cache");
        List<Path> files = new ArrayList<>();
        CorpusOptions base = opts().withCacheDir(cache);
        for (CorpusOptions o : List.of(base, base.withMaxVocab(2), base.withEncoding(Encoding.BYTES))) {
            try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
                files.add(c.cacheFile());
            }
        }
        try (Corpus c = Corpus.open(
                f, Vocabulary.of(Encoding.UTF8, new int[] {'a', 'b', 'c', 'd'}, false), base, Progress.NONE)) {
            files.add(c.cacheFile());
            assertEquals(4, c.vocabulary().size());
        }
        assertEquals(4, files.stream().distinct().count(), files.toString());
        try (Corpus c = Corpus.open(f, base.withMaxVocab(2), Progress.NONE)) {
            assertTrue(c.fromCache());
            assertEquals(2, c.vocabulary().size());
            assertEquals(3, c.unknownCount());
            assertEquals(2, c.unknownDistinct());
        }
        // splits do not change the encoding: same cache file
        try (Corpus c = Corpus.open(f, base.withSplits(0.5, 0), Progress.NONE)) {
            assertTrue(c.fromCache());
            assertEquals(3, c.val().length());
        }
    }

    @Test
    void unwritableCacheDirectoryFallsBackToHeap() throws IOException {
        Path f = write("h.txt", "heap");
        Path notADir = write("file-not-dir", "x");
        try (Corpus c = Corpus.open(f, opts().withCacheDir(notADir), Progress.NONE)) {
            assertNull(c.cacheFile());
            assertEquals(4, c.tokens().length());
        }
    }

    @Test
    void progressReportsBothPasses() throws IOException {
        Path f = write("p.txt", "x".repeat(10_000));
        List<String> details = new ArrayList<>();
        long[] last = {0, 0};
        boolean[] finished = {false};
        Progress p = new Progress() {
            @Override
            public void update(long done, long total, String detail) {
                if (!details.contains(detail)) details.add(detail);
                last[0] = done;
                last[1] = total;
            }

            @Override
            public void finish() {
                finished[0] = true;
            }
        };
        try (Corpus c = Corpus.open(f, opts(), p)) {
            assertEquals(10_000, c.tokens().length());
            assertEquals(List.of("scanning", "encoding"), details);
            assertEquals(20_000, last[0]);
            assertEquals(20_000, last[1]);
            assertTrue(finished[0]);
        }
    }

    @Test
    void fileChangedBetweenPassesIsDetected() throws IOException {
        for (String replacement : new String[] {"abcz", "abcabc", "ab"}) {
            Path f = write("moving.txt", "abca");
            Progress modifyAfterScan = (done, total, detail) -> {
                if (detail.equals("scanning") && done == total / 2) {
                    try {
                        Files.writeString(f, replacement);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            };
            UserError e = assertThrows(UserError.class, () -> Corpus.open(f, opts(), modifyAfterScan), replacement);
            assertEquals(f + " changed while it was being read; try again", e.getMessage());
        }
    }

    @Test
    void optionsValidation() {
        CorpusOptions d = CorpusOptions.defaults();
        assertEquals(Encoding.UTF8, d.encoding());
        assertEquals(0, d.maxVocab());
        assertEquals(0.05, d.valFrac());
        assertEquals(0.0, d.testFrac());
        assertNull(d.cacheDir());
        assertEquals(
                "CorpusOptions.maxVocab must be 0 (unlimited) or at least 2, not 1",
                assertThrows(UserError.class, () -> d.withMaxVocab(1)).getMessage());
        assertThrows(UserError.class, () -> d.withMaxVocab(-3));
        assertThrows(UserError.class, () -> d.withMaxVocab(70000));
        assertEquals(
                "CorpusOptions.valFrac must be in [0, 1), not -0.1",
                assertThrows(UserError.class, () -> d.withSplits(-0.1, 0)).getMessage());
        assertThrows(UserError.class, () -> d.withSplits(0, Double.NaN));
        assertEquals(
                "CorpusOptions.valFrac 0.5 plus CorpusOptions.testFrac 0.5 must be less than 1 so that some data is left for training",
                assertThrows(UserError.class, () -> d.withSplits(0.5, 0.5)).getMessage());
    }

    @Test
    void shakespeareSummaryAndCacheTiming() throws IOException {
        Path f = org.charrnn.testutil.TestData.shakespeare();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                f != null, "tiny-shakespeare not available (system property charrnn.shakespeare)");
        CorpusOptions o = opts().withCacheDir(dir.resolve("cache"));
        String heapText;
        try (Corpus c = Corpus.open(f, opts(), Progress.NONE)) {
            assertEquals(
                    "tinyshakespeare.txt: 1,115,394 chars, vocabulary 65, train 1,059,625 / val 55,769 / test 0",
                    c.summary());
            heapText = decode(c, c.val());
        }
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertFalse(c.fromCache());
        }
        try (Corpus c = Corpus.open(f, o, Progress.NONE)) {
            assertTrue(c.fromCache());
            assertTrue(c.openSeconds() < 1.0, "cached load took " + c.openSeconds() + " s");
            assertEquals(c.vocabulary(), Vocabulary.fromJson(c.vocabulary().toJson()));
            assertEquals(heapText, decode(c, c.val()));
            assertEquals("First Citizen:", decode(c, c.tokens().slice(0, 14)));
        }
    }

    /** A leading UTF-8 byte-order mark is a marker, not text: it is skipped, and the summary says so. */
    @Test
    void aLeadingByteOrderMarkIsNotASymbol() throws IOException {
        byte[] text = "abba abba abba\n".repeat(40).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] withBom = new byte[text.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(text, 0, withBom, 3, text.length);
        Path f = Files.write(dir.resolve("bom.txt"), withBom);
        try (Corpus c = Corpus.open(f, opts(), Progress.NONE)) {
            assertEquals(4, c.vocabulary().size(), "a, b, space, newline: " + c.vocabulary());
            assertEquals(text.length, c.tokens().length());
            assertTrue(c.summary().contains("byte-order mark skipped"), c.summary());
        }
    }
}
