package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.model.CellType;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole training steps on OpenCL vs the fp64 reference with layer 0's input projection by token
 * forced on and off (-Dcharrnn.tokenProjection): the forward's table P = Emb W_ih^T gathered into
 * gx, and the backward's dEmb and dW_ih from the per-token sums of dgx, at a window larger than the
 * vocabulary (where auto takes it), one smaller (V 300 > N 15: only on takes it) and T = B = 1.
 */
@Tag("opencl")
class OpenClTokenProjectionTest {

    @BeforeEach
    void requireOpenCl() {
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
        String old = System.setProperty("charrnn.tokenProjection", mode);
        try {
            for (Verifier.Shape shape : List.of(
                    new Verifier.Shape(cell, 11, 7, 33, 2, 3, 5, 0.3),
                    new Verifier.Shape(cell, 300, 8, 20, 1, 5, 3, 0.0),
                    new Verifier.Shape(cell, 6, 5, 9, 1, 1, 1, 0.0))) {
                List<Verifier.Check> checks = Verifier.againstReference(OpenClBackend::new)
                        .run(shape, 43 + shape.label().hashCode());
                assertFalse(checks.isEmpty());
                assertTrue(Verifier.allPassed(checks), () -> mode + "\n" + Verifier.table(checks));
            }
        } finally {
            if (old == null) System.clearProperty("charrnn.tokenProjection");
            else System.setProperty("charrnn.tokenProjection", old);
        }
    }
}
