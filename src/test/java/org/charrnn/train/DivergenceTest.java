package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.ForwardingBackend;
import org.charrnn.testutil.TestData;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The divergence guard: a non-finite step is skipped, the state restored and the lr halved; two in a row stop. */
class DivergenceTest {

    /** Reports a NaN gradient norm (and so skips the update, as every backend must) at chosen iterations. */
    static final class FaultyBackend extends ForwardingBackend {
        final Set<Integer> failAt;
        int step;
        final List<double[]> paramsBeforeFailure = new ArrayList<>();
        final List<double[]> paramsAfterFailure = new ArrayList<>();

        FaultyBackend(Backend inner, Set<Integer> failAt) {
            super(inner);
            this.failAt = failAt;
        }

        @Override
        public void clip(ClipMode mode, double max) {
            step++;
            super.clip(mode, max);
        }

        @Override
        public void step(double lr, long t) {
            if (failAt.contains(step)) {
                paramsBeforeFailure.add(getParameters());
                return; // a backend skips the update when the norm is not finite
            }
            super.step(lr, t);
        }

        @Override
        public double gradNorm() {
            return failAt.contains(step) ? Double.NaN : super.gradNorm();
        }

        @Override
        public double loss() {
            if (failAt.contains(step) && paramsAfterFailure.size() < paramsBeforeFailure.size())
                paramsAfterFailure.add(getParameters());
            return super.loss();
        }
    }

    private static TrainConfig config(Path dir) {
        return TrainConfig.defaults()
                .withModel(new ModelSpec(CellType.LSTM, 1, 16, 8, 0.0))
                .withBatching(new TrainConfig.Batching(4, 10))
                .withSchedule(new TrainConfig.Schedule(OptimizerKind.ADAM.defaultLr(), LrSchedule.CONSTANT, 1, 1))
                .withValidation(new TrainConfig.Validation(5, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(dir, 5, 10))
                .withReporting(new TrainConfig.Reporting(1, 10, 0.8))
                .withLimits(new TrainConfig.Limits(50, 20));
    }

    @Test
    void oneFailureSkipsTheUpdateAndHalvesTheLearningRate(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        FaultyBackend[] holder = new FaultyBackend[1];
        Trainer.Options o = Trainer.Options.defaults()
                .withOutput(true, log::add, null)
                .withFactory((m, bo) ->
                        holder[0] = new FaultyBackend(new ReferenceBackend(m, bo.withThreads(1)), Set.of(7)));
        try (Trainer t = new Trainer(config(dir), TestData.split(TestData.pseudoText(4000, 1), 0.1), o)) {
            assertEquals(20, t.run().iterations());
        }
        assertTrue(
                log.stream().anyMatch(l -> l.contains("iteration 7") && l.contains("learning rate halved")),
                log.toString());
        assertEquals(1, holder[0].paramsBeforeFailure.size());
        assertTrue(
                java.util.Arrays.equals(holder[0].paramsBeforeFailure.get(0), holder[0].paramsAfterFailure.get(0)),
                "parameters untouched by the failed step");
        List<JsonObject> rows = Files.readAllLines(dir.resolve("metrics.jsonl")).stream()
                .map(l -> JsonParser.parseString(l).getAsJsonObject())
                .filter(r -> r.get("type").getAsString().equals("iter"))
                .toList();
        assertEquals(2e-3, rows.get(5).get("lr").getAsDouble(), 1e-15);
        assertEquals(1e-3, rows.get(7).get("lr").getAsDouble(), 1e-15);
        assertEquals(1e-3, rows.get(19).get("lr").getAsDouble(), 1e-15);
        for (Path p : Checkpoint.list(dir)) Checkpoint.loadModel(p); // every checkpoint loads: all finite
    }

    @Test
    void twoFailuresInARowStop(@TempDir Path dir) throws Exception {
        Trainer.Options o = Trainer.Options.defaults()
                .withFactory((m, bo) -> new FaultyBackend(new ReferenceBackend(m, bo.withThreads(1)), Set.of(8, 9)));
        try (Trainer t = new Trainer(config(dir), TestData.split(TestData.pseudoText(4000, 1), 0.1), o)) {
            UserError e = assertThrows(UserError.class, t::run);
            assertTrue(e.getMessage().contains("diverged"), e.getMessage());
            assertTrue(e.getMessage().contains("ckpt-00000005"), "names the last good checkpoint: " + e.getMessage());
        }
    }

    /** A resumed run that diverges before it writes a checkpoint names the one it resumed from, not "none". */
    @Test
    void aResumedRunNamesTheCheckpointItResumedFrom(@TempDir Path dir) throws Exception {
        Trainer.Options plain = Trainer.Options.defaults()
                .withOutput(true, line -> {}, null)
                .withFactory((m, bo) -> new ReferenceBackend(m, bo.withThreads(1)));
        var data = TestData.split(TestData.pseudoText(4000, 1), 0.1);
        try (Trainer t = new Trainer(config(dir), data, plain)) {
            t.requestStopAt(6); // checkpoints at 5 and at the stop
            assertEquals(6, t.run().iterations());
        }
        Trainer.Options faulty = plain.withResume(dir)
                .withFactory((m, bo) -> new FaultyBackend(new ReferenceBackend(m, bo.withThreads(1)), Set.of(1, 2)));
        try (Trainer t = new Trainer(config(dir), data, faulty)) {
            UserError e = assertThrows(UserError.class, t::run);
            assertTrue(e.getMessage().contains("diverged"), e.getMessage());
            assertTrue(
                    e.getMessage().contains("last checkpoint: " + Checkpoint.modelPath(dir, 6)),
                    "names the checkpoint it resumed from: " + e.getMessage());
        }
    }

    @Test
    void realNanGradientsLeaveParametersUntouched() {
        // every backend must skip the update when the norm is not finite: check the reference itself
        var cfg = new org.charrnn.model.ModelConfig(CellType.RNN, 5, 3, 4, 1, 0.0);
        try (ReferenceBackend be =
                new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(1))) {
            double[] p = org.charrnn.model.Init.initialize(be.layout(), 1);
            p[0] = Double.NaN; // a NaN embedding entry poisons the forward and the gradients
            be.setParameters(p);
            var buf = be.upload(org.charrnn.data.TokenSequence.of(0, 1, 2, 3, 4, 0, 1));
            try (var st = be.newState(1)) {
                be.forward(st, new org.charrnn.backend.Window(buf, new long[] {0}, 5, 0), true);
                be.backward();
                be.clip(ClipMode.NORM, 5);
                assertTrue(!Double.isFinite(be.gradNorm()));
                be.step(1e-2, 1);
                assertTrue(java.util.Arrays.equals(p, be.getParameters()));
            }
        }
    }

    /**
     * Parameters that are finite in double but beyond float32 (SGD with --lr 1e40 gets there) would
     * make a checkpoint of Inf that cannot be loaded: the guard stops instead, naming the last good
     * checkpoint, and every checkpoint on disk loads.
     */
    @Test
    void parametersBeyondFloat32StopWithTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Trainer.Options o = Trainer.Options.defaults()
                .withOutput(true, line -> {}, null)
                .withFactory((m, bo) -> new ForwardingBackend(new ReferenceBackend(m, bo.withThreads(1))) {
                    private int steps;

                    @Override
                    public void step(double lr, long t) {
                        super.step(lr, t);
                        if (++steps == 7) {
                            double[] p = getParameters();
                            p[0] = 1e39; // finite as a double, Inf as float32
                            setParameters(p);
                        }
                    }
                });
        try (Trainer t = new Trainer(config(dir), TestData.split(TestData.pseudoText(4000, 1), 0.1), o)) {
            UserError e = assertThrows(UserError.class, t::run);
            assertTrue(e.getMessage().contains("float32"), e.getMessage());
            assertTrue(e.getMessage().contains("ckpt-00000005"), "names the last good checkpoint: " + e.getMessage());
            assertEquals(1, e.exitCode());
        }
        for (Path p : Checkpoint.list(dir)) Checkpoint.loadModel(p);
        assertEquals(List.of(Checkpoint.modelPath(dir, 5)), Checkpoint.list(dir));
    }
}
