package org.charrnn.backend.cuda;

import java.util.List;

import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/** The CUDA backend's provider: available when the kernels were built and a CUDA driver with a device is present. */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public String name() { return "cuda"; }

    @Override
    public Availability probe() {
        if (!CudaRuntime.kernelsBuilt()) return Availability.no(CudaRuntime.NOT_BUILT);
        String why = CudaRuntime.init();
        return why == null ? Availability.yes() : Availability.no(why);
    }

    @Override
    public List<DeviceInfo> devices() {
        return probe().available() ? CudaRuntime.devices() : List.of();
    }

    @Override
    public Backend create(ModelConfig config, BackendOptions options) {
        Availability a = probe();
        if (!a.available()) throw new UserError("cuda backend unavailable: " + a.reason());
        return new CudaBackend(config, options);
    }
}
