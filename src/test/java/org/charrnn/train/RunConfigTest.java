package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.data.Encoding;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.TestData;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConfigTest {

    /** Every field away from its default, so a field that is not written or not read back shows. */
    private static TrainConfig unusual(Path out) {
        OptimizerConfig opt = new OptimizerConfig(OptimizerKind.RMSPROP, 0.85, 0.995, 3e-7, 0.9, 0.7, 1e-4);
        return new TrainConfig(
                new ModelSpec(CellType.GRU, 3, 96, 40, 0.125),
                new TrainConfig.Data("/data/corpus with spaces.txt", Encoding.BYTES, 77, 0.1, 0.02),
                new TrainConfig.Batching(17, 33),
                opt,
                new TrainConfig.Schedule(1.5e-3, LrSchedule.COSINE, 0.9, 3),
                new TrainConfig.Clipping(2.5, ClipMode.VALUE),
                new TrainConfig.Limits(7, 12345678901L, java.time.Duration.ofMinutes(90), 4),
                new TrainConfig.Validation(250, 40),
                new TrainConfig.Checkpointing(out, 500, 4, 2.5),
                new TrainConfig.Reporting(25, 123, 0.65),
                -9007199254740993L);
    }

    @Test
    void roundTripsExactlyWithIntegersAsIntegers(@TempDir Path dir) {
        RunConfig run = new RunConfig(
                unusual(dir.resolve("run")),
                65,
                "tiny corpus (1,000 characters)",
                "opencl",
                "pthread-haswell (Portable Computing Language)");
        String json = run.toJson();
        assertEquals(run, RunConfig.fromJson(json));
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        JsonObject training = o.getAsJsonObject("training");
        assertEquals("3", training.getAsJsonObject("model").get("layers").toString(), json);
        assertEquals("\"gru\"", training.getAsJsonObject("model").get("cell").toString());
        assertEquals("33", training.getAsJsonObject("batching").get("seq_len").toString());
        assertEquals(
                "12345678901",
                training.getAsJsonObject("limits").get("max_iters").toString());
        assertEquals(
                "\"1h30m\"", training.getAsJsonObject("limits").get("max_time").toString());
        assertEquals("-9007199254740993", training.get("seed").toString());
        assertEquals(
                "\"bytes\"", training.getAsJsonObject("data").get("encoding").toString());
        assertEquals(
                "\"/data/corpus with spaces.txt\"",
                training.getAsJsonObject("data").get("path").toString());
        JsonObject opt = training.getAsJsonObject("optimizer");
        for (String k : new String[] {"kind", "beta1", "beta2", "eps", "decay", "momentum", "weight_decay"})
            assertTrue(opt.has(k), "optimizer." + k + " in " + opt);
        assertEquals("65", o.get("vocab_size").toString());
        // the defaults round-trip too (no data section: a library run)
        RunConfig defaults = new RunConfig(TrainConfig.defaults(), 3, "x", "reference", "Java");
        assertEquals(defaults, RunConfig.fromJson(defaults.toJson()));
    }

    @Test
    void invalidConfigIsAOneLineError(@TempDir Path dir) throws Exception {
        String json = new RunConfig(unusual(dir), 65, "c", "reference", "d")
                .toJson()
                .replace("\"layers\": 3", "\"layers\": 0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunConfig.fromJson(json));
        assertEquals("training.model.layers must be >= 1, got 0", e.getMessage());
        Files.writeString(dir.resolve(RunConfig.FILE), "{\"training\": {\"model\": [1, 2]}}");
        UserError u = assertThrows(UserError.class, () -> RunConfig.read(dir));
        assertTrue(u.getMessage().startsWith("corrupt " + dir.resolve(RunConfig.FILE)), u.getMessage());
        assertTrue(!u.getMessage().contains("\n"), u.getMessage());
        UserError missing = assertThrows(UserError.class, () -> RunConfig.read(dir.resolve("nowhere")));
        assertEquals(
                "no such directory: " + dir.resolve("nowhere") + " (give the directory a train run wrote)",
                missing.getMessage());
        Files.createDirectories(dir.resolve("empty"));
        UserError empty = assertThrows(UserError.class, () -> RunConfig.read(dir.resolve("empty")));
        assertEquals(
                dir.resolve("empty") + " is not a run directory: it has no config.json"
                        + " (give the directory a train run wrote)",
                empty.getMessage());
        Path piped = Files.createDirectories(dir.resolve("piped"));
        org.charrnn.testutil.NamedPipe.at(piped.resolve(RunConfig.FILE));
        UserError pipe = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(30), () -> assertThrows(UserError.class, () -> RunConfig.read(piped)));
        assertEquals(
                piped.resolve(RunConfig.FILE) + " is not a regular file (a device, pipe or socket)", pipe.getMessage());
    }

    /** A value of the wrong type, or one a record refuses, is named by its path in the file, not in Java's terms. */
    @Test
    void aWrongValueIsNamedByItsPathInTheFile(@TempDir Path dir) {
        String json = new RunConfig(unusual(dir), 65, "c", "reference", "d").toJson();
        String whole = "must be a whole number from -2147483648 to 2147483647, got ";
        String[][] cases = {
            {"optimizer", "beta1", "\"x\"", "training.optimizer.beta1 must be a number, got \"x\""},
            {"optimizer", "weight_decay", "null", "training.optimizer.weight_decay must be a number, got null"},
            {"model", "layers", "1.5", "training.model.layers " + whole + "1.5"},
            {"batching", "batch", "1e308", "training.batching.batch " + whole + "1e308"},
            {"data", "path", "5", "training.data.path must be a string, got 5"},
            {"optimizer", "beta2", "-1", "training.optimizer.beta2 must be in [0, 1), got -1.0"},
            {"schedule", "kind", "null", "training.schedule.kind is required"},
            {"validation", "every", "0", "training.validation.every must be >= 1, got 0"},
            {null, "model", "[1, 2]", "training.model must be an object, got [1,2]"},
        };
        for (String[] c : cases) {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            JsonObject training = o.getAsJsonObject("training");
            (c[0] == null ? training : training.getAsJsonObject(c[0])).add(c[1], JsonParser.parseString(c[2]));
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> RunConfig.fromJson(o.toString()));
            assertEquals(c[3], e.getMessage());
        }
    }

    /**
     * A deleted line of a number read as 0: dropout, Adam's beta1 or the seed would resume changed
     * in silence. Each primitive setting must be there, but those older runs' files lack.
     */
    @Test
    void aDeletedSettingIsNamedNotReadAsZero(@TempDir Path dir) {
        String json = new RunConfig(unusual(dir), 65, "c", "reference", "d").toJson();
        for (String[] cut : new String[][] {
            {"model", "dropout"}, {"optimizer", "beta1"}, {"data", "val_frac"}, {"limits", "max_iters"}, {null, "seed"}
        }) {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            JsonObject training = o.getAsJsonObject("training");
            (cut[0] == null ? training : training.getAsJsonObject(cut[0])).remove(cut[1]);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> RunConfig.fromJson(o.toString()));
            String path = "training." + (cut[0] == null ? "" : cut[0] + ".") + cut[1];
            assertEquals("it has no \"" + path + "\" (was its line deleted?)", e.getMessage());
        }
        JsonObject top = JsonParser.parseString(json).getAsJsonObject();
        top.remove("vocab_size");
        assertThrows(IllegalArgumentException.class, () -> RunConfig.fromJson(top.toString()));
        // the settings added after the first config.json: an older run's file lacks them, read as off
        JsonObject older = JsonParser.parseString(json).getAsJsonObject();
        JsonObject training = older.getAsJsonObject("training");
        training.getAsJsonObject("limits").remove("early_stop");
        training.getAsJsonObject("limits").remove("max_time");
        training.getAsJsonObject("checkpointing").remove("minutes");
        TrainConfig back = RunConfig.fromJson(older.toString()).training();
        assertEquals(0, back.limits().earlyStop());
        assertEquals(java.time.Duration.ZERO, back.limits().maxTime());
        assertEquals(0.0, back.checkpointing().minutes());
    }

    @Test
    void aRunWritesTheConfigItRanWith(@TempDir Path dir) {
        TrainConfig cfg = unusual(dir.resolve("run"))
                .withLimits(new TrainConfig.Limits(1, 3))
                .withBatching(new TrainConfig.Batching(2, 8))
                .withModel(new ModelSpec(CellType.RNN, 1, 8, 4, 0.0))
                .withReporting(new TrainConfig.Reporting(1, 0, 0.8));
        Trainer.Options o = Trainer.Options.defaults()
                .withBackend("reference", BackendOptions.defaults().withThreads(1))
                .withOutput(true, line -> {}, null);
        try (Trainer t = new Trainer(cfg, TestData.split(TestData.pseudoText(400, 3), 0.0), o)) {
            t.run();
        }
        RunConfig back = RunConfig.read(dir.resolve("run"));
        assertEquals(cfg, back.training());
        assertEquals("reference", back.backend());
    }
}
