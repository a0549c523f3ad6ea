package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.Window;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.ForwardingBackend;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a run writes its metrics and checkpoints, and the ways it stops before its limits. */
class TrainerStopTest {

    private static final Trainer.Data DATA = TestData.split(TestData.pseudoText(3000, 5), 0.1);

    private static TrainConfig small(Path out) {
        return TrainConfig.defaults()
                .withModel(new ModelSpec(CellType.GRU, 1, 12, 6, 0.0))
                .withBatching(new TrainConfig.Batching(4, 10))
                .withValidation(new TrainConfig.Validation(1000, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(out, 1000, 100))
                .withReporting(new TrainConfig.Reporting(5, 0, 0.8));
    }

    private static Trainer.Options reference() {
        return Trainer.Options.defaults()
                .withBackend("reference", BackendOptions.defaults().withThreads(1));
    }

    private static List<Long> checkpoints(Path dir) {
        List<Long> its = new ArrayList<>();
        for (Path p : Checkpoint.listComplete(dir))
            its.add(Checkpoint.loadModel(p).info().iteration());
        return its;
    }

    @Test
    void checkpointsAtEveryEpochEnd(@TempDir Path dir) {
        long perEpoch = Trainer.iterationsPerEpoch(DATA.train().length(), 4, 10);
        TrainConfig cfg = small(dir).withLimits(new TrainConfig.Limits(3, 0));
        try (Trainer t = new Trainer(cfg, DATA, reference())) {
            assertEquals(Trainer.Stop.COMPLETED, t.run().stop());
        }
        assertEquals(List.of(perEpoch, 2 * perEpoch, 3 * perEpoch), checkpoints(dir));
    }

    @Test
    void metricsReachTheFileAtEveryLogLine(@TempDir Path dir) {
        Path metrics = dir.resolve("metrics.jsonl");
        List<String> seen = new ArrayList<>();
        TrainListener watcher = new TrainListener() {
            @Override
            public void onIteration(TrainListener.Step s) {
                try {
                    long rows = Files.readAllLines(metrics).stream()
                            .filter(l -> l.contains("\"iter\"") && l.contains("\"loss\""))
                            .count();
                    // log lines at iteration 1 and every 5th: the last one before this iteration
                    long logged = s.iteration() == 1 ? 0 : Math.max(1, (s.iteration() - 1) / 5 * 5);
                    if (rows < logged) seen.add("iteration " + s.iteration() + ": " + rows + " rows");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        TrainConfig cfg = small(dir).withLimits(new TrainConfig.Limits(100, 23));
        try (Trainer t = new Trainer(cfg, DATA, reference().withListener(watcher))) {
            t.run();
        }
        assertEquals(List.of(), seen, "rows not on disk while the run went on");
    }

    /** sample, eval and report read a run in progress: its complete checkpoints and the metrics so far. */
    @Test
    void sampleEvalAndReportWorkWhileTheRunGoesOn(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 5));
        Path run = dir.resolve("run");
        List<String> problems = new ArrayList<>();
        TrainListener reader = new TrainListener() {
            @Override
            public void onIteration(TrainListener.Step s) {
                if (s.iteration() != 12) return; // after the checkpoint at 10, before the run ends
                CliRun sample =
                        CliRun.of("sample", "--checkpoint", run.toString(), "--length", "20", "--backend", "reference");
                CliRun eval = CliRun.of(
                        "eval",
                        "--checkpoint",
                        run.toString(),
                        "--data",
                        text.toString(),
                        "--batch",
                        "2",
                        "--seq",
                        "10",
                        "--backend",
                        "reference");
                CliRun report = CliRun.of(
                        "report",
                        "--run",
                        run.toString(),
                        "--out",
                        dir.resolve("r.html").toString());
                for (CliRun r : List.of(sample, eval, report)) if (r.code() != 0) problems.add(r.err());
                if (!sample.err().contains("ckpt-00000010")) problems.add("sample used: " + sample.err());
            }
        };
        TrainConfig cfg = small(run)
                .withLimits(new TrainConfig.Limits(100, 15))
                .withCheckpointing(new TrainConfig.Checkpointing(run, 10, 100));
        try (Trainer t = new Trainer(cfg, DATA, reference().withListener(reader))) {
            t.run();
        }
        assertEquals(List.of(), problems);
    }

    /**
     * A checkpoint's sample as long as a user may ask (here 100 million characters, hours on the
     * reference) comes after the model and its state are written: a stop asked for while it is
     * drawn ends it there, as the stop message promises, instead of after the whole sample.
     */
    @Test
    void aStopDuringALongCheckpointSampleCutsItShort(@TempDir Path dir) {
        TrainConfig cfg = small(dir)
                .withLimits(new TrainConfig.Limits(100, 1))
                .withReporting(new TrainConfig.Reporting(5, 100_000_000, 0.8));
        Path model = Checkpoint.modelPath(dir, 1), sample = Checkpoint.samplePath(model);
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (Trainer t = new Trainer(cfg, DATA, reference().withOutput(true, log::add, null))) {
            AtomicBoolean ended = new AtomicBoolean(); // the run returned: the watch ends with it, whatever happened
            Thread stopper = new Thread(() -> {
                // the state file commits the checkpoint; the sample is drawn after it
                while (!ended.get() && !Files.exists(Checkpoint.statePath(model))) LockSupport.parkNanos(200_000);
                t.requestStop();
            });
            stopper.setDaemon(true);
            stopper.start();
            Trainer.Result r;
            try {
                // a guard against the old behaviour (the whole sample), not a speed target
                r = assertTimeoutPreemptively(Duration.ofMinutes(5), t::run);
            } finally {
                ended.set(true);
            }
            assertEquals(1, r.iterations());
        }
        assertEquals(List.of(1L), checkpoints(dir));
        assertTrue(log.contains("sample cut short by the stop request"), log.toString());
        long written = sample.toFile().length();
        assertTrue(written < 100_000_000, written + " bytes");
    }

    /** A stop asked for before the checkpoint it brings (Ctrl-C during a step): that checkpoint's sample is whole. */
    @Test
    void theCheckpointAStopAsksForSamplesInFull(@TempDir Path dir) throws Exception {
        TrainConfig cfg = small(dir)
                .withLimits(new TrainConfig.Limits(100, 50))
                .withReporting(new TrainConfig.Reporting(5, 300, 0.8));
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Trainer> trainer = new AtomicReference<>();
        Path last;
        TrainListener stopAtTwo = new TrainListener() {
            @Override
            public void onIteration(TrainListener.Step s) {
                if (s.iteration() == 2) trainer.get().requestStop();
            }
        };
        try (Trainer t = new Trainer(
                cfg, DATA, reference().withOutput(true, log::add, null).withListener(stopAtTwo))) {
            trainer.set(t);
            Trainer.Result r = t.run();
            assertEquals(Trainer.Stop.INTERRUPTED, r.stop());
            last = r.lastCheckpoint();
        }
        assertTrue(
                last.endsWith(Checkpoint.modelPath(dir, 3).getFileName()),
                "a stop asked for in a listener is read after the next step: " + last);
        String text = Files.readString(Checkpoint.samplePath(last));
        assertEquals(300, text.codePointCount(0, text.length()), text);
        assertTrue(log.stream().noneMatch(l -> l.contains("cut short")), log.toString());
    }

    @Test
    void maxTimeStopsWithACheckpoint(@TempDir Path dir) {
        TrainConfig cfg = small(dir).withLimits(new TrainConfig.Limits(100, 50, Duration.ofNanos(1), 0));
        try (Trainer t = new Trainer(cfg, DATA, reference())) {
            Trainer.Result r = t.run();
            assertEquals(Trainer.Stop.TIME_LIMIT, r.stop());
            assertEquals(1, r.iterations());
            assertEquals(Checkpoint.modelPath(dir, 1), r.lastCheckpoint());
        }
        assertEquals(List.of(1L), checkpoints(dir));
    }

    @Test
    void checkpointMinutesWritesOneWhenTheTimeIsUp(@TempDir Path dir) {
        // 6e-9 minutes: every iteration is "long" enough for its own checkpoint
        TrainConfig cfg = small(dir)
                .withLimits(new TrainConfig.Limits(100, 4))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, 1000, 100, 6e-9));
        try (Trainer t = new Trainer(cfg, DATA, reference())) {
            t.run();
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), checkpoints(dir));
    }

    /** Validation losses that never improve after the first: early stop after N more validations. */
    @Test
    void earlyStopAfterNValidationsWithoutABetterLoss(@TempDir Path dir) {
        List<Double> vals = new ArrayList<>();
        Trainer.Options o = reference()
                .withFactory((m, bo) -> new ForwardingBackend(new ReferenceBackend(m, bo.withThreads(1))) {
                    private boolean validating;

                    @Override
                    public void forward(RnnState s, Window w, boolean training) {
                        validating = !training;
                        super.forward(s, w, training);
                    }

                    @Override
                    public double loss() {
                        return validating ? 3.0 + w() : super.loss();
                    }

                    private double w() {
                        return vals.size() * 0.01; // worse at every validation
                    }
                })
                .withListener(new TrainListener() {
                    @Override
                    public void onValidation(long it, double valLoss, double best) {
                        vals.add(valLoss);
                    }
                });
        TrainConfig cfg = small(dir)
                .withValidation(new TrainConfig.Validation(2, 0))
                .withLimits(new TrainConfig.Limits(100, 100, Duration.ZERO, 3));
        try (Trainer t = new Trainer(cfg, DATA, o)) {
            Trainer.Result r = t.run();
            assertEquals(Trainer.Stop.EARLY_STOP, r.stop());
            assertEquals(8, r.iterations(), "validations at 2 (best), 4, 6, 8: three without a better loss");
            assertEquals(3.0, r.bestValLoss(), 1e-12);
            assertEquals(Checkpoint.modelPath(dir, 8), r.lastCheckpoint());
        }
        assertEquals(4, vals.size());
        assertTrue(checkpoints(dir).contains(8L));
    }
}
