package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cluster layout's exchange through distributed shared memory (kernels/cuda/persistent_exchange.cuh)
 * stores what the staging would have stored, so a training step with it is the step without it bit
 * for bit: the parity suite's every tensor (loss, logits, state and its gradient, every gradient, the
 * parameters and optimizer state after the step) compared with zero tolerance, three clusters over B 7
 * (a short last cluster), H 33 in 8 blocks of 5 units (a last block of 1 unit). The LSTM stores
 * four dgates values a unit, the GRU three of dgh (not dgx); the RNN's one is the forward's case.
 */
@Tag("gpu")
class CudaExchangeTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU"})
    void theExchangeChangesNoBit(CellType cell) {
        Map<Tolerances.Kind, Tolerances.Tol> exact = new EnumMap<>(Tolerances.Kind.class);
        for (Tolerances.Kind k : Tolerances.Kind.values()) exact.put(k, new Tolerances.Tol(0, 0));
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "cluster");
        System.setProperty(PersistentKnobs.CLUSTERS_PROPERTY, "3");
        System.setProperty(PersistentKnobs.BACKWARD_PROPERTY, "columns"); // the row-stationary one exchanges nothing
        try {
            CudaBackend[] on = new CudaBackend[1], off = new CudaBackend[1];
            Verifier v = new Verifier(
                    (cfg, o) -> on[0] = CudaTestSupport.withProperty(
                            PersistentKnobs.EXCHANGE_PROPERTY, "on", () -> new CudaBackend(cfg, persistent(o))),
                    Precision.FP32,
                    (cfg, o) -> off[0] = CudaTestSupport.withProperty(
                            PersistentKnobs.EXCHANGE_PROPERTY,
                            "off",
                            () -> new CudaBackend(cfg, persistent(o.withPrecision(Precision.FP32)))),
                    new Tolerances(exact));
            List<Verifier.Check> checks = v.run(new Verifier.Shape(cell, 13, 16, 33, 1, 7, 6, 0.0), 61);
            assertFalse(checks.isEmpty());
            assertTrue(Verifier.allPassed(checks), () -> Verifier.table(checks));
            String line = on[0].deviceName();
            assertTrue(line.contains("with the DSMEM exchange (both passes)"), line);
            assertTrue(off[0].deviceName().contains("rnn persistent (3 clusters"), off[0].deviceName());
            assertFalse(off[0].deviceName().contains("DSMEM"), off[0].deviceName());
        } finally {
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
            System.clearProperty(PersistentKnobs.CLUSTERS_PROPERTY);
            System.clearProperty(PersistentKnobs.BACKWARD_PROPERTY);
        }
    }

    private static BackendOptions persistent(BackendOptions o) {
        return o.withRnnKernel(RnnKernel.PERSISTENT);
    }
}
