package org.charrnn.backend;

import java.util.List;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

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

    /**
     * The reference in double precision; fp32 (the option's default) asks for no less. TF32 and bf16
     * are the GPU backends' reduced precisions, which the reference does not imitate: a one-line
     * error, as the OpenCL backend gives for what it does not compute. Its recurrence runs one
     * timestep at a time, which {@code --rnn-kernel auto} and {@code stepwise} accept and a forced
     * {@code persistent} is refused in the same way. Its one device is the CPU, index 0: a
     * {@code --device} above that is refused rather than ignored.
     */
    @Override
    public Backend create(ModelConfig config, BackendOptions options) {
        boolean computes = switch (options.precision()) {
            case FP64, FP32 -> true;
            case TF32, BF16 -> false;
        };
        if (!computes)
            throw UserError.naming("the reference backend computes in fp64 only; {BackendOptions.precision} "
                    + options.precision().id() + " is not supported (it runs on the cuda backend)");
        if (options.rnnKernel() == RnnKernel.PERSISTENT)
            throw UserError.naming("the reference backend steps one timestep at a time;"
                    + " {BackendOptions.rnnKernel} persistent runs on the cuda and opencl backends");
        if (options.device() > 0)
            throw UserError.naming("{BackendOptions.device} " + options.device()
                    + " does not exist: the reference backend has one device (0, the CPU); see 'charrnn devices'");
        return new ReferenceBackend(config, options);
    }
}
