package org.charrnn.verify;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.model.CellType;

/**
 * The device backends' tests of layer 0's input projection by token (CudaTokenProjectionTest,
 * OpenClTokenProjectionTest): whole training steps against the fp64 reference with
 * -Dcharrnn.tokenProjection at {@code mode}, at a window larger than the vocabulary (V 11 < N 15,
 * where auto takes it; dropout, L 2), one smaller (V 300 > N 15: only on takes it) and T = B = 1.
 */
public final class TokenProjectionChecks {
    private TokenProjectionChecks() {}

    /** Runs the three shapes of {@code cell} on {@code backend}; fails with the Verifier's table. */
    public static void run(Verifier.Factory backend, CellType cell, String mode, long seed) {
        String old = System.setProperty("charrnn.tokenProjection", mode);
        try {
            for (Verifier.Shape shape : List.of(
                    new Verifier.Shape(cell, 11, 7, 33, 2, 3, 5, 0.3),
                    new Verifier.Shape(cell, 300, 8, 20, 1, 5, 3, 0.0),
                    new Verifier.Shape(cell, 6, 5, 9, 1, 1, 1, 0.0))) {
                List<Verifier.Check> checks = Verifier.againstReference(backend)
                        .run(shape, seed + shape.label().hashCode());
                assertFalse(checks.isEmpty());
                assertTrue(Verifier.allPassed(checks), () -> mode + "\n" + Verifier.table(checks));
            }
        } finally {
            if (old == null) System.clearProperty("charrnn.tokenProjection");
            else System.setProperty("charrnn.tokenProjection", old);
        }
    }
}
