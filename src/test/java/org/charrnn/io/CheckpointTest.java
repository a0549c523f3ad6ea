package org.charrnn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.charrnn.data.Vocabulary;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.TestData;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    private ModelConfig cfg;
    private Vocabulary vocab;
    private double[] params;
    private Path file;

    @BeforeEach
    void write() throws Exception {
        vocab = TestData.vocabulary("abcdefgé한🌸\n ");
        cfg = new ModelConfig(CellType.GRU, vocab.size(), 5, 7, 2, 0.1);
        params = Init.initialize(new ParamLayout(cfg), 8);
        file = Checkpoint.modelPath(dir, 1200);
        Checkpoint.saveModel(file, cfg, vocab, params, new Checkpoint.Info(1200, 3.5, 1.25), "{\"batch\":50}");
    }

    @Test
    void modelRoundTripIsBitExactInFloat32() {
        Checkpoint.Model m = Checkpoint.loadModel(file);
        assertEquals(cfg, m.config());
        assertEquals(vocab, m.vocabulary());
        assertEquals(1200, m.info().iteration());
        assertEquals(1.25, m.info().valLoss());
        for (int i = 0; i < params.length; i++) assertEquals((double) (float) params[i], m.params()[i], 0.0);
    }

    @Test
    void tensorsAreNamedAndShapedAsPyTorchStateDict() {
        Safetensors.Contents c = Safetensors.read(file);
        assertEquals(
                List.of(
                        "embedding.weight",
                        "rnn.weight_ih_l0",
                        "rnn.weight_hh_l0",
                        "rnn.bias_ih_l0",
                        "rnn.bias_hh_l0",
                        "rnn.weight_ih_l1",
                        "rnn.weight_hh_l1",
                        "rnn.bias_ih_l1",
                        "rnn.bias_hh_l1",
                        "decoder.weight",
                        "decoder.bias"),
                List.copyOf(c.tensors().keySet()));
        assertArrayEquals(
                new long[] {21, 5}, c.tensors().get("rnn.weight_ih_l0").shape());
        assertArrayEquals(
                new long[] {21, 7}, c.tensors().get("rnn.weight_ih_l1").shape());
        assertArrayEquals(
                new long[] {vocab.size(), 7}, c.tensors().get("decoder.weight").shape());
        assertEquals("1", c.metadata().get("format_version"));
    }

    @Test
    void stateRoundTripIsBitExact() throws Exception {
        SplittableRandom r = new SplittableRandom(1);
        double[] carried = r.doubles(2 * 3 * 7).toArray();
        double[][] opt = {
            r.doubles(params.length).toArray(), r.doubles(params.length).toArray()
        };
        Checkpoint.saveState(
                file, new Checkpoint.TrainingState(1200, 1190, 0.5, true, params, "adam", opt, 3, carried, 1.25));
        Checkpoint.TrainingState s = Checkpoint.loadState(file);
        assertArrayEquals(params, s.params(), 0.0);
        assertArrayEquals(carried, s.carriedState(), 0.0);
        assertArrayEquals(opt[1], s.optimizerSlots()[1], 0.0);
        assertEquals(1190, s.updates());
        assertEquals(0.5, s.lrScale());
        assertTrue(s.lastStepFailed());
    }

    @Test
    void truncatedFileIsRejected() throws Exception {
        byte[] all = Files.readAllBytes(file);
        for (int cut : new int[] {0, 5, 20, all.length / 2, all.length - 1}) {
            Files.write(file, Arrays.copyOf(all, cut));
            UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"), e.getMessage());
        }
    }

    @Test
    void garbageIsRejected() throws Exception {
        byte[] junk = new byte[4096];
        new SplittableRandom(3).nextBytes(junk);
        Files.write(file, junk);
        assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        // a text file named as the checkpoint: its first 8 bytes read as a header length
        Files.writeString(file, "First Citizen:\nBefore we proceed any further, hear me speak.\n");
        UserError text = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        assertEquals(
                file + ": not a safetensors file, or a corrupt one: its first 8 bytes give a header length of "
                        + 7584941881947220294L + " (a safetensors header is 1 to " + Safetensors.MAX_HEADER + " bytes)",
                text.getMessage());
        ByteBuffer b =
                ByteBuffer.allocate(8 + 10).order(ByteOrder.LITTLE_ENDIAN).putLong(10);
        b.put("{not json!".getBytes(StandardCharsets.US_ASCII));
        Files.write(file, b.array());
        UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        assertTrue(e.getMessage().contains("JSON"), e.getMessage());
    }

    @Test
    void wrongShapesAreRejected() throws Exception {
        ModelConfig other = new ModelConfig(CellType.GRU, vocab.size(), 5, 8, 2, 0.1);
        Checkpoint.saveModel(
                file,
                other,
                vocab,
                Init.initialize(new ParamLayout(other), 1),
                new Checkpoint.Info(1, 0, Double.NaN),
                "{}");
        // now swap in the original config in the metadata: shapes no longer match
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.put("model", Checkpoint.modelConfigJson(cfg));
        Safetensors.write(file, List.copyOf(c.tensors().values()), meta);
        UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        assertTrue(e.getMessage().contains("shape"), e.getMessage());
    }

    @Test
    void aFileOfAnotherKindSaysWhatItIs() throws Exception {
        Checkpoint.saveState(
                file,
                new Checkpoint.TrainingState(
                        1200, 1200, 1.0, false, params, "sgd", new double[0][], 1, new double[0], Double.NaN));
        Path state = Checkpoint.statePath(file);
        UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(state));
        assertEquals(
                state + " is a run's training state (what Options.resume reads), not a model: give the model file"
                        + " beside it,"
                        + " ckpt-00001200.safetensors, or the run directory",
                e.getMessage());

        Files.copy(file, state, java.nio.file.StandardCopyOption.REPLACE_EXISTING); // a model where the state goes
        e = assertThrows(UserError.class, () -> Checkpoint.loadState(file));
        assertEquals(state + " is a model file, not a training state", e.getMessage());

        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.put("format", "charrnn-caption");
        Safetensors.write(file, List.copyOf(c.tensors().values()), meta);
        e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        assertEquals(file + " is a charrnn-caption file, not a character model", e.getMessage());
    }

    @Test
    void unknownVersionIsRejected() throws Exception {
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.put("format_version", "99");
        Safetensors.write(file, List.copyOf(c.tensors().values()), meta);
        UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
    }

    @Test
    void nonFiniteParametersAreNeverWritten() {
        double[] bad = params.clone();
        bad[3] = Double.NaN;
        Path other = Checkpoint.modelPath(dir, 5);
        assertThrows(
                IllegalStateException.class,
                () -> Checkpoint.saveModel(other, cfg, vocab, bad, new Checkpoint.Info(5, 0, Double.NaN), "{}"));
        assertTrue(Files.notExists(other));
    }

    @Test
    void directoryResolvesToBestCheckpoint() throws Exception {
        Checkpoint.saveModel(
                Checkpoint.modelPath(dir, 1300), cfg, vocab, params, new Checkpoint.Info(1300, 4, 1.5), "{}");
        Checkpoint.saveModel(
                Checkpoint.modelPath(dir, 1400), cfg, vocab, params, new Checkpoint.Info(1400, 5, Double.NaN), "{}");
        assertEquals(file, Checkpoint.resolveModel(dir));
        assertThrows(UserError.class, () -> Resume.resolve(dir)); // no state files
    }

    @Test
    void aDamagedCheckpointInTheDirectorySaysToNameAFile() throws Exception {
        Path older = Checkpoint.modelPath(dir, 1300);
        Checkpoint.saveModel(older, cfg, vocab, params, new Checkpoint.Info(1300, 4, 1.5), "{}");
        Files.write(older, new byte[] {1, 2, 3, 4});
        UserError e = assertThrows(UserError.class, () -> Checkpoint.resolveModel(dir));
        assertEquals(
                older + ": file is truncated or empty (4 bytes), not a safetensors file; to use another"
                        + " checkpoint of " + dir + ", name its file instead",
                e.getMessage());
        assertEquals(file, Checkpoint.resolveModel(file));
    }

    /** A resume from ckpt-10 names the newer model files without their state that it passes over. */
    @Test
    void theResumeNoteNamesTheCheckpointsCutShort() throws Exception {
        Path run = Files.createDirectories(dir.resolve("cut"));
        for (long it : new long[] {10, 20, 30}) Files.writeString(Checkpoint.modelPath(run, it), "model");
        Files.writeString(Checkpoint.statePath(Checkpoint.modelPath(run, 10)), "state");
        Path ten = Checkpoint.modelPath(run, 10);
        assertEquals(ten, Resume.resolve(run));
        assertEquals(
                List.of(Checkpoint.modelPath(run, 20), Checkpoint.modelPath(run, 30)), Resume.cutShortAfter(run, ten));
        assertEquals(
                " (passing over ckpt-00000030.safetensors and 1 before it: no training state, a crash or a full"
                        + " disk cut them short)",
                Resume.cutShortNote(run, ten));
        Files.writeString(Checkpoint.statePath(Checkpoint.modelPath(run, 30)), "state");
        assertEquals("", Resume.cutShortNote(run, Resume.resolve(run)));
    }
}
