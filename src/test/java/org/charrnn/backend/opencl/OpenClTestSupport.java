package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;

/** Skips a test cleanly where no OpenCL platform with a device exists. */
final class OpenClTestSupport {
    private OpenClTestSupport() {}

    static void assumeOpenCl() {
        BackendProvider.Availability a = new OpenClBackendProvider().probe();
        assumeTrue(a.available(), () -> "OpenCL unavailable: " + a.reason());
    }

    /** A queue on the default device, for kernel-level tests. */
    static ClQueue queue() {
        ClDevice d = ClRuntime.select(-1);
        return new ClQueue(ClRuntime.program(d, BackendOptions.STDERR), () -> "kernel test");
    }

    /** A queue on the default device running kernel variant {@code v} (both run on any device). */
    static ClQueue queue(ClQueue.Variant v) {
        ClDevice d = ClRuntime.select(-1);
        return new ClQueue(ClRuntime.program(d, BackendOptions.STDERR), () -> "kernel test", v);
    }
}
