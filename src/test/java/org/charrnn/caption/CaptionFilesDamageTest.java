package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.io.Safetensors;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged number in a caption model or resume state is a one-line error naming it, never Java's words. */
class CaptionFilesDamageTest {
    private static final ModelConfig CFG = new ModelConfig(CellType.GRU, 6, 3, 4, 1, 0.0);
    private static final CaptionVocab VOCAB = CaptionVocab.of(List.of("ab c"));

    /** Rewrites {@code file} with its metadata after {@code edit}. */
    private static Path edited(Path file, Consumer<Map<String, String>> edit) throws Exception {
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        edit.accept(meta);
        Safetensors.write(file, new ArrayList<>(c.tensors().values()), meta);
        return file;
    }

    private static void assertOneLine(UserError e, String expect) {
        assertTrue(e.getMessage().contains(expect), e.getMessage());
        assertFalse(e.getMessage().matches("(?s).*(\\n|Exception|For input string|Cannot invoke).*"), e.getMessage());
    }

    @Test
    void aCaptionModelsValLoss(@TempDir Path dir) throws Exception {
        try (ConditionedModel m = ConditionedModelTest.model(CFG, 9)) {
            Path file = dir.resolve("m.safetensors");
            CaptionCheckpoint.save(file, CFG, VOCAB, m.backend().getParameters(), m.projection(), 12, 1.5, Map.of());
            edited(file, meta -> meta.put("val_loss", "1.5x"));
            assertOneLine(assertThrows(UserError.class, () -> CaptionCheckpoint.load(file)), "bad val_loss");
        }
    }

    @Test
    void aResumeStatesEpochIterationAndBest(@TempDir Path dir) throws Exception {
        CaptionResume.Run run =
                new CaptionResume.Run(CFG, VOCAB, 5, OptimizerKind.SGD, Map.of("--seed", "1"), Map.of());
        double[][] slots = {{0.0}};
        CaptionResume.State s =
                new CaptionResume.State(2, 8, 1.25, new double[] {0.5}, new double[] {0.25}, slots, slots);
        Path file = dir.resolve("resume.safetensors");
        CaptionResume.save(file, run, s);
        assertEquals(8, CaptionResume.load(file, run).iteration());
        String[][] damage = {
            {"epoch", "2.5", "'epoch' is 2.5, not a whole number"},
            {"epoch", "-1", "'epoch' is -1, not a whole number"},
            {"iteration", "x", "'iteration' is x, not a whole number"},
            {"best", "1.2.3", "'best' is 1.2.3, not a number"},
            {"best", null, "no 'best' metadata"}
        };
        for (String[] d : damage) {
            CaptionResume.save(file, run, s);
            edited(file, meta -> {
                if (d[1] == null) meta.remove(d[0]);
                else meta.put(d[0], d[1]);
            });
            assertOneLine(assertThrows(UserError.class, () -> CaptionResume.load(file, run)), d[2]);
        }
        // no best score yet (every epoch's score NaN) reads back as NaN
        CaptionResume.save(
                file, run, new CaptionResume.State(2, 8, Double.NaN, s.params(), s.projection(), slots, slots));
        assertTrue(Double.isNaN(CaptionResume.load(file, run).best()));
    }

    /** What a resume takes where an option is not given again: the model's shape, optimizer, options, settings. */
    @Test
    void aResumeStateRecordsTheRunsOptions(@TempDir Path dir) throws Exception {
        CaptionResume.Run run = new CaptionResume.Run(
                CFG, VOCAB, 5, OptimizerKind.SGD, Map.of("--seed", "1"), Map.of("--lr", "0.005", "--clip", "2.0"));
        double[][] slots = {{0.0}};
        Path file = dir.resolve("resume.safetensors");
        CaptionResume.save(
                file, run, new CaptionResume.State(1, 4, 1.5, new double[] {0.5}, new double[] {0.25}, slots, slots));
        Map<String, String> o = CaptionResume.recordedOptions(file);
        assertEquals(CFG.cell().id(), o.get("--model"));
        assertEquals(Integer.toString(CFG.layers()), o.get("--layers"));
        assertEquals(Integer.toString(CFG.hidden()), o.get("--hidden"));
        assertEquals(Integer.toString(CFG.embedding()), o.get("--embedding"));
        assertEquals("sgd", o.get("--optimizer"));
        assertEquals("1", o.get("--seed"));
        assertEquals("0.005", o.get("--lr"));
        assertEquals("2.0", o.get("--clip"));
        assertEquals(8, o.size(), o.toString());
        assertTrue(
                CaptionResume.recordedOptions(dir.resolve("none.safetensors")).isEmpty(), "no state, no options");
        // a setting a resume may change is not part of what the state is checked against
        CaptionResume.Run otherRate = new CaptionResume.Run(
                CFG, VOCAB, 5, OptimizerKind.SGD, Map.of("--seed", "1"), Map.of("--lr", "0.001", "--clip", "2.0"));
        assertEquals(4, CaptionResume.load(file, otherRate).iteration());
    }
}
