package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.charrnn.LanguageModel;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.sample.SampleOptions;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrainerTest {

    private static Trainer.Options reference() {
        return Trainer.Options.defaults()
                .withBackend("reference", BackendOptions.defaults().withThreads(2));
    }

    private static TrainConfig small(Path out) {
        return TrainConfig.defaults()
                .withModel(new ModelSpec(CellType.LSTM, 1, 24, 8, 0.0))
                .withBatching(new TrainConfig.Batching(4, 10))
                .withValidation(new TrainConfig.Validation(1000, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(out, 1000, 3))
                .withReporting(new TrainConfig.Reporting(10, 20, 0.8));
    }

    /** Each cell overfits a 200-character text to < 0.05 nats/char within a few hundred steps. */
    @ParameterizedTest
    @EnumSource(CellType.class)
    void overfitsSmallText(CellType cell, @TempDir Path dir) throws Exception {
        String text = TestData.pseudoText(200, 11);
        Trainer.Data data = TestData.split(text, 0.0);
        TrainConfig cfg = small(dir)
                .withModel(new ModelSpec(cell, 1, 64, cell.feedsInputDirectly() ? 64 : 16, 0.0))
                .withBatching(new TrainConfig.Batching(2, 25))
                .withOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM), 1e-2)
                .withSchedule(new TrainConfig.Schedule(1e-2, LrSchedule.CONSTANT, 1, 1))
                .withLimits(new TrainConfig.Limits(1000, 400));
        try (Trainer t = new Trainer(cfg, data, reference())) {
            t.run();
        }
        // the mean loss of the last epoch (all windows of the text)
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        long perEpoch = Trainer.iterationsPerEpoch(200, 2, 25);
        double sum = 0;
        for (int i = lines.size() - (int) perEpoch; i < lines.size(); i++)
            sum += JsonParser.parseString(lines.get(i))
                    .getAsJsonObject()
                    .get("loss")
                    .getAsDouble();
        double last = sum / perEpoch;
        assertTrue(last < 0.05, cell + " reached only " + last + " nats/char");
    }

    @Test
    void sameSeedGivesIdenticalLosses(@TempDir Path dir) throws Exception {
        Trainer.Data data = TestData.split(TestData.pseudoText(3000, 2), 0.1);
        TrainConfig cfg = small(dir.resolve("a"))
                .withModel(new ModelSpec(CellType.GRU, 2, 16, 8, 0.2))
                .withLimits(new TrainConfig.Limits(50, 30));
        try (Trainer t = new Trainer(cfg, data, reference())) {
            t.run();
        }
        try (Trainer t = new Trainer(
                cfg.withValidation(new TrainConfig.Validation(1000, 0))
                        .withCheckpointing(new TrainConfig.Checkpointing(dir.resolve("b"), 1000, 3)),
                data,
                reference())) {
            t.run();
        }
        assertEquals(losses(dir.resolve("a")), losses(dir.resolve("b")));
    }

    /**
     * chars/s is the steps' throughput: a validation between two log lines (here followed by a
     * listener's pause of 800 ms) does not count. Counted, the window after it would report at most
     * its 80 characters over 0.8 s; its two steps of a tiny model take a few milliseconds.
     */
    @Test
    void throughputLeavesOutValidation(@TempDir Path dir) throws Exception {
        Trainer.Data data = TestData.split(TestData.pseudoText(3000, 4), 0.1);
        TrainConfig cfg = small(dir)
                .withModel(new ModelSpec(CellType.LSTM, 1, 8, 4, 0.0))
                .withValidation(new TrainConfig.Validation(3, 1))
                .withReporting(new TrainConfig.Reporting(2, 0, 0.8))
                .withLimits(new TrainConfig.Limits(1000, 4));
        double[] cps = new double[5];
        TrainListener listener = new TrainListener() {
            @Override
            public void onIteration(Step s) {
                cps[(int) s.iteration()] = s.charsPerSecond();
            }

            @Override
            public void onValidation(long iteration, double valLoss, double best) {
                try {
                    Thread.sleep(800);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (Trainer t = new Trainer(cfg, data, reference().withListener(listener))) {
            t.run();
        }
        double counted = 2 * 4 * 10 / 0.8; // iterations 3 and 4 of B 4 T 10 over the pause
        assertTrue(cps[4] > 4 * counted, () -> "chars/s at iteration 4 (after the validation at 3): " + cps[4]);
    }

    /** N iterations, stop, resume, N more gives bit-identical parameters to 2N straight. */
    @ParameterizedTest
    @EnumSource(value = OptimizerKind.class)
    void resumeIsExact(OptimizerKind kind, @TempDir Path dir) throws Exception {
        Trainer.Data data = TestData.split(TestData.pseudoText(4000, 3), 0.1);
        TrainConfig base = small(dir)
                .withModel(new ModelSpec(CellType.LSTM, 2, 12, 6, 0.25))
                .withOptimizer(OptimizerConfig.defaults(kind), kind.defaultLr())
                .withSchedule(new TrainConfig.Schedule(kind.defaultLr(), LrSchedule.COSINE, 1, 1))
                .withClip(new TrainConfig.Clipping(1.0, ClipMode.VALUE));
        int n = 23; // not a multiple of the epoch length: the resume lands mid-epoch with carried state
        TrainConfig straightCfg = base.withValidation(new TrainConfig.Validation(7, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir.resolve("straight"), 1000, 3))
                .withLimits(new TrainConfig.Limits(50, 2L * n));
        try (Trainer t = new Trainer(straightCfg, data, reference())) {
            t.run();
        }
        TrainConfig resumedCfg = base.withValidation(new TrainConfig.Validation(7, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir.resolve("resumed"), 1000, 3))
                .withLimits(new TrainConfig.Limits(50, 2L * n));
        try (Trainer t = new Trainer(resumedCfg, data, reference())) {
            t.requestStopAt(n); // as Ctrl-C would: finish the step, checkpoint, return
            assertTrue(t.run().interrupted());
        }
        try (Trainer t = new Trainer(resumedCfg, data, reference().withResume(dir.resolve("resumed")))) {
            t.run();
        }

        Checkpoint.TrainingState a = Checkpoint.loadState(Checkpoint.modelPath(dir.resolve("straight"), 2L * n));
        Checkpoint.TrainingState b = Checkpoint.loadState(Checkpoint.modelPath(dir.resolve("resumed"), 2L * n));
        assertArrayEquals(a.params(), b.params(), 0.0);
        for (int i = 0; i < a.optimizerSlots().length; i++)
            assertArrayEquals(a.optimizerSlots()[i], b.optimizerSlots()[i], 0.0);
        assertArrayEquals(a.carriedState(), b.carriedState(), 0.0);
        assertEquals(
                losses(dir.resolve("straight")).subList(n, 2 * n),
                losses(dir.resolve("resumed")).subList(n, 2 * n));
    }

    /**
     * A stop request that lands after an iteration has decided it is not the last (here from the
     * log line, which comes after that decision) still ends the run with a checkpoint: the next
     * iteration sees the request, finishes and writes it.
     */
    @Test
    void stopLateInAnIterationStillCheckpoints(@TempDir Path dir) throws Exception {
        Trainer.Data data = TestData.split(TestData.pseudoText(3000, 4), 0.0);
        TrainConfig cfg = small(dir)
                .withLimits(new TrainConfig.Limits(50, 100))
                .withReporting(new TrainConfig.Reporting(1, 0, 0.8));
        Trainer[] self = new Trainer[1];
        Trainer.Options o = reference()
                .withOutput(
                        true,
                        line -> {
                            if (line.startsWith("iter 3/")) self[0].requestStop();
                        },
                        sample -> {});
        try (Trainer t = new Trainer(cfg, data, o)) {
            self[0] = t;
            Trainer.Result r = t.run();
            assertTrue(r.interrupted());
            assertEquals(4, r.iterations());
            assertEquals(Checkpoint.modelPath(dir, 4), r.lastCheckpoint());
        }
        assertEquals(List.of(Checkpoint.modelPath(dir, 4)), Checkpoint.list(dir));
    }

    @Test
    void koreanTextTrainsAndSamples(@TempDir Path dir) throws Exception {
        String line = "동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세 🌸\n";
        Trainer.Data data = TestData.split(line.repeat(12), 0.0);
        TrainConfig cfg = small(dir)
                .withModel(new ModelSpec(CellType.LSTM, 1, 48, 16, 0.0))
                .withBatching(new TrainConfig.Batching(2, 20))
                .withOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM), 1e-2)
                .withLimits(new TrainConfig.Limits(1000, 150))
                .withValidation(new TrainConfig.Validation(1000, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, 1000, 3));
        try (Trainer t = new Trainer(cfg, data, reference())) {
            t.run();
        }
        try (LanguageModel lm = LanguageModel.load(dir, "reference")) {
            String s = lm.sampler().sampleText("동해", new SampleOptions(60, 0.5, 0, 1.0, false, 1));
            assertTrue(s.startsWith("동해"), s);
            assertEquals(62, s.codePointCount(0, s.length()));
            assertTrue(s.contains("백두산") || s.contains("우리나라"), "the model should have learned some words: " + s);
        }
    }

    @Test
    void keepsNewestCheckpointsAndTheBest(@TempDir Path dir) throws Exception {
        Trainer.Data data = TestData.split(TestData.pseudoText(3000, 4), 0.2);
        TrainConfig cfg = small(dir)
                .withValidation(new TrainConfig.Validation(5, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, 5, 2))
                .withLimits(new TrainConfig.Limits(50, 40));
        try (Trainer t = new Trainer(cfg, data, reference())) {
            t.run();
        }
        List<Path> left = Checkpoint.list(dir);
        assertTrue(left.size() >= 2 && left.size() <= 3, "left " + left);
        assertTrue(left.contains(Checkpoint.modelPath(dir, 40)));
        assertTrue(left.contains(Checkpoint.resolveModel(dir)), "the best checkpoint is kept");
        for (Path p : left) {
            assertTrue(Files.exists(Checkpoint.statePath(p)));
            assertTrue(Files.exists(Checkpoint.samplePath(p)));
        }
        JsonObject last = JsonParser.parseString(
                        Files.readAllLines(dir.resolve("metrics.jsonl")).get(39))
                .getAsJsonObject();
        assertEquals("iter", last.get("type").getAsString());
        for (String k : List.of("iter", "epoch", "loss", "grad_norm", "lr", "chars_per_s")) assertTrue(last.has(k), k);
    }

    @Test
    void validationCanBeCappedToTheFirstWindows(@TempDir Path dir) throws Exception {
        Trainer.Data data = TestData.split(TestData.pseudoText(4000, 6), 0.25);
        TrainConfig cfg = small(dir)
                .withValidation(new TrainConfig.Validation(5, 1))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, 5, 3))
                .withLimits(new TrainConfig.Limits(50, 5));
        try (Trainer t = new Trainer(cfg, data, reference())) {
            t.run();
        }
        JsonObject val = Files.readAllLines(dir.resolve("metrics.jsonl")).stream()
                .map(l -> JsonParser.parseString(l).getAsJsonObject())
                .filter(o -> o.get("type").getAsString().equals("val"))
                .findFirst()
                .orElseThrow();
        // the same number by hand: the first window of the val split's 4 streams, from a zero state
        try (var lm = LanguageModel.load(dir, "reference");
                var be = lm.backend();
                var buf = be.upload(data.val());
                var st = be.newState(4)) {
            long S = (data.val().length() - 1) / 4;
            be.forward(st, new org.charrnn.backend.Window(buf, new long[] {0, S, 2 * S, 3 * S}, 10, 0), false);
            assertEquals(be.loss(), val.get("val_loss").getAsDouble(), 1e-6); // the checkpoint holds float32 weights
        }
    }

    private static List<Double> losses(Path dir) throws Exception {
        return Files.readAllLines(dir.resolve("metrics.jsonl")).stream()
                .map(l -> JsonParser.parseString(l).getAsJsonObject())
                .filter(o -> o.get("type").getAsString().equals("iter"))
                .map(o -> o.get("loss").getAsDouble())
                .toList();
    }
}
