package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.charrnn.testutil.NamedPipe;
import org.charrnn.util.IoErrors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The caption run's metrics.jsonl: what a resume keeps, and a pipe in its place named, not waited on. */
class CaptionMetricsTest {
    @TempDir
    Path dir;

    @Test
    void aResumeKeepsTheRowsUpToItsIterationAndDropsCutLines() throws Exception {
        Path file = dir.resolve(CaptionMetrics.FILE);
        Files.writeString(file, "{\"type\":\"iter\",\"iter\":1}\n{\"type\":\"iter\",\"iter\":2}\n{\"type\":\"it");
        new CaptionMetrics(dir, 1).close();
        assertEquals("{\"type\":\"iter\",\"iter\":1}\n", Files.readString(file));
        new CaptionMetrics(dir, -1).close();
        assertEquals("", Files.readString(file), "a fresh run starts the file afresh");
    }

    @Test
    void aPipeWhereTheMetricsGoIsNamed() throws Exception {
        Path pipe = NamedPipe.at(dir.resolve(CaptionMetrics.FILE));
        for (long keepUpTo : new long[] {-1, 5}) {
            IOException e = assertTimeoutPreemptively(
                    Duration.ofSeconds(30),
                    () -> assertThrows(IOException.class, () -> new CaptionMetrics(dir, keepUpTo)));
            assertEquals(pipe + " is not a regular file (a device, pipe or socket)", IoErrors.reason(e));
        }
        assertTrue(Files.exists(pipe) && !Files.isRegularFile(pipe), "the pipe is left as it was");
    }
}
