package org.charrnn.backend.cuda;

import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.verify.TokenProjectionChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole training steps on CUDA vs the fp64 reference with layer 0's input projection by token
 * forced on and off (-Dcharrnn.tokenProjection): the forward's table P = Emb W_ih^T gathered into
 * gx, or read by token where the forward is persistent (forced here for the cells that have one),
 * and the backward's dEmb and dW_ih from the per-token sums of dgx ({@link TokenProjectionChecks}).
 */
@Tag("gpu")
class CudaTokenProjectionTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "LSTM, on, AUTO",
        "LSTM, off, AUTO",
        "LSTM, on, PERSISTENT",
        "GRU, on, AUTO",
        "GRU, off, AUTO",
        "GRU, on, PERSISTENT",
        "RNN, on, AUTO",
        "RNN, off, AUTO",
        "RNN, on, PERSISTENT",
        "MUT3, on, AUTO",
        "MUT3, off, AUTO",
    })
    void aStepByTokenMatchesTheReference(CellType cell, String mode, RnnKernel kernel) {
        TokenProjectionChecks.run((cfg, o) -> new CudaBackend(cfg, o.withRnnKernel(kernel)), cell, mode, 43);
    }
}
