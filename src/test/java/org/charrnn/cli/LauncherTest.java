package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./charrnn} launcher. Its first-use build: Maven's output reaches a redirected stderr
 * without its colour codes, and a failed build is one closing line and exit 1 (a stand-in {@code
 * mvn} on the PATH prints coloured output and fails, in a copy of the launcher with no jar). Its
 * filter of the JVM's incubator-module warning: the line is gone, and a log that takes both streams
 * keeps them in the order the program wrote them (a stand-in jar alternates stderr and stdout lines).
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
        Process p = start(pb);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        assertEquals(3, p.exitValue(), () -> "the program's exit status; its output: " + read(log));
        StringBuilder want = new StringBuilder();
        for (int i = 0; i < LINES; i++)
            want.append("err ").append(i).append('\n').append("out ").append(i).append('\n');
        assertEquals(want.toString(), Files.readString(log, StandardCharsets.UTF_8));
    }

    /** Separate files: each gets its own stream, and stderr lacks the JVM's warning line. */
    @Test
    void separateLogsGetTheirOwnStream(@TempDir Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("out.log"), err = dir.resolve("err.log");
        ProcessBuilder pb = new ProcessBuilder("bash", standInCheckout(dir).toString())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        Process p = start(pb);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        assertEquals(3, p.exitValue(), () -> "the program's exit status; its stderr: " + read(err));
        StringBuilder wantOut = new StringBuilder(), wantErr = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            wantErr.append("err ").append(i).append('\n');
            wantOut.append("out ").append(i).append('\n');
        }
        // the launcher's filter may still be writing when the JVM's exit reaches us
        for (int tries = 0; tries < 50 && Files.size(err) < wantErr.length(); tries++) Thread.sleep(20);
        assertEquals(wantOut.toString(), Files.readString(out, StandardCharsets.UTF_8));
        assertEquals(wantErr.toString(), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** The stand-in program: alternates lines on stderr and stdout, flushing each, then exits 3. */
    public static final class Interleave {
        public static void main(String[] args) {
            for (int i = 0; i < LINES; i++) {
                System.err.print("err " + i + "\n");
                System.err.flush();
                System.out.print("out " + i + "\n");
                System.out.flush();
            }
            System.exit(3);
        }
    }

    /** Starts the stand-in's launcher as a user would: CI's CHARRNN_CUDA_EMULATOR=1 would ask for its emulated device. */
    private static Process start(ProcessBuilder pb) throws IOException {
        pb.environment().remove("CHARRNN_CUDA_EMULATOR");
        return pb.start();
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
