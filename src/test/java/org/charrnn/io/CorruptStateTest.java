package org.charrnn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training-state file is not trusted: every value --resume would train on is checked, and a bad
 * one is a one-line "corrupt checkpoint" error (exit 2), not an internal error later or training
 * with a negative learning rate.
 */
class CorruptStateTest {

    /** Writes a valid Adam state, then rewrites it after {@code edit} (tensors by name, metadata). */
    private static Path state(Path dir, BiConsumer<Map<String, double[]>, Map<String, String>> edit) throws Exception {
        Path model = Checkpoint.modelPath(dir, 40);
        double[] params = {0.1, -0.2, 0.3}, m = {0.01, 0.02, -0.03}, v = {1e-4, 2e-4, 3e-4}, carried = {0.5, -0.5};
        Checkpoint.saveState(
                model,
                new Checkpoint.TrainingState(
                        40, 39, 0.5, false, params, "adam", new double[][] {m, v}, 1, carried, 1.7));
        Safetensors.Contents c = Safetensors.read(Checkpoint.statePath(model));
        Map<String, double[]> t = new LinkedHashMap<>();
        c.tensors().forEach((name, tensor) -> t.put(name, tensor.values().clone()));
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        edit.accept(t, meta);
        List<Safetensors.Tensor> out = new ArrayList<>();
        t.forEach((name, values) ->
                out.add(new Safetensors.Tensor(name, Safetensors.DType.F64, new long[] {values.length}, values)));
        Safetensors.write(Checkpoint.statePath(model), out, meta);
        return model;
    }

    private static void assertCorrupt(Path model, String expect) {
        UserError e = assertThrows(UserError.class, () -> Checkpoint.loadState(model));
        assertTrue(
                e.getMessage().contains("corrupt checkpoint") && e.getMessage().contains(expect), e.getMessage());
        assertEquals(2, e.exitCode());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aValidStateLoads(@TempDir Path dir) throws Exception {
        Checkpoint.TrainingState s = Checkpoint.loadState(state(dir, (t, m) -> {}));
        assertEquals(39, s.updates());
    }

    @Test
    void everyValueResumeTrainsOnIsChecked(@TempDir Path dir) throws Exception {
        assertCorrupt(state(dir, (t, m) -> t.get("params")[1] = Double.NaN), "parameters contain NaN or Inf");
        assertCorrupt(state(dir, (t, m) -> t.get("params")[0] = Double.POSITIVE_INFINITY), "parameters");
        assertCorrupt(state(dir, (t, m) -> t.get("optimizer.1")[2] = -1e-3), "exp_avg_sq is negative");
        assertCorrupt(state(dir, (t, m) -> t.get("optimizer.1")[0] = Double.NaN), "exp_avg_sq contain NaN");
        assertCorrupt(state(dir, (t, m) -> t.get("optimizer.0")[0] = Double.NEGATIVE_INFINITY), "exp_avg contain");
        assertCorrupt(state(dir, (t, m) -> t.get("carried_state")[1] = Double.NaN), "carried state");
        assertCorrupt(state(dir, (t, m) -> m.put("lr_scale", "NaN")), "lr_scale");
        assertCorrupt(state(dir, (t, m) -> m.put("lr_scale", "-0.5")), "lr_scale");
        assertCorrupt(state(dir, (t, m) -> m.put("updates", "-3")), "updates");
        assertCorrupt(state(dir, (t, m) -> m.put("iteration", "-1")), "iteration");
        assertCorrupt(state(dir, (t, m) -> m.put("optimizer", "lion")), "unknown optimizer");
        assertCorrupt(state(dir, (t, m) -> m.put("optimizer", "sgd")), "state arrays");
    }

    /** A damaged number or flag is refused, not read as NaN, false or its truncation. */
    @Test
    void everyNumberAndFlagMustParse(@TempDir Path dir) throws Exception {
        assertCorrupt(state(dir, (t, m) -> m.put("best_val_loss", "1.7x")), "best_val_loss '1.7x' is not a number");
        assertCorrupt(state(dir, (t, m) -> m.put("lr_scale", "x{")), "lr_scale 'x{' is not a number");
        assertCorrupt(
                state(dir, (t, m) -> m.put("last_step_failed", "ture")),
                "last_step_failed 'ture' is not true or false");
        assertCorrupt(state(dir, (t, m) -> m.put("iteration", "40.0")), "iteration '40.0' is not a whole number");
        // 2^32 + 1 would be batch 1 as an int
        assertCorrupt(
                state(dir, (t, m) -> m.put("batch", "4294967297")),
                "batch '4294967297' is not a whole number up to 2147483647");
        // what a state without a validation or a failed step holds, and what older files lack
        Checkpoint.TrainingState s = Checkpoint.loadState(state(dir, (t, m) -> {
            m.put("best_val_loss", "NaN");
            m.remove("last_step_failed");
        }));
        assertTrue(Double.isNaN(s.bestValLoss()));
        assertFalse(s.lastStepFailed());
        assertTrue(Double.isNaN(Checkpoint.loadState(state(dir, (t, m) -> m.remove("best_val_loss")))
                .bestValLoss()));
    }
}
