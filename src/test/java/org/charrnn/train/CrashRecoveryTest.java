package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.charrnn.backend.BackendOptions;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.io.Safetensors;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a crash between the files of a checkpoint leaves behind never costs the run its checkpoints. */
class CrashRecoveryTest {

    private static TrainConfig config(Path dir, long iters, int every, int keep) {
        return TrainConfig.defaults()
                .withModel(new ModelSpec(CellType.GRU, 1, 12, 6, 0.0))
                .withBatching(new TrainConfig.Batching(2, 10))
                .withLimits(new TrainConfig.Limits(100, iters))
                .withValidation(new TrainConfig.Validation(1000, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, every, keep))
                .withReporting(new TrainConfig.Reporting(1000, 0, 0.8));
    }

    /** Trains {@code cfg} (resuming from its directory where asked); returns the lines it logged. */
    private static List<String> train(TrainConfig cfg, boolean resume) {
        Path dir = cfg.checkpointing().out();
        List<String> log = new java.util.ArrayList<>();
        Trainer.Options o = Trainer.Options.defaults()
                .withBackend("reference", BackendOptions.defaults().withThreads(1))
                .withOutput(true, log::add, null);
        if (resume) o = o.withResume(dir);
        try (Trainer t = new Trainer(cfg, TestData.split(TestData.pseudoText(4000, 7), 0.0), o)) {
            t.run();
        }
        return log;
    }

    /**
     * The model file of iteration 30 survived a crash, its state file did not: an orphan with the
     * highest iteration. A resume with --keep 1 must not prune the checkpoint it resumed from, nor
     * each one it writes, in favour of the orphan.
     */
    @Test
    void anOrphanModelFileIsNeverKeptInsteadOfCompleteCheckpoints(@TempDir Path dir) throws Exception {
        train(config(dir, 30, 10, 5), false);
        Files.delete(Checkpoint.statePath(Checkpoint.modelPath(dir, 30)));
        Path stale = dir.resolve(".ckpt-00000040.safetensors.123456.tmp");
        Files.writeString(stale, "half a checkpoint");

        List<String> log = train(config(dir, 25, 1, 1), true);

        assertTrue(
                log.contains("resuming from " + Checkpoint.modelPath(dir, 20) + " at iteration 20 (passing over"
                        + " ckpt-00000030.safetensors: no training state, a crash or a full disk cut it short)"),
                String.join("\n", log));
        assertFalse(Files.exists(stale), "unfinished checkpoint writes are cleaned at start");
        assertEquals(Checkpoint.modelPath(dir, 25), Resume.resolve(dir));
        List<Path> complete = Checkpoint.listComplete(dir);
        assertEquals(Checkpoint.modelPath(dir, 25), complete.get(complete.size() - 1));
        assertTrue(complete.size() <= 2, "--keep 1 keeps the newest (and at most the best): " + complete);
        // and the run goes on from there, the orphan left in place and named again
        List<String> again = train(config(dir, 27, 1, 1), true);
        assertTrue(
                again.get(0)
                        .startsWith("resuming from " + Checkpoint.modelPath(dir, 25) + " at iteration 25 (passing"
                                + " over ckpt-00000030.safetensors"),
                again.get(0));
        assertEquals(Checkpoint.modelPath(dir, 27), Resume.resolve(dir));
    }

    /**
     * An old checkpoint whose val_loss metadata is damaged is no candidate for the best, not the end
     * of the run: the pruning after each checkpoint and --resume's choice of a file pass over it.
     */
    @Test
    void aDamagedValLossInAnOldCheckpointDoesNotStopTheRun(@TempDir Path dir) throws Exception {
        train(config(dir, 10, 5, 5), false);
        Path old = Checkpoint.modelPath(dir, 5);
        Safetensors.Contents c = Safetensors.read(old);
        Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.put("val_loss", "x{");
        Safetensors.write(old, new java.util.ArrayList<>(c.tensors().values()), meta);

        train(config(dir, 20, 5, 1), true); // keep 1: the pruning reads every checkpoint's val_loss

        assertEquals(List.of(Checkpoint.modelPath(dir, 20)), Checkpoint.list(dir));
        assertEquals(Checkpoint.modelPath(dir, 20), Checkpoint.resolveModel(dir));
    }

    /**
     * A run killed after its last checkpoint leaves metrics rows past it (and perhaps half a line, or
     * a damaged one): the resume drops them, so every iteration has exactly one row.
     */
    @Test
    void aResumeDropsTheMetricsRowsPastItsCheckpoint(@TempDir Path dir) throws Exception {
        train(config(dir, 20, 10, 5), false);
        Path metrics = dir.resolve("metrics.jsonl");
        StringBuilder extra = new StringBuilder();
        for (int it = 21; it <= 23; it++)
            extra.append("{\"type\":\"iter\",\"iter\":").append(it).append(",\"epoch\":1.0,\"loss\":2.0}\n");
        Files.writeString(metrics, extra, java.nio.file.StandardOpenOption.APPEND);
        // a line of bytes that are not UTF-8 (a damaged disk block), then one cut off by kill -9
        Files.write(
                metrics,
                new byte[] {(byte) 0xFF, (byte) 0xFE, '{', '\n', '{', '"', 't', 'y'},
                java.nio.file.StandardOpenOption.APPEND);

        train(config(dir, 25, 10, 5), true);

        List<Long> iters = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            com.google.gson.JsonObject o =
                    com.google.gson.JsonParser.parseString(line).getAsJsonObject();
            if (o.get("type").getAsString().equals("iter"))
                iters.add(o.get("iter").getAsLong());
        }
        List<Long> want = new java.util.ArrayList<>();
        for (long it = 1; it <= 25; it++) want.add(it);
        assertEquals(want, iters);
    }

    /**
     * A metrics.jsonl that is a pipe (a user's tail -f setup gone wrong) is named at the resume: the
     * open for append would wait for a reader for ever, and one stop signal cannot end that wait.
     */
    @Test
    void aPipeForTheMetricsIsNamedNotWaitedOn(@TempDir Path dir) throws Exception {
        train(config(dir, 10, 10, 5), false);
        Path metrics = dir.resolve("metrics.jsonl");
        Files.delete(metrics);
        org.charrnn.testutil.NamedPipe.at(metrics);
        org.charrnn.util.UserError e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(60),
                () -> org.junit.jupiter.api.Assertions.assertThrows(
                        org.charrnn.util.UserError.class, () -> train(config(dir, 20, 10, 5), true)));
        assertEquals(
                "cannot write to " + dir + ": " + metrics + " is not a regular file (a device, pipe or socket)",
                e.getMessage());
        assertTrue(Files.exists(dir.resolve("ckpt-00000010.safetensors")), "the checkpoint stays");
    }

    /**
     * The cached corpus failing under a running reference trainer (its file truncated) stops the
     * run with one line naming the problem, after a checkpoint of the last completed iteration.
     */
    @Test
    void aCorpusThatFailsMidRunStopsWithACheckpoint(@TempDir Path dir) throws Exception {
        Trainer.Data d = TestData.split(TestData.pseudoText(4000, 7), 0.0);
        org.charrnn.data.TokenSequence train = d.train();
        long[] reads = {0};
        org.charrnn.data.TokenSequence failing = new org.charrnn.data.TokenSequence() {
            @Override
            public long length() {
                return train.length();
            }

            @Override
            public int get(long i) {
                // B 2 rows of T+1 = 11 tokens a step: fails in step 8
                if (++reads[0] > 22 * 7 + 5)
                    throw new org.charrnn.data.CorpusReadError("/cache/x.tokens was truncated", null);
                return train.get(i);
            }
        };
        Trainer.Options o = Trainer.Options.defaults()
                .withBackend("reference", BackendOptions.defaults().withThreads(1))
                .withOutput(true, line -> {}, null);
        TrainConfig cfg = config(dir, 100, 1000, 5);
        try (Trainer t = new Trainer(cfg, new Trainer.Data(d.vocabulary(), failing, d.val(), d.description()), o)) {
            org.charrnn.util.UserError e =
                    org.junit.jupiter.api.Assertions.assertThrows(org.charrnn.util.UserError.class, t::run);
            assertTrue(e.getMessage().contains("x.tokens was truncated"), e.getMessage());
            assertTrue(e.getMessage().contains("ckpt-00000007"), e.getMessage());
        }
        assertEquals(Checkpoint.modelPath(dir, 7), Resume.resolve(dir));
        Checkpoint.loadModel(Checkpoint.modelPath(dir, 7));
    }
}
