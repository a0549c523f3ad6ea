package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.io.Checkpoint;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI: bad input gives one line and exit 2, no stack trace; the happy path trains, samples and evaluates. */
class CliTest {
    @TempDir
    Path dir;

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private String[] train(String... extra) {
        return trainInto(dir.resolve("run"), extra);
    }

    private String[] trainInto(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--cache-dir",
                dir.resolve("cache").toString(),
                "--out",
                out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static void assertOneLineError(CliRun r, String expectInMessage) {
        r.assertOneLineError(expectInMessage);
    }

    @Test
    void missingFile() {
        assertOneLineError(run(train("--data", dir.resolve("nope.txt").toString())), "nope.txt");
    }

    /** The backend's and the corpus's options are checked before the corpus is looked for (a large one takes minutes to encode). */
    @Test
    void badOptionsComeBeforeTheCorpus() {
        String missing = dir.resolve("nope.txt").toString();
        assertOneLineError(run(train("--data", missing, "--rnn-kernel", "fast")), "--rnn-kernel");
        assertOneLineError(run(train("--data", missing, "--precision", "fp16")), "fp16");
        assertOneLineError(run(train("--data", missing, "--threads", "-1")), "--threads must be 0 (all cores) to 1024");
        // ForkJoinPool's own limit used to surface as "charrnn: null"
        assertOneLineError(run(train("--data", missing, "--threads", "100000")), "got 100000");
        assertOneLineError(
                run("train", "--data", missing, "--backend", "opencl", "--threads", "2"),
                "--threads 2 sets the reference backend's threads; --backend opencl does not use them");
        assertOneLineError(
                run("train", "--data", missing, "--backend", "reference", "--no-graph"),
                "--no-graph applies to the cuda backend; --backend reference captures no graphs");
        assertOneLineError(
                run("bench", "--backend", "opencl", "--no-graph"),
                "--no-graph applies to the cuda backend; --backend opencl captures no graphs");
        assertOneLineError(
                run("sample", "--checkpoint", missing, "--backend", "CUDA", "--threads", "1"),
                "--threads 1 sets the reference backend's threads; --backend cuda does not use them");
        assertOneLineError(run(train("--data", missing, "--val-frac", "2")), "--val-frac");
        assertOneLineError(run(train("--data", missing, "--max-vocab", "1")), "--max-vocab");
    }

    @Test
    void emptyFile() throws Exception {
        Path f = Files.writeString(dir.resolve("empty.txt"), "");
        assertOneLineError(run(train("--data", f.toString())), "empty");
    }

    @Test
    void corpusShorterThanOneWindowStatesTheMinimum() throws Exception {
        Path f = Files.writeString(dir.resolve("short.txt"), TestData.pseudoText(300, 1));
        CliRun r = run(train("--data", f.toString(), "--batch", "10", "--seq", "50", "--val-frac", "0"));
        assertOneLineError(r, "501");
    }

    @Test
    void valSplitTooSmallSuggestsValFrac() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 1));
        assertOneLineError(
                run(train("--data", f.toString(), "--batch", "4", "--seq", "20", "--val-frac", "0.01")), "--val-frac");
    }

    @Test
    void badOptionValues() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 1));
        assertOneLineError(run(train("--data", f.toString(), "--hidden", "-3")), "--hidden");
        assertOneLineError(run(train("--data", f.toString(), "--batch", "0")), "--batch");
        assertOneLineError(run(train("--data", f.toString(), "--model", "transformer")), "transformer");
        assertOneLineError(run(train("--data", f.toString(), "--layers", "two")), "two");
        assertOneLineError(run(train("--data", f.toString(), "--dropout", "1.5")), "--dropout");
        // config.json cannot hold an infinity: these used to fail writing it, in Gson's words
        assertOneLineError(run(train("--data", f.toString(), "--clip", "Infinity")), "--clip must be finite");
        assertOneLineError(
                run(train("--data", f.toString(), "--weight-decay", "Infinity")), "--weight-decay must be finite");
        // options only another optimizer or schedule reads: refused, not stored and left unread
        assertOneLineError(
                run(train("--data", f.toString(), "--optimizer", "adam", "--momentum", "0.5")),
                "--momentum applies to --optimizer sgd only; this run has optimizer adam");
        assertOneLineError(
                run(train("--data", f.toString(), "--optimizer", "sgd", "--decay", "0.5")),
                "--decay applies to --optimizer rmsprop (its square average; the learning rate's is --lr-decay) "
                        + "only; this run has optimizer sgd");
        assertOneLineError(
                run(train("--data", f.toString(), "--lr-schedule", "constant", "--lr-decay-every", "2")),
                "--lr-decay-every applies to --lr-schedule step only; this run has schedule constant");
        assertOneLineError(
                run(train("--data", f.toString(), "--val-frac", "0", "--early-stop", "3")),
                "--early-stop applies to a validation split only; this run has --val-frac 0");
        assertOneLineError(
                run(train("--data", f.toString(), "--batch", "4", "--seq", "20", "--hidden", "30000")),
                "model too large");
        assertOneLineError(
                run(train("--data", f.toString(), "--batch", "4", "--seq", "20", "--embedding", "2000000000")),
                "model too large");
        assertOneLineError(
                run("sample", "--checkpoint", f.toString(), "--temperature", "0"),
                "--temperature must be > 0, got 0.0 (--argmax always takes the most likely character)");
        assertOneLineError(run("sample", "--checkpoint", f.toString(), "--temperature", "-1"), "--temperature");
        // greedy decoding ignores a temperature and cut-offs: refused with it rather than dropped
        assertOneLineError(
                run("sample", "--checkpoint", f.toString(), "--argmax", "--temperature", "0.5"),
                "--argmax always takes the most likely character; --temperature 0.5 does not apply with it");
        assertOneLineError(
                run("sample", "--checkpoint", f.toString(), "--argmax", "--top-k", "5"),
                "--argmax always takes the most likely character; --top-k 5 does not apply with it");
        assertOneLineError(
                run("sample", "--checkpoint", f.toString(), "--argmax", "--top-p", "0.9"),
                "--argmax always takes the most likely character; --top-p 0.9 does not apply with it");
        assertOneLineError(
                run("sample", "--checkpoint", f.toString(), "--device", "-2"),
                "--device must be >= 0 (or -1: the first suitable), got -2");
        assertOneLineError(run("verify", "--backend", "opencl", "--device", "-5"), "--device must be >= 0");
    }

    @Test
    void unwritableOut() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 1));
        Path blocker = Files.writeString(dir.resolve("blocker"), "a file, not a directory");
        String[] data = {"--data", f.toString(), "--batch", "4", "--seq", "10"};
        Path below = blocker.resolve("sub");
        CliRun r = run(trainInto(below, data));
        assertOneLineError(r, "cannot write to --out " + below + ": " + blocker + " is not a directory");
        assertOneLineError(
                run(trainInto(blocker, data)),
                "cannot write to --out " + blocker + ": " + blocker + " exists and is not a directory");
    }

    /** An empty path (an unset shell variable) would be the working directory: every path option refuses it. */
    @Test
    void anEmptyPathIsRefused() {
        String empty = "the path is empty (for the working directory give .)";
        assertOneLineError(run("sample", "--checkpoint", ""), "Invalid value for option '--checkpoint': " + empty);
        assertOneLineError(run("report", "--run", ""), "Invalid value for option '--run': " + empty);
        assertOneLineError(
                run("caption", "sample", "--checkpoint", "c", "--features", "", "--image", "0"),
                "Invalid value for option '--features': " + empty);
    }

    /**
     * A fresh run refused after it made its directory (here a model too large for one parameter
     * array, found when the backend is made) leaves no empty directory behind; a directory that was
     * there before stays.
     */
    @Test
    void aRefusedRunLeavesNoDirectoryItMade() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 1));
        String[] huge = {"--data", f.toString(), "--batch", "4", "--seq", "10", "--hidden", "100000"};
        Path made = dir.resolve("runs/new");
        assertOneLineError(run(trainInto(made, huge)), "model too large");
        assertFalse(Files.exists(made), "the refused run's directory is removed");
        Path before = Files.createDirectories(dir.resolve("existing"));
        assertOneLineError(run(trainInto(before, huge)), "model too large");
        assertTrue(Files.isDirectory(before));
    }

    /** Running out of heap (an Error, which picocli does not handle) is one line and exit 1, nothing written. */
    @Test
    void outOfHeapIsOneLine() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 1));
        CliRun r = CliRun.inChildJvm(
                List.of("-Xmx32m"),
                120,
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--data",
                f.toString(),
                "--hidden",
                "2048",
                "--layers",
                "3",
                "--batch",
                "4",
                "--seq",
                "10",
                "--max-iters",
                "1",
                "--cache-dir",
                dir.resolve("cache").toString(),
                "--out",
                dir.resolve("run").toString());
        assertEquals(1, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("charrnn: out of Java heap memory (32 MiB)"), r.err());
        assertTrue(!r.err().contains("\tat ") && !r.err().contains("Exception in thread"), r.err());
        assertTrue(Checkpoint.list(dir.resolve("run")).isEmpty());
    }

    @Test
    void corruptCheckpointForSample() throws Exception {
        Path f = Files.write(dir.resolve("x.safetensors"), new byte[] {1, 2, 3});
        assertOneLineError(run("sample", "--checkpoint", f.toString()), "truncated");
    }

    @Test
    void debugShowsStackTrace() throws Exception {
        Path f = Files.write(dir.resolve("x.safetensors"), new byte[] {1, 2, 3});
        CliRun r = run("sample", "--debug", "--checkpoint", f.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void mutCellsNeedEmbeddingEqualToHiddenAndTrainAndSample() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 1));
        CliRun bad = run(train("--data", f.toString(), "--model", "mut1", "--embedding", "64", "--hidden", "128"));
        assertOneLineError(bad, "--embedding (64) must equal --hidden (128)");
        assertOneLineError(
                run(train("--data", f.toString(), "--model", "MUT2", "--embedding", "8", "--hidden", "16")),
                "--model mut2");
        for (String cell : new String[] {"mut1", "mut2", "mut3"}) {
            Path out = dir.resolve(cell);
            CliRun r = run(
                    "train",
                    "--backend",
                    "reference",
                    "--quiet",
                    "--cache-dir",
                    dir.resolve("cache").toString(),
                    "--out",
                    out.toString(),
                    "--data",
                    f.toString(),
                    "--model",
                    cell,
                    "--batch",
                    "4",
                    "--seq",
                    "20",
                    "--hidden",
                    "16",
                    "--embedding",
                    cell.equals("mut3") ? "8" : "16",
                    "--layers",
                    "2",
                    "--max-iters",
                    "10");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("model: " + cell + " L2 H16"), r.err());
            CliRun s = run("sample", "--checkpoint", out.toString(), "--length", "20", "--backend", "reference");
            assertEquals(0, s.code(), s.err());
            assertEquals(21, s.out().codePointCount(0, s.out().length()), s.out()); // 20 symbols + newline
        }
    }

    @Test
    void trainSampleEvalAndResumeEndToEnd() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(6000, 9));
        CliRun r = run(train(
                "--data",
                f.toString(),
                "--batch",
                "4",
                "--seq",
                "20",
                "--hidden",
                "16",
                "--layers",
                "1",
                "--embedding",
                "8",
                "--max-iters",
                "30",
                "--checkpoint-every",
                "15",
                "--val-every",
                "15"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("backend: reference"), r.err());
        assertTrue(r.out().contains("--- sample at iteration 30 ---"), r.out());
        assertTrue(Files.exists(Checkpoint.modelPath(dir.resolve("run"), 30)));

        CliRun s = run(
                "sample",
                "--checkpoint",
                dir.resolve("run").toString(),
                "--length",
                "50",
                "--prime",
                "the ",
                "--backend",
                "reference");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().contains("checkpoint: " + dir.resolve("run").resolve("ckpt-")), s.err()); // says which
        assertTrue(s.out().startsWith("the "), s.out());
        assertEquals(55, s.out().length(), s.out()); // prime + 50 + newline

        CliRun bad = run(
                "sample", "--checkpoint", dir.resolve("run").toString(), "--prime", "xyZ", "--backend", "reference");
        assertOneLineError(bad, "Z");

        CliRun e = run(
                "eval",
                "--checkpoint",
                dir.resolve("run").toString(),
                "--data",
                f.toString(),
                "--backend",
                "reference",
                "--cache-dir",
                dir.resolve("cache").toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().matches("(?s)loss \\d+\\.\\d+ nats/char .*bits/char .*perplexity.*"), e.out());

        CliRun more = run(train(
                "--data",
                f.toString(),
                "--batch",
                "4",
                "--seq",
                "20",
                "--max-iters",
                "40",
                "--resume",
                dir.resolve("run").toString()));
        assertEquals(0, more.code(), more.err());
        assertTrue(more.err().contains("resuming from"), more.err());
        assertTrue(Files.exists(Checkpoint.modelPath(dir.resolve("run"), 40)));

        // other data may continue the run where its characters are the run's; one it never saw is an error
        Path other = Files.writeString(dir.resolve("other.txt"), "QQQQQQQQQ\u0416".repeat(600));
        CliRun mismatch = run(train(
                "--data",
                other.toString(),
                "--batch",
                "4",
                "--seq",
                "20",
                "--max-iters",
                "50",
                "--resume",
                dir.resolve("run").toString()));
        assertEquals(2, mismatch.code(), mismatch.err());
        String[] lines = mismatch.err().strip().split("\n");
        assertTrue(lines[0].startsWith("resume: --data " + other), mismatch.err()); // the override, logged
        assertTrue(
                lines[lines.length - 1].startsWith("charrnn: ")
                        && lines[lines.length - 1].contains("not in the model's vocabulary:")
                        && lines[lines.length - 1].contains("(U+0416)"),
                mismatch.err());

        // a fresh run into the same directory would overwrite its checkpoints: refused, nothing touched
        byte[] before = Files.readAllBytes(Checkpoint.modelPath(dir.resolve("run"), 40));
        long metricsBefore = Files.size(dir.resolve("run").resolve("metrics.jsonl"));
        CliRun again = run(train("--data", f.toString(), "--batch", "4", "--seq", "20", "--max-iters", "40"));
        assertOneLineError(again, "--resume");
        assertTrue(again.err().contains("already holds a run"), again.err());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(Checkpoint.modelPath(dir.resolve("run"), 40))));
        assertEquals(metricsBefore, Files.size(dir.resolve("run").resolve("metrics.jsonl")));
    }

    /** A training run refuses a caption run's directory, whose metrics.jsonl it would overwrite. */
    @Test
    void aFreshRunRefusesACaptionRunsDirectory() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 7));
        Path out = Files.createDirectories(dir.resolve("captions"));
        Files.writeString(out.resolve("resume.safetensors"), "a caption run's state");
        Files.writeString(out.resolve("metrics.jsonl"), "{}\n");
        assertOneLineError(
                run(trainInto(out, "--data", f.toString(), "--batch", "4", "--seq", "20")),
                out + " holds a caption run (resume.safetensors), whose metrics a training run would overwrite; give"
                        + " a new --out directory");
        assertEquals("{}\n", Files.readString(out.resolve("metrics.jsonl")));
    }

    @Test
    void theReferenceRefusesTheGpusReducedPrecisions() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 7));
        for (String p : List.of("tf32", "bf16"))
            assertOneLineError(
                    run(train("--data", f.toString(), "--batch", "4", "--seq", "20", "--precision", p)),
                    "the reference backend computes in fp64 only; --precision " + p + " is not supported");
    }

    /** The reference runs the recurrence step by step: a forced persistent kernel is refused, stepwise accepted. */
    @Test
    void theReferenceRefusesAForcedPersistentKernel() throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 7));
        assertOneLineError(
                run(train("--data", f.toString(), "--batch", "4", "--seq", "20", "--rnn-kernel", "persistent")),
                "the reference backend steps one timestep at a time; --rnn-kernel persistent runs on the cuda and"
                        + " opencl backends");
        CliRun stepwise = run(train(
                "--data", f.toString(), "--batch", "4", "--seq", "20", "--max-iters", "2", "--rnn-kernel", "stepwise"));
        assertEquals(0, stepwise.code(), stepwise.err());
    }
}
