package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.charrnn.model.CellType;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole training steps on OpenCL vs the fp64 reference through the shared {@link Verifier}: loss,
 * every gradient tensor, initial-state gradient, carried state, clipped steps of every optimizer
 * with both clip modes, stepLogits; every cell at awkward shapes.
 */
@Tag("opencl")
class OpenClParityTest {

    @BeforeAll
    static void requireOpenCl() { OpenClTestSupport.assumeOpenCl(); }

    static Stream<Verifier.Shape> shapes() {
        List<Verifier.Shape> s = new ArrayList<>(Verifier.standardShapes());
        for (CellType c : CellType.values()) {
            s.add(new Verifier.Shape(c, 13, 6, 257, 1, 2, 2, 0.2));   // H beyond the 64-wide GEMM tiles
            s.add(new Verifier.Shape(c, 300, 8, 20, 1, 5, 3, 0.0));   // V > 256: u16 corpus
        }
        return s.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void trainingStepMatchesReference(Verifier.Shape shape) {
        Verifier v = Verifier.againstReference(OpenClBackend::new);
        List<Verifier.Check> checks = v.run(shape, 11 + shape.label().hashCode());
        assertFalse(checks.isEmpty());
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }
}
