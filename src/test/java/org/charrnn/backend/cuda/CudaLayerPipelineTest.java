package org.charrnn.backend.cuda;

import org.charrnn.model.CellType;
import org.charrnn.verify.LayerPipelineChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole training steps on CUDA vs the fp64 reference with the layers pipelined by chunks on two
 * streams (-Dcharrnn.layerPipeline=on), as {@link LayerPipelineChecks} runs them. On the emulated
 * device the side stream's work runs as late as its events allow, so a chunk that read what the
 * other stream had not yet written (or wrote what it still reads) shows in the results.
 */
@Tag("gpu")
class CudaLayerPipelineTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void pipelinedStepsMatchTheReference(CellType cell) {
        LayerPipelineChecks.run(CudaBackend::new, cell, 59);
    }

    /** One pass by chunks, the other by whole layers (what auto runs where only one pass is stepwise). */
    @ParameterizedTest
    @CsvSource({"LSTM, forward", "LSTM, backward", "GRU, backward", "RNN, forward"})
    void onePassPipelinedMatchesTheReference(CellType cell, String pass) {
        LayerPipelineChecks.run(CudaBackend::new, cell, 61, pass, 3);
    }
}
