package org.charrnn.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.charrnn.cli.Main;

/** Runs the CLI in-process with stdout and stderr captured. */
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

    /** Exit 2 with one line {@code charrnn: ...} containing {@code expect}, no stack trace. */
    public void assertOneLineError(String expect) {
        assertEquals(2, code, err);
        String[] lines = err.strip().split("\n");
        assertEquals(1, lines.length, "expected one line, got: " + err);
        assertTrue(lines[0].startsWith("charrnn: ") && lines[0].contains(expect), lines[0]);
        assertFalse(err.contains("\tat "), "no stack trace");
    }
}
