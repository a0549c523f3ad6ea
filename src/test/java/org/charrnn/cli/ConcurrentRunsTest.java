package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * One run per run directory: while a trainer runs, a second one on the same --out (fresh or
 * --resume) fails with one line naming the holder's pid; once the holder is killed (kill -9), its
 * lock is taken over and the run resumes.
 */
class ConcurrentRunsTest {

    private static List<String> train(Path dir, Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--print-every",
                "1",
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
                "16",
                "--layers",
                "1",
                "--sample-length",
                "0"));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void aSecondRunOnTheSameDirectoryIsRefusedUntilTheFirstIsGone(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(20000, 5));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd =
                new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(train(dir, data, "--checkpoint-every", "2", "--max-iters", "100000"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = r.readLine()) != null) {
                seen.append(line).append('\n');
                if (line.startsWith("iter 3/")) break;
            }
            assertTrue(seen.toString().contains("iter 3/"), seen.toString());

            String holder = "pid " + p.pid();
            CliRun resume = CliRun.of(
                    train(dir, data, "--resume", dir.resolve("run").toString()).toArray(String[]::new));
            resume.assertOneLineError("is in use by another charrnn run (" + holder);
            CliRun fresh = CliRun.of(train(dir, data, "--max-iters", "10").toArray(String[]::new));
            fresh.assertOneLineError("is in use by another charrnn run (" + holder);

            p.destroyForcibly(); // kill -9: the OS drops its lock
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the first run is gone");
        } finally {
            p.destroyForcibly();
        }
        long at = Checkpoint.loadState(Resume.resolve(dir.resolve("run"))).iteration();
        CliRun resumed = CliRun.of(train(
                        dir,
                        data,
                        "--resume",
                        dir.resolve("run").toString(),
                        "--max-iters",
                        Long.toString(at + 2),
                        "--checkpoint-every",
                        "1")
                .toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(
                at + 2, Checkpoint.loadState(Resume.resolve(dir.resolve("run"))).iteration());
    }
}
