package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.model.CellType;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole training steps on CUDA (fp32, cuBLAS and the gemm_tiled fallback) vs the fp64 reference
 * through the shared {@link Verifier}: loss, every gradient tensor, initial-state gradient, carried
 * state, clipped steps of every optimizer with both clip modes, eval loss and stepLogits; every
 * cell at awkward shapes (H = 1, H not a multiple of 32, B = 1, T = 1, L = 3, V > 256).
 */
@Tag("gpu")
class CudaParityTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    static Stream<Verifier.Shape> shapes() {
        List<Verifier.Shape> s = new ArrayList<>(Verifier.standardShapes());
        for (CellType c : CellType.values()) {
            s.add(new Verifier.Shape(c, 13, 6, 257, 1, 2, 2, 0.2)); // H = 257
            s.add(new Verifier.Shape(c, 300, 8, 20, 1, 5, 3, 0.0)); // V > 256: u16 corpus
            s.add(new Verifier.Shape(c, 65, 16, 64, 3, 8, 7, 0.1)); // L = 3, multiple-of-32 H
        }
        return s.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void cublasTrainingStepMatchesReference(Verifier.Shape shape) {
        Verifier v = Verifier.againstReference(CudaBackend::new);
        List<Verifier.Check> checks = v.run(shape, 29 + shape.hashCode());
        assertFalse(checks.isEmpty());
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void tiledGemmTrainingStepMatchesReference(Verifier.Shape shape) {
        String old = System.setProperty(Gemm.FORCE_TILED, "true");
        try {
            Verifier v = Verifier.againstReference(CudaBackend::new);
            List<Verifier.Check> checks = v.run(shape, 31 + shape.hashCode());
            assertFalse(checks.isEmpty());
            assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
        } finally {
            if (old == null) System.clearProperty(Gemm.FORCE_TILED);
            else System.setProperty(Gemm.FORCE_TILED, old);
        }
    }
}
