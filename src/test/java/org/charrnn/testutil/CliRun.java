package org.charrnn.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.charrnn.cli.Main;

/** Runs the CLI in-process (or in a child JVM) with stdout and stderr captured. */
public record CliRun(int code, String out, String err) {
    public static CliRun of(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /**
     * Runs the CLI in a child JVM started with {@code jvmOptions} (a heap cap, say) and this test
     * JVM's class path; fails the test if it runs longer than {@code timeoutSeconds}.
     */
    public static CliRun inChildJvm(List<String> jvmOptions, int timeoutSeconds, String... args)
            throws IOException, InterruptedException {
        return inChildJvm(Map.of(), jvmOptions, timeoutSeconds, args);
    }

    /** As {@link #inChildJvm(List, int, String...)}, with {@code env} added to this JVM's environment. */
    public static CliRun inChildJvm(
            Map<String, String> env, List<String> jvmOptions, int timeoutSeconds, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("charrnn-cli", ".out"), err = Files.createTempFile("charrnn-cli", ".err");
        try {
            ProcessBuilder pb =
                    new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) p.destroyForcibly().waitFor();
            CliRun r = new CliRun(
                    done ? p.exitValue() : -1,
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            assertTrue(done, "timed out after " + timeoutSeconds + " s: " + r.err());
            return r;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Exit 2 with one line {@code charrnn: ...} containing {@code expect}, no stack trace. */
    public void assertOneLineError(String expect) {
        assertEquals(2, code, err);
        String[] lines = err.strip().split("\n");
        assertEquals(1, lines.length, "expected one line, got: " + err);
        assertTrue(lines[0].startsWith("charrnn: ") && lines[0].contains(expect), lines[0]);
        assertFalse(err.contains("\tat "), "no stack trace");
    }

    /**
     * Exit 2 with a last line {@code charrnn: ...} containing {@code expect}, no stack trace: an
     * error after the run's log lines (what it resumed, overrode or trained before it failed).
     */
    public void assertErrorAfterLog(String expect) {
        assertEquals(2, code, err);
        String[] lines = err.strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("charrnn: ") && last.contains(expect), last);
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
    }
}
