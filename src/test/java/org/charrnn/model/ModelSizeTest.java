package org.charrnn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Sizes are computed in long: a model beyond 2^31 parameters is refused by name, not by a negative array size. */
class ModelSizeTest {

    @Test
    void aModelTooLargeIsRefusedWithItsSize() {
        // 4 * 30000 rows of 30000: 3.6e9 elements in W_hh alone, an int product would be negative
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new ParamLayout(new ModelConfig(CellType.LSTM, 65, 64, 30000, 2, 0.0)));
        assertTrue(
                e.getMessage().startsWith("model too large") && e.getMessage().contains("3,600,000,000"),
                e.getMessage());
        IllegalArgumentException emb = assertThrows(
                IllegalArgumentException.class,
                () -> new ParamLayout(new ModelConfig(CellType.RNN, 65, 2_000_000_000, 8, 1, 0.0)));
        assertTrue(emb.getMessage().contains("embedding.weight"), emb.getMessage());
        // every tensor small, their sum too large: the message does not call one tensor too large
        IllegalArgumentException deep = assertThrows(
                IllegalArgumentException.class,
                () -> new ParamLayout(new ModelConfig(CellType.LSTM, 58, 64, 64, 100_000, 0.0)));
        assertEquals(
                "model too large: its tensors up to rnn.weight_hh_l64527 would hold 2,147,495,040 parameters; at most"
                        + " 2,147,483,647 fit (lower ModelSpec.hidden, ModelSpec.embedding or ModelSpec.layers)",
                deep.getMessage());
    }

    @Test
    void theLargestLayoutStillFits() {
        ParamLayout l = new ParamLayout(new ModelConfig(CellType.RNN, 2, 1, 23170, 1, 0.0)); // ~537M parameters
        assertEquals(2 + 23170 + 23170L * 23170 + 2 * 23170 + 2 * 23170 + 2, l.size());
    }
}
