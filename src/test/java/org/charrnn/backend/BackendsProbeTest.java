package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** What the auto choice probes: providers stand-ins that record being asked. */
class BackendsProbeTest {

    /** A provider named {@code name} that is available with one GPU or CPU device, or unavailable. */
    private record Fake(String name, Boolean gpu, List<String> probed) implements BackendProvider {
        @Override
        public Availability probe() {
            probed.add(name);
            return gpu == null ? Availability.no("no driver") : Availability.yes();
        }

        @Override
        public List<DeviceInfo> devices() {
            return gpu == null ? List.of() : List.of(new DeviceInfo(0, "platform", "device", 1L << 30, gpu));
        }

        @Override
        public Backend create(ModelConfig config, BackendOptions options) {
            throw new UnsupportedOperationException("not created in this test");
        }
    }

    @Test
    void aCudaGpuEndsTheProbingBeforeOpenCl() {
        List<String> probed = new ArrayList<>();
        Backends.Inventory inv = Backends.inventory(List.of(
                new Fake("cuda", true, probed), new Fake("opencl", true, probed), new ReferenceBackendProvider()));
        assertEquals(List.of("cuda"), probed, "OpenCL is not probed (nor loaded)");
        assertTrue(inv.cudaGpu());
        assertEquals("", inv.skipped());
    }

    @Test
    void withoutACudaGpuOpenClIsProbedAndReported() {
        List<String> probed = new ArrayList<>();
        Backends.Inventory cpuOnly = Backends.inventory(List.of(
                new Fake("cuda", null, probed), new Fake("opencl", false, probed), new ReferenceBackendProvider()));
        assertEquals(List.of("cuda", "opencl"), probed);
        assertFalse(cpuOnly.cudaGpu() || cpuOnly.openclGpu());
        assertTrue(cpuOnly.openclCpu());
        assertEquals("cuda: no driver; opencl: no GPU device", cpuOnly.skipped());

        probed.clear();
        Backends.Inventory emulated =
                Backends.inventory(List.of(new Fake("cuda", false, probed), new Fake("opencl", true, probed)));
        assertEquals(List.of("cuda", "opencl"), probed, "a CUDA device that is no GPU does not end the probing");
        assertTrue(emulated.openclGpu());
    }
}
