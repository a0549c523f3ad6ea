package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The grid layout in batch groups (persistent_layout.cuh; {@link PersistentKnobs#GROUPS_PROPERTY}):
 * each group of ceil(H / U) blocks its own rows of the batch, every block at the one grid barrier.
 * Forced through every launch of each cell, the LSTM's and GRU's backward column-stationary or
 * row-stationary (each block exchanging its shares of dh with its own group's blocks only), the
 * training step passes the parity suite against the fp64 reference and the device line says what ran.
 */
@Tag("gpu")
class CudaPersistentGroupsTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    /**
     * Three groups over B 7 (rows 3, 3 and 1: a short last group) of 2 blocks of 17 units (H 33: a
     * last block of 16), two layers, dropout, T 4; over B 2 the three groups are two (no group
     * without rows), over B 1 one.
     */
    @ParameterizedTest(name = "{0} B{1} backward {2}")
    @CsvSource({
        "LSTM, 7, columns, 3",
        "LSTM, 7, rows, 3",
        "GRU, 7, columns, 3",
        "GRU, 2, rows, 2",
        "RNN, 7, auto, 3",
        "RNN, 1, auto, 1",
    })
    void batchGroupsPassTheParitySuite(CellType cell, int batch, String backward, int groups) {
        Verifier.Shape shape = new Verifier.Shape(cell, 13, 16, 33, 2, batch, 4, 0.1);
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "grid");
        System.setProperty(PersistentKnobs.UNITS_PROPERTY, "17");
        System.setProperty(PersistentKnobs.GROUPS_PROPERTY, "3");
        System.setProperty(PersistentKnobs.BACKWARD_PROPERTY, backward);
        try {
            String line = CudaTestSupport.parityDeviceLine(RnnKernel.PERSISTENT, shape, 61 + batch, shape.label());
            String layout = (groups > 1 ? groups + " batch groups of " : "") + "2 blocks x 17 units";
            assertTrue(line.contains("rnn persistent (" + layout), line);
            if (RnnCostModel.hasRows(cell)) assertTrue(line.contains("backward " + backward + " at B " + batch), line);
        } finally {
            System.clearProperty(PersistentKnobs.BACKWARD_PROPERTY);
            System.clearProperty(PersistentKnobs.GROUPS_PROPERTY);
            System.clearProperty(PersistentKnobs.UNITS_PROPERTY);
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
        }
    }

    /**
     * Forced batch groups of more blocks than the device holds at once (200 groups of at least 2
     * blocks: past 16 on the emulated device, 4,224 on a GPU of 132 SMs) are a one-line error
     * naming the knob, before any launch, not the driver's refusal of the cooperative launch.
     */
    @Test
    void batchGroupsPastWhatTheDeviceHoldsAreAOneLineError() {
        Verifier.Shape shape = new Verifier.Shape(CellType.LSTM, 5, 3, 33, 1, 200, 2, 0.0);
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "grid");
        System.setProperty(PersistentKnobs.GROUPS_PROPERTY, "200");
        try {
            UserError e = assertThrows(
                    UserError.class,
                    () -> CudaTestSupport.parityDeviceLine(RnnKernel.PERSISTENT, shape, 5, shape.label()));
            assertTrue(
                    e.getMessage()
                            .matches(
                                    "BackendOptions.rnnKernel persistent: at batch size 200, 200 batch groups of \\d+ blocks \\("
                                            + PersistentKnobs.GROUPS_PROPERTY + ", " + PersistentKnobs.UNITS_PROPERTY
                                            + "\\) are \\d+ blocks, more than the \\d+ the device holds at once, as a cooperative"
                                            + " launch needs"),
                    e.getMessage());
        } finally {
            System.clearProperty(PersistentKnobs.GROUPS_PROPERTY);
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "two", "-1"})
    void badBatchGroupsAreAOneLineError(String value) {
        System.setProperty(PersistentKnobs.GROUPS_PROPERTY, value);
        try {
            UserError e = assertThrows(UserError.class, () -> {
                try (CudaBackend b = new CudaBackend(
                        new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0),
                        BackendOptions.defaults().withRnnKernel(RnnKernel.PERSISTENT))) {
                    b.deviceName();
                }
            });
            assertEquals(
                    PersistentKnobs.GROUPS_PROPERTY + " must be a whole number of at least 1, not '" + value + "'",
                    e.getMessage());
        } finally {
            System.clearProperty(PersistentKnobs.GROUPS_PROPERTY);
        }
    }
}
