package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("opencl")
class OpenClProviderTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    private static final ModelConfig SMALL = new ModelConfig(CellType.GRU, 10, 4, 8, 1, 0.0);

    @Test
    void listsDevicesAndCreatesABackend() {
        OpenClBackendProvider p = new OpenClBackendProvider();
        assertEquals("opencl", p.name());
        List<BackendProvider.DeviceInfo> ds = p.devices();
        assertFalse(ds.isEmpty());
        for (int i = 0; i < ds.size(); i++) {
            assertEquals(i, ds.get(i).index());
            assertFalse(ds.get(i).name().isEmpty());
            assertFalse(ds.get(i).platform().isEmpty());
        }
        try (Backend b = p.create(SMALL, BackendOptions.defaults().withDevice(0))) {
            assertEquals("opencl", b.name());
            assertEquals(Precision.FP32, b.precision());
            assertTrue(b.deviceName().contains(ds.get(0).name()));
            long paramBytes = 4L * b.layout().size();
            b.synchronize();
            assertTrue(
                    b.peakMemoryBytes() >= 2 * paramBytes, "parameters and gradients at least: " + b.peakMemoryBytes());
        }
    }

    @Test
    void rejectsUnknownDeviceAndUnsupportedPrecisionWithUserErrors() {
        OpenClBackendProvider p = new OpenClBackendProvider();
        UserError e = assertThrows(
                UserError.class, () -> p.create(SMALL, BackendOptions.defaults().withDevice(99)));
        assertTrue(e.getMessage().contains("BackendOptions.device 99"), e.getMessage());
        UserError f = assertThrows(
                UserError.class, () -> p.create(SMALL, BackendOptions.defaults().withPrecision(Precision.BF16)));
        assertTrue(f.getMessage().contains("fp32"), f.getMessage());
    }

    @Test
    void outOfDeviceMemoryNamesTheSizeAndTheModel() {
        // 1.2e9 parameters (4.8 GB of floats): more than one allocation may hold on most devices
        ModelConfig cfg = new ModelConfig(CellType.RNN, 60000, 4, 16000, 1, 0.0);
        long bytes = 4L * new org.charrnn.model.ParamLayout(cfg).size();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                bytes > ClRuntime.select(-1).maxAlloc(), "the device can allocate " + bytes + " bytes at once");
        UserError e = assertThrows(UserError.class, () -> new OpenClBackend(cfg, BackendOptions.defaults()));
        assertTrue(e.getMessage().startsWith("out of OpenCL device memory"), e.getMessage());
        assertTrue(e.getMessage().contains("for parameters"), e.getMessage());
        assertTrue(e.getMessage().contains("rnn L1 H16000 E4 V60000"), e.getMessage());
        assertTrue(e.getMessage().contains("GiB"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void stateCopyResetAndTokenLength() {
        try (Backend b = new OpenClBackend(SMALL, BackendOptions.defaults());
                RnnState s1 = b.newState(3);
                RnnState s2 = b.newState(3);
                TokenBuffer tb = b.upload(TokenSequence.of(1, 2, 3, 4, 5))) {
            assertEquals(5, tb.length());
            double[] v = new double[SMALL.stateSizePerRow() * 3];
            for (int i = 0; i < v.length; i++) v[i] = i * 0.25;
            s1.write(v);
            s2.copyFrom(s1);
            assertEquals(java.util.Arrays.toString(v), java.util.Arrays.toString(s2.read()));
            s1.reset();
            for (double x : s1.read()) assertEquals(0.0, x);
        }
    }
}
