package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at random moments of a run that checkpoints every iteration, twenty times: after every
 * kill each checkpoint left on disk loads, and the next start resumes from the newest complete one.
 */
class KillLoopTest {
    private static final int KILLS = 20;

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void everyCheckpointSurvivesRandomKills(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(8000, 3));
        Path out = dir.resolve("run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        SplittableRandom rnd = new SplittableRandom(2026);
        long resumedFrom = -1;
        for (int k = 0; k < KILLS; k++) {
            List<String> cmd = new ArrayList<>(List.of(
                    java,
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    Main.class.getName(),
                    "train",
                    "--backend",
                    "reference",
                    "--threads",
                    "1",
                    "--quiet",
                    "--print-every",
                    "1",
                    "--data",
                    data.toString(),
                    "--out",
                    out.toString(),
                    "--cache-dir",
                    dir.resolve("cache").toString(),
                    "--batch",
                    "2",
                    "--seq",
                    "8",
                    "--hidden",
                    "8",
                    "--layers",
                    "1",
                    "--embedding",
                    "4",
                    "--checkpoint-every",
                    "1",
                    "--keep",
                    "2",
                    "--sample-length",
                    "0",
                    "--max-iters",
                    "1000000"));
            if (k > 0) cmd.addAll(List.of("--resume", out.toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            StringBuilder seen = new StringBuilder();
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    seen.append(line).append('\n');
                    // the kill comes after this start's first complete checkpoint, so each start adds one
                    // (a machine under load can take longer than the random wait to write it)
                    if (line.startsWith("checkpoint ")) break;
                }
                assertTrue(seen.toString().contains("checkpoint "), "start " + k + " checkpoints:\n" + seen);
                if (k > 0) assertTrue(seen.toString().contains("resuming from"), seen.toString());
                Thread.sleep(rnd.nextInt(250)); // land anywhere: mid-step, mid-checkpoint, mid-prune
                p.destroyForcibly(); // SIGKILL
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            } finally {
                p.destroyForcibly();
            }
            for (Path ckpt : Checkpoint.list(out)) {
                Checkpoint.loadModel(ckpt); // every model file on disk is whole
                if (Files.exists(Checkpoint.statePath(ckpt))) Checkpoint.loadState(ckpt);
            }
            long now = Checkpoint.loadState(Resume.resolve(out)).iteration();
            assertTrue(now >= resumedFrom, "progress is never lost: " + now + " after " + resumedFrom);
            resumedFrom = now;
        }
        assertFalse(Checkpoint.listComplete(out).isEmpty());
        assertEquals(
                Resume.resolve(out),
                Checkpoint.listComplete(out).get(Checkpoint.listComplete(out).size() - 1));
    }
}
