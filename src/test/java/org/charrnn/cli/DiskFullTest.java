package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.SmallDisk;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up during a run (README, "What survives what"): the checkpoint write fails with
 * one line and exit 2, every checkpoint already on disk still loads, and {@code --resume} continues
 * from the newest complete one once there is room. The run's directory is a small tmpfs of its own,
 * filled with a file until the next checkpoint's model file fits and its training state does not
 * ({@link SmallDisk}: where this process may not mount one, the test skips).
 */
class DiskFullTest {
    @TempDir
    Path dir;

    Path disk, text;
    SmallDisk small;

    @BeforeEach
    void mountSmallDisk() throws Exception {
        disk = Files.createDirectory(dir.resolve("disk"));
        text = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 7));
        small = SmallDisk.mount(disk, "1m");
    }

    @AfterEach
    void unmount() throws Exception {
        if (small != null) small.close();
    }

    private CliRun train(String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "train", "--backend", "reference", "--quiet", "--data", text.toString(), "--sample-length", "0"));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void aFullDiskCostsNoCheckpointAndTheRunResumesOnceThereIsRoom() throws Exception {
        Path run = disk.resolve("run");
        CliRun first = train(
                "--out",
                run.toString(),
                "--model",
                "gru",
                "--layers",
                "1",
                "--hidden",
                "12",
                "--embedding",
                "6",
                "--batch",
                "4",
                "--seq",
                "20",
                "--val-frac",
                "0.1",
                "--max-iters",
                "5",
                "--checkpoint-every",
                "5");
        assertEquals(0, first.code(), first.err());
        Path five = Checkpoint.modelPath(run, 5);

        // room for the next model file and less than its training state after it
        Path filler = small.fillUpTo(SmallDisk.pages(five) + SmallDisk.pages(Checkpoint.statePath(five)) - 1);
        CliRun full = train("--resume", run.toString(), "--max-iters", "10");
        full.assertErrorAfterLog("cannot write to " + run + ": No space left on device");

        Path tenModel = Checkpoint.modelPath(run, 10);
        assertTrue(
                Files.exists(tenModel) && !Files.exists(Checkpoint.statePath(tenModel)),
                "the disk filled between iteration 10's model file and its training state");
        assertEquals(five, Resume.resolve(run), "the last complete checkpoint is still the one to resume");
        for (Path p : Checkpoint.list(run)) Checkpoint.loadModel(p); // each model file on disk loads whole
        Checkpoint.loadState(five);

        Files.delete(filler);
        CliRun resumed = train("--resume", run.toString(), "--max-iters", "10");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(tenModel, Resume.resolve(run));
        assertEquals(10, Checkpoint.loadState(tenModel).iteration());
        assertTrue(resumed.err().contains("done: 10 iterations"), resumed.err());
    }
}
