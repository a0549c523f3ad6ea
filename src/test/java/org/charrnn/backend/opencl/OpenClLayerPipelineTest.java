package org.charrnn.backend.opencl;

import org.charrnn.model.CellType;
import org.charrnn.verify.LayerPipelineChecks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole training steps on OpenCL vs the fp64 reference with the layers pipelined by chunks
 * (-Dcharrnn.layerPipeline=on), as {@link LayerPipelineChecks} runs them. OpenCL runs the side
 * queue's work in order on its one queue: this checks the chunked orchestration's arithmetic (the
 * chunks' projections, input gradients and weight gradients added chunk by chunk).
 */
@Tag("opencl")
class OpenClLayerPipelineTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void pipelinedStepsMatchTheReference(CellType cell) {
        LayerPipelineChecks.run(OpenClBackend::new, cell, 53);
    }
}
