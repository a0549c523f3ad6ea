package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** {@code charrnn sample ... | head -c 100}: sampling stops at the first failed write and exits 0 quietly. */
class ClosedPipeTest {

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void sampleStopsWhenItsReaderGoesAway(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 2));
        CliRun t = CliRun.of(
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--data",
                data.toString(),
                "--out",
                dir.resolve("run").toString(),
                "--cache-dir",
                dir.resolve("cache").toString(),
                "--batch",
                "4",
                "--seq",
                "20",
                "--hidden",
                "8",
                "--layers",
                "1",
                "--max-iters",
                "2",
                "--sample-length",
                "0");
        assertEquals(0, t.code(), t.err());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(List.of(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "sample",
                        "--checkpoint",
                        dir.resolve("run").toString(),
                        "--backend",
                        "reference",
                        "--length",
                        "10000000"))
                .redirectError(err.toFile())
                .start();
        try {
            InputStream in = p.getInputStream();
            assertEquals(100, in.readNBytes(100).length);
            in.close(); // the reader goes away, as head -c 100 does
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "sample stops instead of writing 10 million characters");
            assertEquals(0, p.exitValue());
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            assertFalse(stderr.contains("Exception") || stderr.contains("\tat "), stderr);
        } finally {
            p.destroyForcibly();
        }
    }
}
