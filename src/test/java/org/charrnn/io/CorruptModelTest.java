package org.charrnn.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.TestData;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-edited model metadata is a one-line "corrupt checkpoint" error in words, never a library's
 * internals or an out-of-memory: a claimed model shape is checked against the file's own tensors
 * before anything is allocated for it.
 */
class CorruptModelTest {

    private static Path withModelMetadata(Path dir, UnaryOperator<String> edit) throws Exception {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 5, 3, 4, 1, 0.0);
        Path file = Checkpoint.modelPath(dir, 10);
        Checkpoint.saveModel(
                file,
                cfg,
                TestData.vocabulary("abcd "),
                Init.initialize(new ParamLayout(cfg), 1),
                new Checkpoint.Info(10, 1, Double.NaN),
                "{}");
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put("model", edit.apply(meta.get("model")));
        Safetensors.write(file, new java.util.ArrayList<>(c.tensors().values()), meta);
        return file;
    }

    private static void assertCorrupt(Path file, String expect) {
        UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
        assertTrue(
                e.getMessage().contains("corrupt checkpoint") && e.getMessage().contains(expect), e.getMessage());
        assertFalse(e.getMessage().contains("com.google") || e.getMessage().contains("Cannot invoke"), e.getMessage());
    }

    @Test
    void badModelMetadataSaysWhatIsWrong(@TempDir Path dir) throws Exception {
        assertCorrupt(withModelMetadata(dir, m -> m.replace("\"hidden\":4,", "")), "lacks 'hidden'");
        assertCorrupt(withModelMetadata(dir, m -> m.replace("\"hidden\":4", "\"hidden\":\"four\"")), "hidden");
        assertCorrupt(withModelMetadata(dir, m -> m.replace("\"layers\":1", "\"layers\":1.5")), "not an integer");
        assertCorrupt(withModelMetadata(dir, m -> "[1, 2]"), "not a JSON object");
    }

    @Test
    void aClaimedHugeModelFailsAsCorruptNotOutOfMemory(@TempDir Path dir) throws Exception {
        // hidden 100000 would need 2^31+ parameters; hidden 20000 about 3.2 GB of doubles
        for (String h : new String[] {"100000", "20000"}) {
            Path f = withModelMetadata(dir, m -> m.replace("\"hidden\":4", "\"hidden\":" + h));
            UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(f));
            assertTrue(
                    e.getMessage().contains("corrupt checkpoint")
                            || e.getMessage().contains("shape"),
                    e.getMessage());
        }
    }

    /** A flipped bit in the tensor data is caught by the checksum the writer stores in the metadata. */
    @Test
    void aFlippedBitInTheDataIsCaught(@TempDir Path dir) throws Exception {
        Path file = withModelMetadata(dir, m -> m);
        byte[] all = java.nio.file.Files.readAllBytes(file);
        Checkpoint.loadModel(file); // intact: loads
        for (int at : new int[] {all.length - 1, all.length - 17, all.length / 2 + 40}) {
            byte[] flipped = all.clone();
            flipped[at] ^= 0x10;
            java.nio.file.Files.write(file, flipped);
            UserError e = assertThrows(UserError.class, () -> Checkpoint.loadModel(file));
            assertTrue(e.getMessage().contains("checksum") || e.getMessage().contains("corrupt"), e.getMessage());
        }
    }
}
