package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryCorpusTest {
    @TempDir
    Path dir;

    private static final byte[] BINARY = {'%', 'P', 'D', 'F', 0, 1, 2, (byte) 0xFF, '\n'};
    private static final byte[] LATIN1 = {'c', 'a', 'f', (byte) 0xE9, '\n'};

    /** A small LaTeX project: text in several folders, a binary and a Latin-1 file that match '*.tex'. */
    static Map<String, byte[]> project() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("main.tex", utf8("\\documentclass{article}\n\\input{chapters/intro}\n"));
        m.put("chapters/intro.tex", utf8("\\section{Intro} Grüße, 한국 😀\n"));
        m.put("chapters/appendix.tex", utf8("\\appendix\n"));
        m.put("notes.txt", utf8("todo: proofread\n"));
        m.put("old/draft.tex", utf8("\\section{Old}\n"));
        m.put("figures/scan.tex", BINARY);
        m.put("legacy.tex", LATIN1);
        m.put("refs.bib", utf8("@book{x}\n"));
        return m;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Path write(String name, Map<String, byte[]> files, List<String> order) throws IOException {
        Path root = dir.resolve(name);
        for (String k : order) {
            Path p = root.resolve(k);
            Files.createDirectories(p.getParent());
            Files.write(p, files.get(k));
        }
        return root;
    }

    private Path write(String name, Map<String, byte[]> files) throws IOException {
        return write(name, files, new ArrayList<>(files.keySet()));
    }

    private static String concat(Map<String, byte[]> files, String... paths) {
        StringBuilder sb = new StringBuilder();
        for (String p : paths) sb.append(new String(files.get(p), StandardCharsets.UTF_8));
        return sb.toString();
    }

    private static CorpusStats build(Path root, Path out, List<String> include, List<String> exclude) {
        return DirectoryCorpus.build(root, out, PathSelection.of(include, exclude), Progress.NONE);
    }

    @Test
    void texFilesInSortedOrderSkippingBinaryAndNonUtf8() throws IOException {
        Map<String, byte[]> p = project();
        Path root = write("paper", p);
        Path out = dir.resolve("out/tex.txt");
        List<Long> progress = new ArrayList<>();
        CorpusStats s = DirectoryCorpus.build(
                root, out, PathSelection.of(List.of("*.tex"), List.of()), (d, t, x) -> progress.add(d));
        String want = concat(p, "chapters/appendix.tex", "chapters/intro.tex", "main.tex", "old/draft.tex");
        assertEquals(want, Files.readString(out, StandardCharsets.UTF_8));
        assertEquals(4, s.files());
        assertEquals(utf8(want).length, s.bytes());
        assertEquals(want.codePoints().distinct().count(), s.distinctChars());
        assertEquals(new CorpusStats.FileGroup(1, List.of("figures/scan.tex")), s.binary());
        assertEquals(new CorpusStats.FileGroup(1, List.of("legacy.tex")), s.notUtf8());
        assertEquals(0, s.invalidUtf8().count());
        assertTrue(
                s.summary()
                        .endsWith("; skipped 2 files: 1 binary, with NUL bytes (e.g. figures/scan.tex), "
                                + "1 not valid UTF-8 (e.g. legacy.tex)"),
                s.summary());
        assertTrue(s.summary().startsWith(out + ": 4 files, " + s.bytes() + " bytes, "), s.summary());
        long all = 0;
        for (String k : List.of(
                "chapters/appendix.tex",
                "chapters/intro.tex",
                "figures/scan.tex",
                "legacy.tex",
                "main.tex",
                "old/draft.tex")) all += p.get(k).length;
        assertEquals(all, (long) progress.get(progress.size() - 1));
        assertNoTempFiles(out.getParent());
    }

    @Test
    void severalIncludesAndExcludes() throws IOException {
        Map<String, byte[]> p = project();
        Path root = write("paper", p);
        Path out = dir.resolve("c.txt");
        build(root, out, List.of("*.tex", "*.bib"), List.of("old", "chapters/intro.tex"));
        assertEquals(concat(p, "chapters/appendix.tex", "main.tex", "refs.bib"), Files.readString(out));
        build(root, out, List.of("chapters/*.tex", "*.txt"), List.of());
        assertEquals(concat(p, "chapters/appendix.tex", "chapters/intro.tex", "notes.txt"), Files.readString(out));
        build(root, out, List.of("**/*.tex"), List.of("*.bib", "figures/", "app*"));
        assertEquals(concat(p, "chapters/intro.tex", "old/draft.tex"), Files.readString(out)); // ** needs a '/'
        CorpusStats s = build(root, out, List.of("*.{tex,txt}"), List.of("./chapters/**", "legacy.tex", "figures"));
        assertEquals(concat(p, "main.tex", "notes.txt", "old/draft.tex"), Files.readString(out));
        assertEquals(0, s.binary().count() + s.notUtf8().count());
        assertFalse(s.summary().contains("skipped"), s.summary());
    }

    @Test
    void outputIsTheSameWhateverTheOrderFilesWereMade() throws IOException {
        Map<String, byte[]> p = project();
        List<String> order = new ArrayList<>(p.keySet());
        Path a = write("a", p, order);
        Collections.reverse(order);
        Path b = write("b", p, order);
        Collections.shuffle(order, new java.util.Random(7));
        Path c = write("c", p, order);
        byte[] first = null;
        for (Path root : List.of(a, b, c, a)) {
            Path out = dir.resolve("out-" + root.getFileName() + ".txt");
            build(root, out, List.of("*.tex", "*.txt"), List.of());
            byte[] got = Files.readAllBytes(out);
            if (first == null) first = got;
            else assertArrayEquals(first, got, root.toString());
        }
    }

    @Test
    void linksAreNotFollowedAndTheOutputInsideTheTreeIsNotReadBack() throws IOException {
        Map<String, byte[]> p = project();
        Path root = write("paper", p);
        Files.createSymbolicLink(root.resolve("link.tex"), root.resolve("main.tex"));
        Files.createSymbolicLink(root.resolve("linked-dir"), root.resolve("chapters"));
        Path out = root.resolve("all.txt");
        String want = concat(p, "notes.txt");
        build(root, out, List.of("*.txt"), List.of());
        assertEquals(want, Files.readString(out));
        build(root, out, List.of("*.txt"), List.of()); // all.txt exists now and matches '*.txt'
        assertEquals(want, Files.readString(out));
        assertNoTempFiles(root);
    }

    @Test
    void byteOrderMarksAreDroppedAndLargeFilesAreCopiedWholeOrNotAtAll() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        files.put("a.txt", concatBytes(bom, utf8("with a byte-order mark\n")));
        String big = "0123456789abcdef\n".repeat(150_000); // 2.5 MB: several read buffers
        files.put("b.txt", utf8(big));
        files.put("c.txt", concatBytes(utf8(big), new byte[] {(byte) 0xC3})); // cut short at the very end
        files.put("d.txt", concatBytes(utf8(big), new byte[] {0}, utf8(big))); // NUL past the first buffer
        files.put("e.txt", utf8("end\n"));
        Path root = write("t", files);
        Path out = dir.resolve("t.txt");
        CorpusStats s = build(root, out, List.of("*.txt"), List.of());
        String want = "with a byte-order mark\n" + big + "end\n";
        assertEquals(want, Files.readString(out, StandardCharsets.UTF_8));
        assertEquals(utf8(want).length, Files.size(out));
        assertEquals(Files.size(out), s.bytes());
        assertEquals(3, s.files());
        assertEquals(List.of("d.txt"), s.binary().examples());
        assertEquals(List.of("c.txt"), s.notUtf8().examples());
        assertFalse(s.distinctChars() > want.codePoints().distinct().count());
    }

    private static byte[] concatBytes(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Test
    void errorsAreOneLineAndWriteNothing() throws Exception {
        Path root = write("paper", project());
        Path out = dir.resolve("out/c.txt");
        Path missing = dir.resolve("nope");
        assertError("--source " + missing + " does not exist", missing, out, List.of("*.tex"), List.of());
        Path file = root.resolve("main.tex");
        assertError("--source " + file + " is not a directory", file, out, List.of("*.tex"), List.of());
        assertError(
                "no files under " + root.toRealPath() + " match --include '*.md' --exclude 'old'",
                root,
                out,
                List.of("*.md"),
                List.of("old"));
        assertError(
                "none of the 2 files under " + root.toRealPath() + " that match --include '*.tex' --exclude 'main.tex' "
                        + "--exclude 'chapters' --exclude 'old' is UTF-8 text: skipped 2 files: "
                        + "1 binary, with NUL bytes (e.g. figures/scan.tex), 1 not valid UTF-8 (e.g. legacy.tex)",
                root,
                out,
                List.of("*.tex"),
                List.of("main.tex", "chapters", "old"));
        Files.createFile(root.resolve("empty.txt"));
        assertError(
                "the one file under " + root.toRealPath() + " that matches --include 'empty.txt' is empty",
                root,
                out,
                List.of("empty.txt"),
                List.of());
        Path notADir = root.resolve("notes.txt");
        assertError(
                "cannot write --out " + notADir.resolve("c.txt") + ": " + notADir + " is not a directory",
                root,
                notADir.resolve("c.txt"),
                List.of("*.tex"),
                List.of());
        Path outDir = Files.createDirectories(dir.resolve("outdir"));
        assertError("--out " + outDir + " is a directory; give a file name", root, outDir, List.of("*.tex"), List.of());
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("pipe"));
        assertError(
                "--out " + pipe + " is not a regular file (a device, pipe or socket); give a file name",
                root,
                pipe,
                List.of("*.tex"),
                List.of());
        assertEquals(
                "--include '[a' is not a valid glob: Missing ']",
                assertThrows(UserError.class, () -> PathSelection.of(List.of("[a"), List.of()))
                        .getMessage());
        assertEquals(
                "--exclude needs a pattern, not an empty string",
                assertThrows(UserError.class, () -> PathSelection.of(List.of("*"), List.of("")))
                        .getMessage());
        assertEquals(
                "give at least one --include GLOB",
                assertThrows(UserError.class, () -> PathSelection.of(List.of(), List.of()))
                        .getMessage());
        assertNoTempFiles(dir.resolve("out"));
        assertNoTempFiles(root);
    }

    @Test
    void selectionMatchesNamesOrWholePaths() {
        PathSelection s = PathSelection.of(List.of("*.tex", "src/**/*.c"), List.of("build", "gen/*.tex"));
        assertTrue(s.selects("a.tex"));
        assertTrue(s.selects("x/y/a.tex"));
        assertFalse(s.selects("a.tex.bak"));
        assertTrue(s.selects("src/a/b.c"));
        assertFalse(s.selects("src/b.c")); // "src/**/*.c" needs a directory between
        assertFalse(s.selects("lib/b.c"));
        assertFalse(s.selects("build/a.tex"));
        assertFalse(s.selects("x/build/a.tex"));
        assertFalse(s.selects("gen/a.tex"));
        assertTrue(s.selects("x/gen/a.tex"));
        assertTrue(s.excludesDirectory("build"));
        assertFalse(s.excludesDirectory("gen"));
        assertEquals("--include '*.tex' --include 'src/**/*.c' --exclude 'build' --exclude 'gen/*.tex'", s.describe());
    }

    private static void assertError(String message, Path source, Path out, List<String> include, List<String> exclude) {
        UserError e = assertThrows(UserError.class, () -> build(source, out, include, exclude));
        assertEquals(message, e.getMessage());
        assertEquals(2, e.exitCode());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(Files.isRegularFile(out), "nothing written at " + out);
    }

    private static void assertNoTempFiles(Path d) throws IOException {
        if (!Files.isDirectory(d)) return;
        try (Stream<Path> s = Files.list(d)) {
            List<Path> left = s.filter(p -> p.getFileName().toString().startsWith(".")
                            || p.getFileName().toString().endsWith(".staging"))
                    .toList();
            assertEquals(List.of(), left);
        }
    }
}
