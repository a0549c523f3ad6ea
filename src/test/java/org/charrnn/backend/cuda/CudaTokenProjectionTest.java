package org.charrnn.backend.cuda;

import org.charrnn.model.CellType;
import org.charrnn.verify.TokenProjectionChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole training steps on CUDA vs the fp64 reference with layer 0's input projection by token
 * forced on and off (-Dcharrnn.tokenProjection): the forward's table P = Emb W_ih^T gathered into
 * gx, and the backward's dEmb and dW_ih from the per-token sums of dgx ({@link TokenProjectionChecks}).
 */
@Tag("gpu")
class CudaTokenProjectionTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
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
        TokenProjectionChecks.run(CudaBackend::new, cell, mode, 43);
    }
}
