package org.charrnn.backend.opencl;

import org.charrnn.model.CellType;
import org.charrnn.verify.TokenProjectionChecks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole training steps on OpenCL vs the fp64 reference with layer 0's input projection by token
 * forced on and off (-Dcharrnn.tokenProjection), as {@link TokenProjectionChecks} runs them.
 */
@Tag("opencl")
class OpenClTokenProjectionTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "LSTM, on",
        "LSTM, off",
        "GRU, on",
        "GRU, off",
        "RNN, on",
        "RNN, off",
        "MUT3, on",
        "MUT3, off",
    })
    void aStepByTokenMatchesTheReference(CellType cell, String mode) {
        TokenProjectionChecks.run(OpenClBackend::new, cell, mode, 47);
    }
}
