package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.io.Safetensors;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.SmallDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up during a caption run: the failed write stops the run at once with one line
 * (no further epochs trained for nothing), the model and state already on disk stay whole, and
 * {@code --resume} goes on from the last whole epoch once there is room.
 */
class CaptionDiskFullTest {
    @TempDir
    Path dir;

    private static CliRun train(Path f, Path c, Path out, String epochs, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "caption", "train", "--features", f.toString(), "--captions", c.toString(), "--out", out.toString()));
        a.addAll(
                List.of("--val-frac", "0.34", "--batch", "2", "--hidden", "8", "--embedding", "4", "--epochs", epochs));
        a.addAll(List.of("--backend", "reference", "--threads", "1", "--log-every", "0"));
        a.addAll(List.of(more));
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void aFailedWriteStopsTheRunAndItResumesOnceThereIsRoom() throws Exception {
        Path f = CaptionCliTest.features(dir, 6, 4);
        String[] lines = new String[6];
        for (int i = 0; i < 6; i++)
            lines[i] = "{\"image\": " + i + ", \"caption\": \"" + CaptionCliTest.CAPTIONS[i % 4] + "\"}";
        Path c = CaptionCliTest.captions(dir, lines);
        Path disk = Files.createDirectory(dir.resolve("disk")), run = disk.resolve("run");
        try (SmallDisk small = SmallDisk.mount(disk, "1m")) {
            CliRun first = train(f, c, run, "1");
            assertEquals(0, first.code(), first.err());
            Path model = run.resolve("caption.safetensors"), state = run.resolve("resume.safetensors");

            // each file is rewritten through a temporary one, the old one freed after the rename: room
            // for a new model file and less than a new state
            long room = SmallDisk.pages(state) - 1;
            assertTrue(SmallDisk.pages(model) <= room, "the state (float64, with the optimizer's) outweighs the model");
            Path filler = small.fillUpTo(room);
            CliRun full = train(f, c, run, "4", "--resume");
            assertEquals(2, full.code(), full.err());
            assertTrue(
                    full.err().strip().endsWith("charrnn: cannot write in " + run + ": No space left on device"),
                    full.err());
            assertFalse(full.out().contains("epoch 3  iter"), "the run stopped at its failed write:\n" + full.out());
            assertEquals("1", Safetensors.read(state).metadata().get("epoch"), "the state of epoch 1 is whole");
            Safetensors.read(model); // whole, whichever epoch wrote it

            Files.delete(filler);
            CliRun resumed = train(f, c, run, "4", "--resume");
            assertEquals(0, resumed.code(), resumed.err());
            assertTrue(resumed.out().contains("resuming after epoch 1 (iteration 2)"), resumed.out());
            assertEquals("4", Safetensors.read(state).metadata().get("epoch"));
        }
    }
}
