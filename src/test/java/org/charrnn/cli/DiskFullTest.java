package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up during a run (README, "What survives what"): the checkpoint write fails with
 * one line and exit 2, every checkpoint already on disk still loads, and {@code --resume} continues
 * from the newest complete one once there is room. The run's directory is a small tmpfs of its own,
 * filled with a file until the next checkpoint's model file fits and its training state does not;
 * where this process may not mount one (not root, or no CAP_SYS_ADMIN in a container) the test skips.
 */
class DiskFullTest {
    /** tmpfs allocates whole pages. */
    private static final long PAGE = 4096;

    @TempDir
    Path dir;

    Path disk, text;
    boolean mounted;

    @BeforeEach
    void mountSmallDisk() throws Exception {
        disk = Files.createDirectory(dir.resolve("disk"));
        text = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 7));
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "a tmpfs of a given size needs Linux's mount");
        mounted = command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk.toString());
        assumeTrue(mounted, "mounting a small tmpfs needs root (CAP_SYS_ADMIN in a container)");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted && !command("umount", disk.toString()))
            throw new IllegalStateException("could not unmount the test's tmpfs at " + disk);
    }

    private static boolean command(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private CliRun train(String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "train", "--backend", "reference", "--quiet", "--data", text.toString(), "--sample-length", "0"));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    private static long pages(Path file) throws IOException {
        return (Files.size(file) + PAGE - 1) / PAGE;
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
        long room = pages(five) + pages(Checkpoint.statePath(five)) - 1;
        Path filler = disk.resolve("filler");
        Files.write(filler, new byte[(int) (Files.getFileStore(disk).getUsableSpace() - room * PAGE)]);
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
