package org.charrnn.backend.cuda;

import org.charrnn.backend.BackendProvider;
import org.junit.jupiter.api.Assumptions;

/** Skips (JUnit assumption) when no CUDA device can be used here, with the provider's reason. */
final class CudaTestSupport {
    private CudaTestSupport() {}

    static void assumeCuda() {
        BackendProvider.Availability a = new CudaBackendProvider().probe();
        Assumptions.assumeTrue(a.available(), () -> "cuda backend unavailable: " + a.reason());
    }
}
