package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxCorpusTest {
    @TempDir
    Path dir;

    /** A tiny kernel-like tree, listed in deliberately unsorted order. */
    static Map<String, String> tree() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Kconfig", "mainmenu \"Linux\"\n");
        m.put("kernel/sched/core.c", "/* scheduler */\nint x;\n");
        m.put("README", "not C\n");
        m.put("include/linux/list.h", "#define LIST_HEAD(x) x\n");
        m.put("arch/x86/boot/main.c", "void main(void) { /* Grüße, 한국 😀 */ }\n");
        m.put("drivers/net/a.h", "#pragma once\n");
        m.put("drivers/net/a.c", "#include \"a.h\"\n");
        m.put("Documentation/x.rst", "doc\n");
        m.put("scripts/gen.py", "print(1)\n");
        m.put("lib/zz.cc", "// C++ is not collected\n");
        return m;
    }

    /** The .c/.h contents in sorted path order. */
    static String expected(Map<String, String> tree) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(tree).forEach((k, v) -> {
            if (k.endsWith(".c") || k.endsWith(".h")) sb.append(v);
        });
        return sb.toString();
    }

    private Path writeTree(Path root, Map<String, String> tree) throws IOException {
        for (Map.Entry<String, String> e : tree.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
        }
        return root;
    }

    /** A tar of {@code entries} (in the given order) under {@code prefix}, optionally compressed. */
    private Path writeTar(String name, String prefix, List<Map.Entry<String, String>> entries, String compression)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream c = compression.equals("xz")
                        ? new XZCompressorOutputStream(bytes)
                        : compression.equals("gz") ? new GzipCompressorOutputStream(bytes) : bytes;
                TarArchiveOutputStream tar = new TarArchiveOutputStream(c)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            if (!prefix.isEmpty()) {
                tar.putArchiveEntry(new TarArchiveEntry(prefix + "/"));
                tar.closeArchiveEntry();
            }
            for (Map.Entry<String, String> e : entries) {
                byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry te = new TarArchiveEntry((prefix.isEmpty() ? "" : prefix + "/") + e.getKey());
                te.setSize(b.length);
                tar.putArchiveEntry(te);
                tar.write(b);
                tar.closeArchiveEntry();
            }
            TarArchiveEntry link = new TarArchiveEntry(
                    (prefix.isEmpty() ? "" : prefix + "/") + "include/alias.h", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("linux/list.h");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }
        return Files.write(dir.resolve(name), bytes.toByteArray());
    }

    @Test
    void directoryTreeInSortedOrder() throws IOException {
        Path root = writeTree(dir.resolve("linux"), tree());
        Files.createSymbolicLink(root.resolve("include/alias.h"), root.resolve("include/linux/list.h"));
        Path link = Files.createSymbolicLink(dir.resolve("linux-link"), root);
        Path out = dir.resolve("out/linux.txt");
        List<Long> progress = new ArrayList<>();
        CorpusStats s = LinuxCorpus.build(link, out, (d, t, x) -> progress.add(d));
        String want = expected(tree());
        assertEquals(want, Files.readString(out, StandardCharsets.UTF_8));
        assertEquals(5, s.files());
        assertEquals(want.getBytes(StandardCharsets.UTF_8).length, s.bytes());
        assertEquals(want.codePoints().distinct().count(), s.distinctChars());
        assertEquals(0, s.invalidUtf8().count());
        assertEquals(s.bytes(), (long) progress.get(progress.size() - 1));
        assertTrue(
                s.summary()
                        .startsWith(out + ": 5 files, " + s.bytes() + " bytes, " + s.distinctChars()
                                + " distinct characters ("),
                s.summary());
        assertNoTempFiles(out.getParent());
    }

    @Test
    void tarGzAndTarXzAndPlainTarGiveTheSameCorpus() throws IOException {
        List<Map.Entry<String, String>> entries = new ArrayList<>(tree().entrySet());
        String want = expected(tree());
        for (String comp : new String[] {"gz", "xz", "none"}) {
            Path archive = writeTar(
                    "linux-" + comp + ".tar" + (comp.equals("none") ? "" : "." + comp), "linux-6.1", entries, comp);
            Path out = dir.resolve("linux-" + comp + ".txt");
            CorpusStats s = LinuxCorpus.build(archive, out, Progress.NONE);
            assertEquals(want, Files.readString(out, StandardCharsets.UTF_8), comp);
            assertEquals(5, s.files(), comp);
            assertEquals(want.getBytes(StandardCharsets.UTF_8).length, s.bytes(), comp);
        }
        assertNoTempFiles(dir);
    }

    @Test
    void corpusFromAnArchiveHasThePermissionsOfAnyNewFile() throws IOException {
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        Map<String, String> sorted = new TreeMap<>(tree());
        for (String name : new String[] {"sorted.tar.gz", "unsorted.tar.gz"}) {
            List<Map.Entry<String, String>> entries =
                    new ArrayList<>((name.startsWith("sorted") ? sorted : tree()).entrySet());
            Path out = dir.resolve(name + ".txt");
            LinuxCorpus.build(writeTar(name, "", entries, "gz"), out, Progress.NONE);
            assertEquals(
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)),
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(out)),
                    name);
        }
    }

    @Test
    void sortedArchiveAndRepeatedPath() throws IOException {
        Map<String, String> sorted = new TreeMap<>(tree());
        List<Map.Entry<String, String>> entries = new ArrayList<>(sorted.entrySet());
        Path a = writeTar("sorted.tar.gz", "", entries, "gz");
        Path out = dir.resolve("s.txt");
        LinuxCorpus.build(a, out, Progress.NONE);
        assertEquals(expected(tree()), Files.readString(out, StandardCharsets.UTF_8));
        // a path that occurs twice: the later entry wins
        entries.add(Map.entry("drivers/net/a.c", "/* replaced */\n"));
        Map<String, String> replaced = new TreeMap<>(tree());
        replaced.put("drivers/net/a.c", "/* replaced */\n");
        Path b = writeTar("dup.tar.xz", "", entries, "xz");
        CorpusStats s = LinuxCorpus.build(b, out, Progress.NONE);
        assertEquals(expected(replaced), Files.readString(out, StandardCharsets.UTF_8));
        assertEquals(5, s.files());
        assertEquals(expected(replaced).getBytes(StandardCharsets.UTF_8).length, s.bytes());
    }

    @Test
    void invalidUtf8FilesAreReported() throws IOException {
        Path root = writeTree(dir.resolve("linux"), tree());
        Files.write(root.resolve("drivers/old.c"), new byte[] {'/', '*', (byte) 0xE9, '*', '/', '\n'});
        Path out = dir.resolve("l.txt");
        CorpusStats s = LinuxCorpus.build(root, out, Progress.NONE);
        assertEquals(6, s.files());
        assertEquals(1, s.invalidUtf8().count());
        assertEquals(List.of("drivers/old.c"), s.invalidUtf8().examples());
        assertTrue(
                s.summary().contains("1 files are not valid UTF-8 (e.g. drivers/old.c): train with --encoding bytes"),
                s.summary());
        assertTrue(s.distinctBytes() > s.distinctChars() - 10);
    }

    @Test
    void badSourcesAreOneLineErrorsAndWriteNothing() throws IOException {
        Path out = dir.resolve("out/l.txt");
        Path missing = dir.resolve("nope");
        assertError("--source " + missing + " does not exist", missing, out);

        Path random = Files.write(dir.resolve("random.bin"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertError(random + " is not a kernel source tree or a .tar.xz/.tar.gz archive of one", random, out);

        Path text = Files.writeString(dir.resolve("notes.txt"), "x".repeat(2000));
        assertError(text + " is not a kernel source tree or a .tar.xz/.tar.gz archive of one", text, out);

        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream o = new GzipCompressorOutputStream(gz)) {
            o.write("hello, not a tar".getBytes(StandardCharsets.US_ASCII));
        }
        Path gzFile = Files.write(dir.resolve("notatar.tar.gz"), gz.toByteArray());
        assertError(gzFile + " is not a kernel source tree or a .tar.xz/.tar.gz archive of one", gzFile, out);

        Path plainDir = writeTree(dir.resolve("proj"), Map.of("main.c", "int main;\n"));
        assertError(
                plainDir
                        + " does not look like a Linux kernel source tree (no Kconfig, Kbuild or MAINTAINERS at its top level)",
                plainDir,
                out);

        Path noC = writeTree(dir.resolve("noc"), Map.of("Kconfig", "x\n", "README", "y\n"));
        assertError(noC + " has no .c or .h files: not a Linux kernel source tree", noC, out);

        Path nonKernelTar = writeTar("proj.tar.gz", "proj", List.of(Map.entry("main.c", "int main;\n")), "gz");
        assertError(
                nonKernelTar
                        + " does not look like an archive of a Linux kernel source tree (no Kconfig, Kbuild or MAINTAINERS at its top level)",
                nonKernelTar,
                out);

        Path full = writeTar("full.tar.xz", "linux", new ArrayList<>(tree().entrySet()), "xz");
        byte[] b = Files.readAllBytes(full);
        Path truncated = Files.write(dir.resolve("truncated.tar.xz"), java.util.Arrays.copyOf(b, b.length * 2 / 3));
        UserError e = assertThrows(UserError.class, () -> LinuxCorpus.build(truncated, out, Progress.NONE));
        assertTrue(
                e.getMessage().startsWith("cannot read " + truncated + ": ")
                        && e.getMessage().endsWith("(damaged or truncated archive?)"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(Files.exists(out));
        // cut inside the compressed header or the data: a reason in words, not a stream's exception name
        for (String kind : List.of("gz", "xz")) {
            byte[] whole =
                    Files.readAllBytes(writeTar("whole." + kind, "linux", new ArrayList<>(tree().entrySet()), kind));
            for (int cut : new int[] {5, whole.length / 2}) {
                Path cutShort = Files.write(dir.resolve("cut" + cut + ".tar." + kind), Arrays.copyOf(whole, cut));
                UserError ce = assertThrows(UserError.class, () -> LinuxCorpus.build(cutShort, out, Progress.NONE));
                assertFalse(
                        ce.getMessage().contains("Exception") || ce.getMessage().contains("\n"), ce.getMessage());
                assertFalse(Files.exists(out));
            }
        }

        Path root = writeTree(dir.resolve("linux"), tree());
        Path same = writeTar("same.tar.gz", "linux", new ArrayList<>(tree().entrySet()), "gz");
        long sameSize = Files.size(same);
        UserError e2 = assertThrows(UserError.class, () -> LinuxCorpus.build(same, same, Progress.NONE));
        assertEquals("--out " + same + " is the --source itself; give another file name", e2.getMessage());
        assertEquals(sameSize, Files.size(same));
        Path outDir = Files.createDirectories(dir.resolve("outdir"));
        assertError("--out " + outDir + " is a directory; give a file name", root, outDir);
        assertNoTempFiles(out.getParent());
    }

    private static void assertError(String message, Path source, Path out) {
        UserError e = assertThrows(UserError.class, () -> LinuxCorpus.build(source, out, Progress.NONE));
        assertEquals(message, e.getMessage());
        assertEquals(2, e.exitCode());
        assertFalse(Files.exists(out) && !Files.isDirectory(out), "nothing written at " + out);
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
