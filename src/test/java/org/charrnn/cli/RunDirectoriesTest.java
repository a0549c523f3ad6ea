package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.charrnn.train.RunConfig;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train's runs/DATE-TIME directories, and report's default: the run that wrote last. */
class RunDirectoriesTest {
    @TempDir
    Path root;

    /** A run directory whose config.json (and metrics.jsonl, where {@code metricsAt} >= 0) were last written then. */
    private Path run(String name, long configAt, long metricsAt) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.setLastModifiedTime(Files.writeString(dir.resolve(RunConfig.FILE), "{}"), FileTime.fromMillis(configAt));
        if (metricsAt >= 0)
            Files.setLastModifiedTime(
                    Files.writeString(dir.resolve("metrics.jsonl"), "{}\n"), FileTime.fromMillis(metricsAt));
        return dir;
    }

    @Test
    void theNewestIsTheRunWhoseMetricsWereWrittenLast() throws IOException {
        run("20261201-090000", 1_000, 9_000);
        Path resumed = run("20261130-080000", 500, 12_000); // older name, still training
        run("20261202-100000", 11_000, -1); // started later, no log line yet
        Files.setLastModifiedTime(
                Files.createDirectories(root.resolve("not-a-run")), FileTime.fromMillis(99_000)); // no config.json
        assertEquals(resumed, RunDirectories.newest(root));
        Path started = run("20261203-100000", 13_000, -1);
        assertEquals(started, RunDirectories.newest(root));
    }

    @Test
    void noRunIsOneLineNamingTheOption() throws IOException {
        for (Path where : new Path[] {root.resolve("missing"), Files.createDirectories(root.resolve("empty"))}) {
            UserError e = assertThrows(UserError.class, () -> RunDirectories.newest(where));
            assertEquals(
                    "no run directory under " + where + " (where charrnn train writes without --out); give --run",
                    e.getMessage());
        }
    }

    @Test
    void aFreshDirectoryNeverCollides() throws IOException {
        Path first = Files.createDirectories(RunDirectories.fresh(root));
        Path second = RunDirectories.fresh(root);
        assertEquals(root, first.getParent());
        assertFalse(Files.exists(second));
        assertNotEquals(first, second);
    }
}
