package org.charrnn.backend.cuda;

import java.util.List;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.RnnKernel;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Skips (JUnit assumption) when no CUDA device can be used here, with the provider's reason; fails
 * instead when the CPU-emulated device was asked for ({@code CHARRNN_CUDA_EMULATOR=1}, as in CI),
 * so no CUDA test is skipped there for want of a device.
 */
final class CudaTestSupport {
    private CudaTestSupport() {}

    static void assumeCuda() {
        BackendProvider.Availability a = new CudaBackendProvider().probe();
        if (CudaBackendProvider.emulatorRequested())
            Assertions.assertTrue(
                    a.available(),
                    () -> CudaBackendProvider.EMULATOR_ENV + "=1 but the cuda backend is"
                            + " unavailable (is LD_LIBRARY_PATH pointing at target/cuda-emu?): " + a.reason());
        Assumptions.assumeTrue(a.available(), () -> "cuda backend unavailable: " + a.reason());
    }

    /** Skips unless the device is the CPU-emulated one (a test of its late schedule, not of a GPU's). */
    static void assumeEmulated() {
        assumeCuda();
        Assumptions.assumeTrue(CudaBackendProvider.emulatorRequested(), "runs on the emulated device only");
    }

    /**
     * What {@code make} returns with the system property set to {@code value} while it runs (the
     * persistent kernels' knobs are read as a backend is made); cleared after.
     */
    static <T> T withProperty(String property, String value, java.util.function.Supplier<T> make) {
        System.setProperty(property, value);
        try {
            return make.get();
        } finally {
            System.clearProperty(property);
        }
    }

    /**
     * Whole training steps of {@code shape} against the fp64 reference with rnn kernel {@code kernel}
     * (seeded by {@code seed}): fails with {@code what} and the checks' table unless every check
     * passes; returns the backend's device line, read after the run (when it names each batch size's
     * choices).
     */
    static String parityDeviceLine(RnnKernel kernel, Verifier.Shape shape, long seed, String what) {
        CudaBackend[] device = new CudaBackend[1];
        Verifier v = Verifier.againstReference((cfg, o) -> {
            device[0] = new CudaBackend(cfg, o.withRnnKernel(kernel));
            return device[0];
        });
        List<Verifier.Check> checks = v.run(shape, seed);
        Assertions.assertFalse(checks.isEmpty());
        Assertions.assertTrue(Verifier.allPassed(checks), () -> what + "\n" + Verifier.table(checks));
        return device[0].deviceName();
    }
}
