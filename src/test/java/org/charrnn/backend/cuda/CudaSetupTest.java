package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** What a user's CUDA set-up is told: the driver against the kernels' nvcc, and the GEMM library in use. */
class CudaSetupTest {

    @Test
    void versionsReadAsTheDriverApiEncodesThem() {
        assertEquals(13000, CudaRuntime.parseVersion("13.0\n"));
        assertEquals(12040, CudaRuntime.parseVersion("12.4"));
        assertEquals(0, CudaRuntime.parseVersion("release"));
        assertEquals("12.6", CudaRuntime.versionText(12060));
    }

    @Test
    void anOlderDriverSaysWhatToDo() {
        String why = CudaRuntime.driverTooOld(12040, 13000);
        assertTrue(
                why.startsWith("the NVIDIA driver supports CUDA 12.4, but the kernels were built by nvcc 13.0"), why);
        assertTrue(why.contains("R580 or newer") && why.contains("update the driver"), why);
        assertTrue(why.contains("NVCC=") && why.contains("mvn clean package"), why);
        assertNull(CudaRuntime.driverTooOld(13000, 13000));
        assertNull(CudaRuntime.driverTooOld(13020, 13000));
        assertNull(CudaRuntime.driverTooOld(12040, 0), "a build that did not record its nvcc is not judged");
    }

    @Test
    void missingCublas12SaysWhatToInstall() {
        String why = Cublas.explain("UnsatisfiedLinkError: Error while loading native library \"JCublas2-12.6.0"
                + "-linux-x86_64\": libcublas.so.12: cannot open shared object file: No such file or directory");
        assertTrue(why.startsWith("libcublas.so.12 (the CUDA 12 cuBLAS runtime"), why);
        assertTrue(why.contains("nvidia-cublas-cu12") && !why.contains("\n"), why);
        assertTrue(Cublas.explain("something else").contains("something else"));
    }

    /** On the emulated device (a CUDA 13.0 driver with cuBLAS), devices names both. */
    @Test
    @Tag("gpu")
    void devicesShowsTheDriverAndTheGemm() {
        CudaTestSupport.assumeCuda();
        CliRun r = CliRun.of("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("driver: CUDA 13.0; kernels built by nvcc 13.0"), r.out());
        assertTrue(r.out().contains("GEMM: cuBLAS"), r.out());
    }
}
