package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
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
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    static Stream<Verifier.Shape> shapes() {
        List<Verifier.Shape> s = new ArrayList<>(Verifier.standardShapes());
        for (CellType c : CellType.values()) {
            s.add(new Verifier.Shape(c, 13, 6, 257, 1, 2, 2, 0.2)); // H beyond the 64-wide GEMM tiles
            s.add(new Verifier.Shape(c, 300, 8, 20, 1, 5, 3, 0.0)); // V > 256: u16 corpus
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

    /**
     * On a CPU device (PoCL) the suite above runs the whole-window recurrence kernels for the LSTM,
     * GRU and RNN (window_cpu.cl), and the per-step kernels for the cells without one.
     */
    @Test
    void aCpuDeviceRunsTheWindowKernelsByDefault() {
        assumeTrue(ClRuntime.select(-1).cpu(), "the default device is not a CPU");
        assumeTrue(System.getProperty(ClQueue.VARIANT_PROPERTY) == null, "kernel variant overridden");
        for (CellType c : CellType.values())
            try (Backend b = new OpenClBackend(new ModelConfig(c, 11, 8, 8, 1, 0.0), BackendOptions.defaults())) {
                String expect = ClWindowKernels.hasKernel(c)
                        ? "rnn window)"
                        : "rnn stepwise: no window kernel for " + c.id() + ")";
                assertTrue(b.deviceName().endsWith(expect), b.deviceName());
            }
    }

    /**
     * The kernel variant this device does not get by default (on a CPU device the GPU variant:
     * gemm_tiled with W^T read in place, work-group softmax and column sums; on a GPU the CPU
     * variant with transposed weight copies), so both are checked wherever the suite runs.
     */
    @ParameterizedTest(name = "other kernel variant: {0}")
    @MethodSource("otherVariantShapes")
    void otherKernelVariantMatchesReference(Verifier.Shape shape) {
        ClQueue.Variant other = ClRuntime.select(-1).cpu() ? ClQueue.Variant.GPU : ClQueue.Variant.CPU;
        String old = System.getProperty(ClQueue.VARIANT_PROPERTY);
        System.setProperty(ClQueue.VARIANT_PROPERTY, other.name());
        try {
            Verifier v = Verifier.againstReference(OpenClBackend::new);
            List<Verifier.Check> checks = v.run(shape, 23 + shape.label().hashCode());
            assertFalse(checks.isEmpty());
            assertTrue(Verifier.allPassed(checks), () -> other + "\n" + Verifier.table(checks));
        } finally {
            if (old == null) System.clearProperty(ClQueue.VARIANT_PROPERTY);
            else System.setProperty(ClQueue.VARIANT_PROPERTY, old);
        }
    }

    static Stream<Verifier.Shape> otherVariantShapes() {
        return Stream.of(
                new Verifier.Shape(CellType.LSTM, 11, 7, 33, 2, 3, 5, 0.3),
                new Verifier.Shape(CellType.GRU, 13, 6, 40, 1, 2, 3, 0.0),
                new Verifier.Shape(CellType.RNN, 9, 4, 17, 3, 1, 4, 0.25));
    }
}
