package org.charrnn.backend.opencl;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.device.DeviceRnn;
import org.charrnn.model.ModelConfig;

/**
 * The OpenCL backend: the shared device orchestration ({@link DeviceRnn}) over {@link OpenClOps},
 * the fp32 kernels of kernels/opencl on one device, CPUs included (PoCL).
 */
public final class OpenClBackend extends DeviceRnn {

    public OpenClBackend(ModelConfig config, BackendOptions options) {
        super(config, new OpenClOps(config, options));
    }
}
