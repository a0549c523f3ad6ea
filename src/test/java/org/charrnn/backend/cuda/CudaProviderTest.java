package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Tools;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Runs everywhere: the provider reports unavailability cleanly, and the build produced the fatbin when it could. */
class CudaProviderTest {

    @Test
    void probeNeverThrowsAndExplainsUnavailability() {
        CudaBackendProvider p = new CudaBackendProvider();
        assertEquals("cuda", p.name());
        BackendProvider.Availability a = p.probe();
        assertNotNull(a.reason());
        assertFalse(a.reason().isBlank());
        assertFalse(a.reason().contains("\n"), "one-line reason: " + a.reason());
        // a second probe gives the same answer (cached driver initialisation)
        assertEquals(a, p.probe());
        if (!a.available()) {
            assertTrue(
                    a.reason().startsWith("no CUDA driver/device: ")
                            || a.reason().equals(CudaRuntime.NOT_BUILT),
                    a.reason());
            assertTrue(p.devices().isEmpty());
            ModelConfig cfg = new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0);
            UserError e = assertThrows(UserError.class, () -> p.create(cfg, BackendOptions.defaults()));
            assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
        } else {
            assertFalse(p.devices().isEmpty());
        }
    }

    /** The emulated device is a cuda device that says so, is not a GPU, and is never auto's choice. */
    @Test
    void theEmulatedDeviceIsLabelledAndNeverPickedByAuto() {
        Assumptions.assumeTrue(CudaBackendProvider.emulatorRequested(), "the emulated CUDA device is not in use");
        CudaTestSupport.assumeCuda();
        List<BackendProvider.DeviceInfo> devices = new CudaBackendProvider().devices();
        assertEquals(1, devices.size());
        BackendProvider.DeviceInfo d = devices.get(0);
        assertTrue(CudaBackendProvider.isEmulated(d.name()), d.name());
        assertFalse(d.gpu(), "the emulated device is not a GPU");
        assertFalse(Backends.autoChoice().startsWith("cuda"), Backends.autoChoice());
        try (Backend b = Backends.create(
                "auto", new ModelConfig(CellType.GRU, 11, 7, 33, 1, 0.0), BackendOptions.defaults(), line -> {})) {
            assertFalse(b.name().equals("cuda"), "auto picked " + b.name() + " on " + b.deviceName());
        }
        try (Backend b = Backends.create(
                "cuda", new ModelConfig(CellType.GRU, 11, 7, 33, 1, 0.0), BackendOptions.defaults(), line -> {})) {
            assertTrue(CudaBackendProvider.isEmulated(b.deviceName()), b.deviceName());
        }
    }

    @Test
    void fatbinIsOnTheClasspathWhenNvccExists() throws IOException {
        Assumptions.assumeTrue(nvccOnPath(), "nvcc not on PATH: the build skips the CUDA kernels");
        try (InputStream in = CudaBackend.class.getResourceAsStream(CudaRuntime.FATBIN_RESOURCE)) {
            assertNotNull(in, "missing resource " + CudaRuntime.FATBIN_RESOURCE);
            byte[] head = in.readNBytes(4);
            // fatbin magic 0xBA55ED50, little-endian
            assertEquals(4, head.length);
            assertEquals(0x50, head[0] & 0xFF);
            assertEquals(0xED, head[1] & 0xFF);
            assertEquals(0x55, head[2] & 0xFF);
            assertEquals(0xBA, head[3] & 0xFF);
        }
        assertTrue(CudaRuntime.kernelsBuilt());
    }

    private static boolean nvccOnPath() {
        return Tools.onPath("nvcc") || new File("/usr/local/cuda/bin/nvcc").canExecute();
    }
}
