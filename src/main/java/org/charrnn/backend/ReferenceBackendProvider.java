package org.charrnn.backend;

import java.util.List;
import org.charrnn.model.ModelConfig;

/** The pure-Java reference backend: always available. */
public final class ReferenceBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Availability probe() {
        return Availability.yes();
    }

    @Override
    public List<DeviceInfo> devices() {
        return List.of(new DeviceInfo(
                0,
                "Java " + Runtime.version().feature(),
                "CPU (" + Runtime.getRuntime().availableProcessors() + " cores)",
                Runtime.getRuntime().maxMemory(),
                false));
    }

    @Override
    public Backend create(ModelConfig config, BackendOptions options) {
        return new ReferenceBackend(config, options);
    }
}
