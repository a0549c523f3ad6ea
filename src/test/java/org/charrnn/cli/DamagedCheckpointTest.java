package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A checkpoint damaged on disk after it was written (checkpoint writes are atomic, so only something
 * outside the run truncates one): {@code --resume} stops with one line naming the damaged file and the
 * newest complete checkpoint before it, touches no file, and resumes from that one once the damaged
 * files are moved out of the run directory.
 */
class DamagedCheckpointTest {
    @TempDir
    Path dir;

    Path text, run;

    @BeforeEach
    void trainThreeCheckpoints() throws IOException {
        text = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 11));
        run = dir.resolve("run");
        CliRun first = train("--out", run.toString(), "--max-iters", "6", "--checkpoint-every", "3");
        assertEquals(0, first.code(), first.err());
    }

    private CliRun train(String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--data",
                text.toString(),
                "--sample-length",
                "0",
                "--model",
                "rnn",
                "--layers",
                "1",
                "--hidden",
                "8",
                "--embedding",
                "4",
                "--batch",
                "2",
                "--seq",
                "10",
                "--val-frac",
                "0.1"));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    private static void truncate(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.truncate(c.size() / 2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"model", "state"})
    void theErrorNamesTheCheckpointBeforeTheDamagedOne(String damaged) throws IOException {
        Path six = Checkpoint.modelPath(run, 6), three = Checkpoint.modelPath(run, 3);
        Function<Path, Path> file = damaged.equals("model") ? p -> p : Checkpoint::statePath;
        truncate(file.apply(six));
        byte[] metrics = Files.readAllBytes(run.resolve("metrics.jsonl"));

        CliRun refused = train("--resume", run.toString(), "--max-iters", "9");
        assertEquals(2, refused.code(), refused.err());
        String line = refused.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(line.startsWith("charrnn: " + file.apply(six) + ": "), line);
        assertTrue(
                line.endsWith("; ckpt-00000003.safetensors before it is complete: move ckpt-00000006.* out of " + run
                        + " to resume from it"),
                line);
        assertFalse(refused.err().contains("\tat "), refused.err());
        assertTrue(
                java.util.Arrays.equals(metrics, Files.readAllBytes(run.resolve("metrics.jsonl"))),
                "a refused resume leaves the run's files as they were");

        Path aside = Files.createDirectory(dir.resolve("aside"));
        for (Path p : List.of(six, Checkpoint.statePath(six)))
            Files.move(p, aside.resolve(p.getFileName().toString()));
        assertEquals(three, Resume.resolve(run));
        CliRun resumed = train("--resume", run.toString(), "--max-iters", "9");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(9, Checkpoint.loadState(Checkpoint.modelPath(run, 9)).iteration());
        Checkpoint.loadState(six); // written again, whole
    }

    @ParameterizedTest
    @ValueSource(strings = {"model", "state"})
    void withNoEarlierCheckpointTheErrorIsTheFilesAlone(String damaged) throws IOException {
        Path three = Checkpoint.modelPath(run, 3);
        for (Path p : List.of(Checkpoint.modelPath(run, 6), Checkpoint.statePath(Checkpoint.modelPath(run, 6))))
            Files.delete(p);
        truncate(damaged.equals("model") ? three : Checkpoint.statePath(three));
        CliRun refused = train("--resume", run.toString(), "--max-iters", "9");
        assertEquals(2, refused.code(), refused.err());
        assertFalse(refused.err().contains("before it is complete"), refused.err());
        assertTrue(refused.err().contains("charrnn: " + run.resolve("ckpt-00000003.")), refused.err());
    }
}
