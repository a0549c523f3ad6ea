package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.util.UserError;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The resident tensor-core plan (persistent_common.cuh: each warp's fragments of the W_hh slice in
 * its registers for the whole launch) multiplies the same words in the same mma as the plan that
 * reads them from shared memory every step ({@link PersistentKnobs#REGISTERS_PROPERTY} off), so a
 * TF32 training step is the same bit for bit: the parity suite's every tensor compared with zero
 * tolerance. LSTM in the cluster layout, three clusters over B 7, H 33 in 8 blocks of 5 units,
 * where both passes' plans are resident ({@link PersistentPlanTest}); the column-stationary
 * backward, whose product is the one that changed (the native harnesses run every cell, both
 * layouts and both precisions).
 */
@Tag("gpu")
class CudaResidentTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    @Test
    void theRegistersChangeNoBit() {
        assertTrue(
                PersistentPlan.forward(4, 5, 33, 3, ProductArithmetic.TF32_MMA).resident());
        assertTrue(
                PersistentPlan.backward(4, 5, 33, 3, ProductArithmetic.TF32_MMA).resident());
        Map<Tolerances.Kind, Tolerances.Tol> exact = new EnumMap<>(Tolerances.Kind.class);
        for (Tolerances.Kind k : Tolerances.Kind.values()) exact.put(k, new Tolerances.Tol(0, 0));
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "cluster");
        System.setProperty(PersistentKnobs.CLUSTERS_PROPERTY, "3");
        System.setProperty(PersistentKnobs.BACKWARD_PROPERTY, "columns");
        try {
            Verifier v = new Verifier(
                    (cfg, o) -> CudaTestSupport.withProperty(
                            PersistentKnobs.REGISTERS_PROPERTY, "auto", () -> new CudaBackend(cfg, persistent(o))),
                    Precision.TF32,
                    (cfg, o) -> CudaTestSupport.withProperty(
                            PersistentKnobs.REGISTERS_PROPERTY,
                            "off",
                            () -> new CudaBackend(cfg, persistent(o.withPrecision(Precision.TF32)))),
                    new Tolerances(exact));
            List<Verifier.Check> checks = v.run(new Verifier.Shape(CellType.LSTM, 13, 16, 33, 1, 7, 6, 0.0), 67);
            assertFalse(checks.isEmpty());
            assertTrue(Verifier.allPassed(checks), () -> Verifier.table(checks));
        } finally {
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
            System.clearProperty(PersistentKnobs.CLUSTERS_PROPERTY);
            System.clearProperty(PersistentKnobs.BACKWARD_PROPERTY);
        }
    }

    @Test
    void aBadValueIsAOneLineError() {
        System.setProperty(PersistentKnobs.REGISTERS_PROPERTY, "maybe");
        try {
            UserError e = assertThrows(UserError.class, PersistentKnobs::registersAllowed);
            assertTrue(e.getMessage().contains("must be auto or off, not 'maybe'"), e.getMessage());
        } finally {
            System.clearProperty(PersistentKnobs.REGISTERS_PROPERTY);
        }
    }

    private static BackendOptions persistent(BackendOptions o) {
        return o.withRnnKernel(RnnKernel.PERSISTENT);
    }
}
