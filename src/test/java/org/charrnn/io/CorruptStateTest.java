package org.charrnn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
