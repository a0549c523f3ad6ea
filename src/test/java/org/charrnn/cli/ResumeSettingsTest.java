package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.io.Checkpoint;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.charrnn.train.RunConfig;
import org.charrnn.train.TrainConfig;
import org.charrnn.util.ConfigError;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --resume brings back the run's settings; --init-from starts a new run from a checkpoint's weights. */
class ResumeSettingsTest {
    @TempDir
    Path dir;

    Path text, run;

    @BeforeEach
    void firstRun() throws Exception {
        text = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(4000, 7));
        run = dir.resolve("run");
        CliRun first = CliRun.of(args(
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
                "--lr",
                "0.005",
                "--clip",
                "2.5",
                "--lr-schedule",
                "cosine",
                "--max-iters",
                "10",
                "--keep",
                "7",
                "--sample-length",
                "0",
                "--val-frac",
                "0.1"));
        assertEquals(0, first.code(), first.err());
    }

    /** A new run of two iterations over the corpus, no samples. */
    private static final List<String> TWO_ITERATIONS =
            List.of("--batch", "4", "--seq", "20", "--val-frac", "0.1", "--max-iters", "2", "--sample-length", "0");

    private List<String> base() {
        return new ArrayList<>(List.of(
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--cache-dir",
                dir.resolve("cache").toString()));
    }

    private String[] args(String... extra) {
        List<String> a = base();
        a.addAll(List.of("--data", text.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void resumeBringsBackTheRunsSettings() {
        List<String> a = base();
        a.addAll(List.of("--resume", run.toString(), "--max-iters", "14"));
        CliRun more = CliRun.of(a.toArray(String[]::new)); // no --data, --model, --hidden, --lr ...
        assertEquals(0, more.code(), more.err());
        assertTrue(more.err().contains("resume: --max-iters 14 (the run had 10)"), more.err());
        assertEquals(
                1, more.err().split("resume: ", -1).length - 1, "only the typed option is an override: " + more.err());
        TrainConfig cfg = RunConfig.read(run).training();
        assertEquals(new ModelSpec(CellType.GRU, 1, 12, 6, 0.0), cfg.model());
        assertEquals(0.005, cfg.schedule().lr());
        assertEquals(2.5, cfg.clip().max());
        assertEquals(4, cfg.batching().batch());
        assertEquals(7, cfg.checkpointing().keep());
        assertEquals(14, cfg.limits().maxIters());
        assertEquals(text.toString(), cfg.data().path());
        assertTrue(Files.exists(Checkpoint.modelPath(run, 14)));
    }

    /**
     * A corpus given by a relative path is recorded absolute, so --resume finds it from any working
     * directory; where it has moved since, the error says to give --data.
     */
    @Test
    void aRelativeCorpusPathIsRecordedAbsolute() throws Exception {
        Path relative = Path.of("").toAbsolutePath().relativize(text);
        Path other = dir.resolve("relative-run");
        List<String> a = base();
        a.addAll(List.of("--data", relative.toString(), "--out", other.toString(), "--hidden", "8", "--layers", "1"));
        a.addAll(TWO_ITERATIONS);
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals(text.toString(), RunConfig.read(other).training().data().path(), "given as " + relative);

        Path moved = Files.move(text, dir.resolve("moved.txt"));
        List<String> resume = base();
        resume.addAll(List.of("--resume", other.toString(), "--max-iters", "3"));
        CliRun.of(resume.toArray(String[]::new))
                .assertErrorAfterLog("corpus file not found: " + text
                        + " (the corpus the run's config.json names; give --data where it is now)");
        resume.addAll(List.of("--data", moved.toString()));
        CliRun again = CliRun.of(resume.toArray(String[]::new));
        assertEquals(0, again.code(), again.err());
    }

    @Test
    void safeOverridesAreLoggedAndUnsafeOnesRefused() {
        CliRun lr = CliRun.of(args("--resume", run.toString(), "--max-iters", "12", "--lr", "0.001", "--hidden", "12"));
        assertEquals(0, lr.code(), lr.err());
        assertTrue(lr.err().contains("resume: --lr 0.001 (the run had 0.005)"), lr.err());
        assertFalse(lr.err().contains("resume: --hidden"), "the same value is no override: " + lr.err());
        assertEquals(0.001, RunConfig.read(run).training().schedule().lr());

        CliRun.of(args("--resume", run.toString(), "--hidden", "32"))
                .assertOneLineError("--hidden 32 differs from the run's 12");
        CliRun.of(args("--resume", run.toString(), "--batch", "8")).assertOneLineError("batch size");
        CliRun.of(args("--resume", run.toString(), "--optimizer", "sgd")).assertOneLineError("--optimizer sgd");
        CliRun.of(args("--resume", run.toString(), "--encoding", "bytes")).assertOneLineError("vocabulary");
        // an option the run's own optimizer, schedule or samples do not read (adam, cosine, none)
        CliRun.of(args("--resume", run.toString(), "--lr-decay", "0.5"))
                .assertOneLineError("--lr-decay applies to --lr-schedule step only; this run has schedule cosine");
        CliRun.of(args("--resume", run.toString(), "--momentum", "0.5"))
                .assertOneLineError("--momentum applies to --optimizer sgd only; this run has optimizer adam");
        CliRun.of(args("--resume", run.toString(), "--sample-temperature", "0.5"))
                .assertOneLineError(
                        "--sample-temperature applies to checkpoint samples only; this run has " + "--sample-length 0");
        CliRun.of(args(
                        "--resume",
                        run.toString(),
                        "--out",
                        dir.resolve("elsewhere").toString()))
                .assertOneLineError("leave out --out");
    }

    @Test
    void aTrainingStateGivenAsAModelSaysWhichFileToGive() {
        Path state = Checkpoint.statePath(Checkpoint.modelPath(run, 10));
        CliRun.of("sample", "--checkpoint", state.toString(), "--length", "5")
                .assertOneLineError(state + " is a run's training state (what --resume reads), not a model: give the"
                        + " model file beside it, ckpt-00000010.safetensors, or the run directory");
    }

    @Test
    void aFinishedRunHasNothingToResume() throws Exception {
        byte[] before = Files.readAllBytes(Checkpoint.modelPath(run, 10));
        List<String> a = base();
        a.addAll(List.of("--resume", run.toString()));
        CliRun.of(a.toArray(String[]::new))
                .assertOneLineError("the run is already at iteration 10, the end of --max-iters 10: nothing to train;"
                        + " raise --max-iters to continue it");
        a.addAll(List.of("--max-iters", "6"));
        CliRun.of(a.toArray(String[]::new)).assertErrorAfterLog("already at iteration 10, past --max-iters 6");
        assertArrayEquals(before, Files.readAllBytes(Checkpoint.modelPath(run, 10)), "the checkpoint is untouched");
    }

    @Test
    void aRunWhoseStateWasNeverWrittenPointsToInitFrom() throws Exception {
        // as a full disk leaves it: the model files written, their training state not
        for (Path p : Checkpoint.list(run)) Files.delete(Checkpoint.statePath(p));
        CliRun.of(args("--resume", run.toString()))
                .assertOneLineError("ckpt-00000010.safetensors has no training state");
        CliRun.of(args("--resume", run.toString())).assertOneLineError("start a new run with --init-from");
        List<String> again = new ArrayList<>(List.of(args("--init-from", run.toString())));
        again.addAll(List.of("--out", dir.resolve("again").toString()));
        again.addAll(TWO_ITERATIONS);
        CliRun fresh = CliRun.of(again.toArray(String[]::new));
        assertEquals(0, fresh.code(), fresh.err());
    }

    @Test
    void initFromStartsAFreshRunFromTheWeights() throws Exception {
        // new data with a subset of the characters: encoded with the checkpoint's vocabulary
        String subset = TestData.pseudoText(4000, 7).replace("e", "a");
        Path other = Files.writeString(dir.resolve("other.txt"), subset);
        Path tuned = dir.resolve("tuned");
        CliRun r = CliRun.of(concat(
                base(),
                "--data",
                other.toString(),
                "--init-from",
                run.toString(),
                "--out",
                tuned.toString(),
                "--batch",
                "2",
                "--seq",
                "10",
                "--max-iters",
                "3",
                "--sample-length",
                "0",
                "--val-frac",
                "0"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("starting from the weights of " + Checkpoint.modelPath(run, 10)), r.err());
        Checkpoint.Model from = Checkpoint.loadModel(Checkpoint.modelPath(run, 10));
        Checkpoint.Model to = Checkpoint.loadModel(Checkpoint.modelPath(tuned, 3));
        assertEquals(from.config(), to.config(), "the checkpoint's shape, without --model/--hidden");
        assertEquals(from.vocabulary(), to.vocabulary());
        assertEquals(3, Checkpoint.loadState(Checkpoint.modelPath(tuned, 3)).updates(), "fresh counters");
        double moved = 0;
        for (int i = 0; i < from.params().length; i++)
            moved = Math.max(moved, Math.abs(from.params()[i] - to.params()[i]));
        assertTrue(moved > 0 && moved < 0.1, "3 small steps from the checkpoint's weights, moved " + moved);

        Path alien = Files.writeString(dir.resolve("alien.txt"), subset + "\u0416");
        CliRun.of(concat(
                        base(),
                        "--data",
                        alien.toString(),
                        "--init-from",
                        run.toString(),
                        "--out",
                        dir.resolve("a").toString()))
                .assertOneLineError("not in the model's vocabulary: '\u0416' (U+0416); --init-from trains only on text"
                        + " written in the checkpoint's characters");
        CliRun.of(concat(
                        base(),
                        "--data",
                        text.toString(),
                        "--init-from",
                        run.toString(),
                        "--hidden",
                        "16",
                        "--batch",
                        "2",
                        "--seq",
                        "10",
                        "--out",
                        dir.resolve("b").toString()))
                .assertOneLineError("model shape mismatch");
        // the run trains in the checkpoint's vocabulary: its own encoding or limit would be dropped
        List<String> fromRun = List.of(concat(
                base(),
                "--data",
                text.toString(),
                "--init-from",
                run.toString(),
                "--out",
                dir.resolve("c").toString()));
        CliRun.of(concat(fromRun, "--encoding", "bytes"))
                .assertOneLineError("--encoding bytes does not match the checkpoint's vocabulary (utf8): --init-from"
                        + " trains in its characters; leave --encoding out");
        CliRun.of(concat(fromRun, "--max-vocab", "8"))
                .assertOneLineError("--max-vocab does not apply with --init-from: the run keeps the checkpoint's "
                        + "vocabulary (");
    }

    private static String[] concat(List<String> a, String... more) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** Library errors name the record component; the CLI names the option that sets it. */
    @Test
    void configErrorsSpeakInTheCallersTerms() {
        ConfigError e = org.junit.jupiter.api.Assertions.assertThrows(
                ConfigError.class, () -> new ModelSpec(CellType.LSTM, 1, 0, 8, 0));
        assertEquals("ModelSpec.hidden must be >= 1, got 0", e.getMessage());
        assertEquals("--hidden must be >= 1, got 0", e.render(OptionNames.BY_SETTING));
        CliRun.of(args("--out", dir.resolve("x").toString(), "--checkpoint-minutes", "-1"))
                .assertOneLineError("--checkpoint-minutes must be >= 0");
        CliRun.of(args("--out", dir.resolve("y").toString(), "--max-time", "soon"))
                .assertOneLineError("--max-time: invalid duration 'soon'");
    }

    /** Every setting the CLI sets has its option name (the rest are library-only knobs). */
    @Test
    void everyRecordComponentHasItsOption() {
        Set<String> libraryOnly = Set.of("OptimizerConfig.beta1", "OptimizerConfig.beta2", "OptimizerConfig.eps");
        for (Class<?> c : List.of(
                ModelSpec.class,
                OptimizerConfig.class,
                TrainConfig.Data.class,
                TrainConfig.Batching.class,
                TrainConfig.Schedule.class,
                TrainConfig.Clipping.class,
                TrainConfig.Limits.class,
                TrainConfig.Validation.class,
                TrainConfig.Checkpointing.class,
                TrainConfig.Reporting.class,
                org.charrnn.sample.SampleOptions.class))
            for (RecordComponent rc : c.getRecordComponents()) {
                String key = c.getSimpleName() + "." + rc.getName();
                assertTrue(OptionNames.BY_SETTING.containsKey(key) || libraryOnly.contains(key), key);
            }
    }
}
