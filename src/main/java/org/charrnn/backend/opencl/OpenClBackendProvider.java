package org.charrnn.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.model.ModelConfig;

/** The OpenCL backend's provider: available when JOCL loads and at least one OpenCL device exists. */
public final class OpenClBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public Availability probe() {
        String why = ClRuntime.init();
        if (why != null) return Availability.no(why);
        if (ClRuntime.devices().isEmpty())
            return Availability.no("no OpenCL platform or device found (for CPUs: apt-get install pocl-opencl-icd)");
        return Availability.yes();
    }

    @Override
    public List<DeviceInfo> devices() {
        List<DeviceInfo> out = new ArrayList<>();
        for (ClDevice d : ClRuntime.devices())
            out.add(new DeviceInfo(d.index(), d.platformName(), d.name(), d.globalMemory(), d.gpu()));
        return out;
    }

    @Override
    public Backend create(ModelConfig config, BackendOptions options) {
        return new OpenClBackend(config, options);
    }
}
