package org.charrnn.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * The CUDA backend's provider: available when the kernels were built and a CUDA driver with a device is present.
 *
 * <p>The CPU-emulated CUDA device (native-test/emu, switched on by {@value #EMULATOR_ENV}=1 with
 * LD_LIBRARY_PATH pointing at its libcuda.so.1) is a CUDA device whose name ends in
 * {@value #EMULATED_MARK}: it is listed as such, never picked by {@code --backend auto}, and refused
 * by {@code charrnn bench}.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** Environment variable that switches the CPU-emulated CUDA device on. */
    public static final String EMULATOR_ENV = "CHARRNN_CUDA_EMULATOR";
    /** How the emulated device's name ends. */
    public static final String EMULATED_MARK = "(emulated)";

    /** True when this process was started to use the CPU-emulated CUDA device. */
    public static boolean emulatorRequested() {
        return "1".equals(System.getenv(EMULATOR_ENV));
    }

    /** True for the name of the CPU-emulated CUDA device (as a device or backend reports it). */
    public static boolean isEmulated(String deviceName) {
        return deviceName != null && deviceName.contains(EMULATED_MARK);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Availability probe() {
        if (!CudaRuntime.kernelsBuilt()) return Availability.no(CudaRuntime.NOT_BUILT);
        String why = CudaRuntime.init();
        if (why == null) why = CudaRuntime.driverTooOld(CudaRuntime.driverVersion(), CudaRuntime.kernelsCudaVersion());
        return why == null ? Availability.yes() : Availability.no(why);
    }

    /** The driver's CUDA version beside the kernels', and the GEMM library the backend will use. */
    @Override
    public List<String> notes() {
        if (!probe().available()) return List.of();
        int built = CudaRuntime.kernelsCudaVersion();
        String cublas = Cublas.unavailableReason();
        List<String> notes = new ArrayList<>(List.of(
                "driver: CUDA " + CudaRuntime.versionText(CudaRuntime.driverVersion()) + "; kernels built by nvcc "
                        + (built == 0 ? "(version not recorded)" : CudaRuntime.versionText(built)),
                cublas == null ? "GEMM: cuBLAS" : "GEMM: gemm_tiled, several times slower than cuBLAS: " + cublas));
        for (DeviceInfo d : devices()) notes.add(PersistentLimits.deviceNote(d.index()));
        return notes;
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
