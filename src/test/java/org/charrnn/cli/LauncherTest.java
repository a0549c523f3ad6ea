package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.charrnn.testutil.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./charrnn} launcher. Its first-use build: Maven's output reaches a redirected stderr
 * without its colour codes, and a failed build is one closing line and exit 1 (a stand-in {@code
 * mvn} on the PATH prints coloured output and fails, in a copy of the launcher with no jar). Its
 * filter of the JVM's incubator-module warning: the line is gone, and a log or terminal that takes
 * both streams keeps them in the order the program wrote them (a stand-in jar alternates stderr and
 * stdout lines). Its {@code -Dcharrnn.terminal}: whether stderr is a terminal.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("charrnn.basedir"), "charrnn");

    @Test
    void aFailedBuildReachesALogWithoutColourCodes(@TempDir Path dir) throws IOException, InterruptedException {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.copy(LAUNCHER, root.resolve("charrnn"));
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path mvn = Files.writeString(
                bin.resolve("mvn"),
                "#!/bin/sh\nprintf '\\033[1;31m[ERROR]\\033[m COMPILATION ERROR in Foo.java\\n'\nexit 1\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path err = dir.resolve("stderr.log");
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("charrnn").toString(), "--help")
                .redirectErrorStream(false)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        String log = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(1, p.exitValue(), log);
        assertTrue(log.contains("[ERROR] COMPILATION ERROR in Foo.java"), log);
        assertFalse(log.contains("\u001b"), "colour codes in a redirected log: " + log);
        assertTrue(log.strip().endsWith("charrnn: build failed (see the Maven output above)"), log);
    }

    /** Lines the stand-in program writes: {@code err i} to stderr, then {@code out i} to stdout. */
    private static final int LINES = 300;

    /** A log that takes both streams ({@code > log 2>&1}) gets them in the order they were written. */
    @Test
    void aSharedLogKeepsTheOrderOfBothStreams(@TempDir Path dir) throws IOException, InterruptedException {
        Path log = dir.resolve("both.log");
        ProcessBuilder pb = new ProcessBuilder("bash", standInCheckout(dir).toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        String want = "terminal=false\n" + interleaved();
        assertEquals(want, run(pb, log, want.length()));
    }

    /**
     * On a terminal (script(1) gives the launcher one) both streams keep their order too, and the
     * JVM, which then writes to the filter's pipe, is told that a terminal is there; with stderr
     * sent to a file from the terminal, it is told there is none.
     */
    @Test
    void aTerminalKeepsTheOrderAndIsToldItIsOne(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(Tools.onPath("script"), "no script(1) here to give the launcher a terminal");
        Path log = dir.resolve("tty.log");
        ProcessBuilder pb = new ProcessBuilder("script", "-qec", "bash '" + standInCheckout(dir) + "'", "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        String want = "terminal=true\n" + interleaved();
        assertEquals(want, run(pb, log, want.length() + want.lines().count()).replace("\r\n", "\n"));

        Path err = dir.resolve("err.log");
        ProcessBuilder toFile = new ProcessBuilder(
                        "script",
                        "-qec",
                        "bash '" + dir.resolve("checkout/charrnn") + "' 2> '" + err + "'",
                        "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        String firstLine = run(toFile, log, 16).lines().findFirst().orElse("");
        assertEquals("terminal=false", firstLine);
    }

    /** Separate files: each gets its own stream, and stderr lacks the JVM's warning line. */
    @Test
    void separateLogsGetTheirOwnStream(@TempDir Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("out.log"), err = dir.resolve("err.log");
        ProcessBuilder pb = new ProcessBuilder("bash", standInCheckout(dir).toString())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        StringBuilder wantOut = new StringBuilder("terminal=false\n"), wantErr = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            wantErr.append("err ").append(i).append('\n');
            wantOut.append("out ").append(i).append('\n');
        }
        assertEquals(wantErr.toString(), run(pb, err, wantErr.length()));
        assertEquals(wantOut.toString(), read(out));
    }

    /** What the stand-in writes after its first line, in order. */
    private static String interleaved() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < LINES; i++)
            s.append("err ").append(i).append('\n').append("out ").append(i).append('\n');
        return s.toString();
    }

    /**
     * Runs {@code pb}, checks that the program's exit status comes through, and returns {@code log}
     * once it holds {@code bytes} (the launcher's filter may still be writing when the JVM's exit
     * reaches us) or after a second.
     */
    private static String run(ProcessBuilder pb, Path log, long bytes) throws IOException, InterruptedException {
        // as from a user's shell: CI's CHARRNN_CUDA_EMULATOR=1 would ask for the emulated device's library, and
        // the tests' LD_PRELOAD of libjsig (which the launcher sets for the JVM alone) would have script(1) warn
        pb.environment().remove("CHARRNN_CUDA_EMULATOR");
        pb.environment().remove("LD_PRELOAD");
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        assertEquals(3, p.exitValue(), () -> "the program's exit status; its output: " + read(log));
        for (int tries = 0; tries < 50 && Files.size(log) < bytes; tries++) Thread.sleep(20);
        return read(log);
    }

    /**
     * The stand-in program: says what the launcher told it of a terminal, alternates lines on
     * stderr and stdout, flushing each, then exits 3.
     */
    public static final class Interleave {
        public static void main(String[] args) {
            // a compile-time constant: the stand-in jar holds this class alone
            System.out.print("terminal=" + System.getProperty(org.charrnn.util.ProgressBar.TERMINAL_PROPERTY) + "\n");
            System.out.flush();
            for (int i = 0; i < LINES; i++) {
                System.err.print("err " + i + "\n");
                System.err.flush();
                System.out.print("out " + i + "\n");
                System.out.flush();
            }
            System.exit(3);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** A copy of the launcher whose target/charrnn-cli.jar runs {@link Interleave}; returns the launcher. */
    private static Path standInCheckout(Path dir) throws IOException {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Path launcher = Files.copy(LAUNCHER, root.resolve("charrnn"));
        Path jar = Files.createDirectories(root.resolve("target")).resolve("charrnn-cli.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Interleave.class.getName());
        String entry = Interleave.class.getName().replace('.', '/') + ".class";
        try (OutputStream os = Files.newOutputStream(jar);
                JarOutputStream jos = new JarOutputStream(os, mf);
                InputStream cls = Interleave.class.getClassLoader().getResourceAsStream(entry)) {
            assertTrue(cls != null, "no class file " + entry);
            jos.putNextEntry(new JarEntry(entry));
            cls.transferTo(jos);
            jos.closeEntry();
        }
        return launcher;
    }
}
