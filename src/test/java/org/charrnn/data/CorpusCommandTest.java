package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.charrnn.cli.CorpusCommand;
import org.charrnn.testutil.CliRun;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CorpusCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter(), err = new StringWriter();

    /** Runs the command as the main CLI does: UserError -> one line and its exit code. */
    private int run(String... args) {
        CommandLine cl = new CommandLine(new CorpusCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, command, parsed) -> {
            if (ex instanceof UserError u) {
                command.getErr().println("charrnn: " + u.getMessage());
                return u.exitCode();
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Test
    void linuxFromTree() throws Exception {
        Path root = dir.resolve("linux");
        for (Map.Entry<String, String> e : LinuxCorpusTest.tree().entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
        }
        Path o = dir.resolve("linux.txt");
        assertEquals(0, run("linux", "--source", root.toString(), "--out", o.toString(), "-q"), err.toString());
        assertEquals(LinuxCorpusTest.expected(LinuxCorpusTest.tree()), Files.readString(o, StandardCharsets.UTF_8));
        assertTrue(out.toString().startsWith(o + ": 5 files, "), out.toString());
    }

    @Test
    void linuxBadSource() {
        Path o = dir.resolve("linux.txt");
        assertEquals(2, run("linux", "--source", dir.resolve("none").toString(), "--out", o.toString()));
        assertEquals(
                "charrnn: --source " + dir.resolve("none") + " does not exist",
                err.toString().trim());
        assertFalse(Files.exists(o));
    }

    @Test
    void linuxNeedsBothOptions() {
        assertEquals(2, run("linux", "--out", "x"));
        assertTrue(err.toString().contains("--source"), err.toString());
    }

    @Test
    void dirFromTree() throws Exception {
        Map<String, byte[]> files = DirectoryCorpusTest.project();
        Path root = dir.resolve("paper");
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        Path o = dir.resolve("tex.txt");
        assertEquals(
                0,
                run(
                        "dir",
                        "--source",
                        root.toString(),
                        "--include",
                        "*.tex",
                        "--include",
                        "*.bib",
                        "--exclude",
                        "old",
                        "--out",
                        o.toString(),
                        "-q"),
                err.toString());
        String want = new String(files.get("chapters/appendix.tex"), StandardCharsets.UTF_8)
                + new String(files.get("chapters/intro.tex"), StandardCharsets.UTF_8)
                + new String(files.get("main.tex"), StandardCharsets.UTF_8)
                + new String(files.get("refs.bib"), StandardCharsets.UTF_8);
        assertEquals(want, Files.readString(o, StandardCharsets.UTF_8));
        assertTrue(out.toString().startsWith(o + ": 4 files, "), out.toString());
        assertTrue(
                out.toString()
                        .contains("; skipped 2 files: 1 binary, with NUL bytes (e.g. figures/scan.tex), "
                                + "1 not valid UTF-8 (e.g. legacy.tex)"),
                out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void dirErrorsAreOneLine() throws Exception {
        Path root = Files.createDirectories(dir.resolve("src"));
        Files.writeString(root.resolve("a.txt"), "text\n");
        Path o = dir.resolve("c.txt");
        CliRun none =
                CliRun.of("corpus", "dir", "--source", root.toString(), "--include", "*.tex", "--out", o.toString());
        none.assertOneLineError("no files under " + root.toRealPath() + " match --include '*.tex'");
        CliRun missing = CliRun.of(
                "corpus", "dir", "--source", dir.resolve("x").toString(), "--include", "*", "--out", o.toString());
        missing.assertOneLineError("--source " + dir.resolve("x") + " does not exist");
        Path blocked = root.resolve("a.txt").resolve("c.txt");
        CliRun unwritable = CliRun.of(
                "corpus", "dir", "--source", root.toString(), "--include", "*.txt", "--out", blocked.toString());
        unwritable.assertOneLineError("cannot write --out " + blocked + ": ");
        CliRun badGlob =
                CliRun.of("corpus", "dir", "--source", root.toString(), "--include", "{a", "--out", o.toString());
        badGlob.assertOneLineError("--include '{a' is not a valid glob");
        assertFalse(Files.exists(o));
        assertEquals(2, run("dir", "--source", root.toString(), "--out", o.toString()));
        assertTrue(err.toString().contains("--include"), err.toString());
    }

    @Test
    void missingSubcommandAndHelp() {
        assertEquals(2, run());
        assertTrue(err.toString().contains("missing subcommand"), err.toString());
        assertEquals(0, run("linux", "--help"));
        assertTrue(out.toString().contains("--source=PATH"), out.toString());
    }

    @Test
    void infoEncodesThenLoadsFromCache() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), "hello world, 안녕 😀\n".repeat(100), StandardCharsets.UTF_8);
        Path cache = dir.resolve("cache");
        assertEquals(
                0,
                run("info", "--data", f.toString(), "--cache-dir", cache.toString(), "-q", "--vocab"),
                err.toString());
        assertTrue(
                out.toString().startsWith("t.txt: 1,800 chars, vocabulary 13, train 1,710 / val 90 / test 0"),
                out.toString());
        assertTrue(out.toString().contains("\nencoded in "), out.toString());
        assertTrue(out.toString().contains("\nvocabulary by frequency:\n' '  "), out.toString());
        assertTrue(out.toString().contains("'l'  300"), out.toString());
        assertTrue(out.toString().contains("'\\n' 100"), out.toString());
        assertTrue(out.toString().contains("'😀' 100"), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(
                0,
                run(
                        "info",
                        "--data",
                        f.toString(),
                        "--cache-dir",
                        cache.toString(),
                        "-q",
                        "--max-vocab",
                        "5",
                        "--test-frac",
                        "0.1"));
        assertTrue(out.toString().contains("vocabulary 5 (incl. unknown symbol"), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, run("info", "--data", f.toString(), "--cache-dir", cache.toString(), "-q"));
        assertTrue(out.toString().contains("\nloaded from the cache in "), out.toString());
    }

    @Test
    void infoListsTheVocabularyWrappedToColumns() throws Exception {
        Path f = Files.writeString(
                dir.resolve("t.txt"), "the quick brown fox jumps over the lazy dog\t\u0007\n".repeat(50));
        CliRun narrow = CliRun.inChildJvm(
                Map.of("COLUMNS", "30"), List.of(), 60, "corpus", "info", "--data", f.toString(), "--no-cache", "-q");
        assertEquals(0, narrow.code(), narrow.err());
        List<String> lines = narrow.out().lines().toList();
        int at = lines.indexOf("vocabulary by frequency:");
        assertTrue(at > 0, narrow.out());
        List<String> table = lines.subList(at + 1, lines.size());
        assertEquals("' '      400  'o'      200", table.get(0));
        assertEquals(15, table.size(), narrow.out()); // 30 symbols, two to a line
        for (String l : table) assertTrue(l.length() <= 30, l);
        assertEquals("'u'      100  '\\u0007'  50", table.get(3)); // ties in code point order
        assertEquals("'\\t'      50  '\\n'      50", table.get(4));

        CliRun byCode = CliRun.inChildJvm(
                Map.of("COLUMNS", "not a number"),
                List.of(),
                60,
                "corpus",
                "info",
                "--data",
                f.toString(),
                "--no-cache",
                "-q",
                "--vocab",
                "code");
        assertEquals(0, byCode.code(), byCode.err());
        List<String> all = byCode.out().lines().toList();
        List<String> codeTable = all.subList(all.indexOf("vocabulary by code point:") + 1, all.size());
        assertEquals(6, codeTable.size(), byCode.out()); // 80 columns: five to a line
        assertEquals("'\\u0007'  50  '\\t'      50  '\\n'      50  ' '      400  'a'       50", codeTable.get(0));
        for (String l : codeTable) assertTrue(l.length() <= 80, l);

        assertEquals(0, run("info", "--data", f.toString(), "--no-cache", "-q", "--vocab", "none"));
        assertFalse(out.toString().contains("vocabulary by"), out.toString());
        assertEquals(2, run("info", "--data", f.toString(), "--no-cache", "-q", "--vocab", "size"));
        assertTrue(err.toString().contains("--vocab must be freq, code or none, not 'size'"), err.toString());
    }

    @Test
    void infoBadInput() throws Exception {
        Path bad = Files.write(dir.resolve("bad.txt"), new byte[] {'a', (byte) 0xFF});
        assertEquals(2, run("info", "--data", bad.toString(), "--no-cache", "-q"));
        assertTrue(
                err.toString()
                        .startsWith("charrnn: " + bad + " is not valid UTF-8: invalid lead byte at byte offset 1"),
                err.toString());
        err.getBuffer().setLength(0);
        assertEquals(
                0, run("info", "--data", bad.toString(), "--no-cache", "-q", "--encoding", "bytes"), err.toString());
        assertEquals(2, run("info", "--data", bad.toString(), "--no-cache", "-q", "--encoding", "latin1"));
        assertTrue(err.toString().contains("unknown encoding 'latin1'"), err.toString());
        err.getBuffer().setLength(0);
        Path f = Files.writeString(dir.resolve("ok.txt"), "abc\n");
        String cache = dir.resolve("cache").toString();
        assertEquals(2, run("info", "--data", f.toString(), "--no-cache", "-q", "--cache-dir", cache));
        assertTrue(
                err.toString()
                        .contains("--cache-dir does not apply with --no-cache to a corpus file: nothing is written"),
                err.toString());
    }
}
