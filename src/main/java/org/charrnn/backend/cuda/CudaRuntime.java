package org.charrnn.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.CudaException;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.BackendProvider.DeviceInfo;

/**
 * Driver loading, device discovery and the kernel fatbin resource. Every method here catches
 * {@link Throwable} around the first touch of native code, so a machine without a CUDA driver
 * (libcuda absent, or present without a device) yields a reason string instead of a crash.
 */
final class CudaRuntime {
    private CudaRuntime() {}

    /** Classpath resource written by kernels/build-cuda.sh during the Maven build. */
    static final String FATBIN_RESOURCE = "/kernels/charrnn.fatbin";

    /** The CUDA release of the nvcc that built the fatbin ("13.0"), written beside it by kernels/build-cuda.sh. */
    static final String NVCC_RESOURCE = FATBIN_RESOURCE + ".nvcc";

    /** Message when the build ran without nvcc. */
    static final String NOT_BUILT = "kernels not built: nvcc was not found at build time";

    private static volatile String initFailure; // null = not tried yet or fine
    private static volatile boolean initialized;

    /** Loads the fatbin from the classpath, or null when the build had no nvcc. */
    static byte[] fatbin() {
        try (InputStream in = CudaRuntime.class.getResourceAsStream(FATBIN_RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    /** True when the kernel resource is on the classpath (no native code touched). */
    static boolean kernelsBuilt() {
        return CudaRuntime.class.getResource(FATBIN_RESOURCE) != null;
    }

    /**
     * Loads JCuda's driver binding and calls cuInit once; returns null on success, else a one-line
     * reason starting with "no CUDA driver/device: ".
     */
    static synchronized String init() {
        if (initialized) return null;
        if (initFailure != null) return initFailure;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            if (count[0] < 1) {
                initFailure = "no CUDA driver/device: the CUDA driver reports no device";
                return initFailure;
            }
            initialized = true;
            return null;
        } catch (UnsatisfiedLinkError e) {
            // JCuda's native library links against libcuda.so.1, which only an NVIDIA driver installs
            initFailure = "no CUDA driver/device: the NVIDIA driver (libcuda.so.1) is not installed";
            return initFailure;
        } catch (Throwable t) {
            initFailure = "no CUDA driver/device: " + oneLine(t);
            return initFailure;
        }
    }

    /** The CUDA version the kernels were built for, encoded as the driver API does (13.0 = 13000); 0 if unknown. */
    static int kernelsCudaVersion() {
        try (InputStream in = CudaRuntime.class.getResourceAsStream(NVCC_RESOURCE)) {
            return in == null ? 0 : parseVersion(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return 0;
        }
    }

    /** "13.0" to 13000, "12.4" to 12040; 0 when it is not a version. */
    static int parseVersion(String text) {
        String[] parts = text.strip().split("\\.");
        try {
            return parts.length == 2 ? Integer.parseInt(parts[0]) * 1000 + Integer.parseInt(parts[1]) * 10 : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** 13000 to "13.0". */
    static String versionText(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    /** The CUDA version the driver supports (after a successful {@link #init()}), 0 when it cannot say. */
    static int driverVersion() {
        if (init() != null) return 0;
        try {
            int[] v = new int[1];
            JCudaDriver.cuDriverGetVersion(v);
            return v[0];
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * Null when a driver supporting CUDA {@code driver} runs kernels built by nvcc {@code built}
     * (either 0: unknown, not checked); else what is wrong and the two ways out.
     */
    static String driverTooOld(int driver, int built) {
        if (driver == 0 || built == 0 || driver >= built) return null;
        return "the NVIDIA driver supports CUDA " + versionText(driver) + ", but the kernels were built by nvcc "
                + versionText(built) + " and need a CUDA " + versionText(built) + " driver"
                + (built / 1000 == 13 ? " (R580 or newer)" : "")
                + ": update the driver, or rebuild the kernels with your CUDA toolkit's nvcc"
                + " (NVCC=/usr/local/cuda/bin/nvcc mvn clean package -DskipTests)";
    }

    /** Devices visible to the driver (empty when {@link #init()} fails). */
    static List<DeviceInfo> devices() {
        List<DeviceInfo> list = new ArrayList<>();
        if (init() != null) return list;
        try {
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            int[] version = new int[1];
            JCudaDriver.cuDriverGetVersion(version);
            String platform = "CUDA " + versionText(version[0]);
            for (int i = 0; i < count[0]; i++) {
                CUdevice d = new CUdevice();
                JCudaDriver.cuDeviceGet(d, i);
                long[] mem = new long[1];
                JCudaDriver.cuDeviceTotalMem(mem, d);
                String name = deviceName(d);
                boolean emulated = CudaBackendProvider.isEmulated(name);
                list.add(new DeviceInfo(
                        i,
                        emulated ? platform + ", CPU emulator" : platform,
                        name + " (sm_" + computeCapability(d) + ")",
                        mem[0],
                        !emulated));
            }
        } catch (Throwable t) {
            list.clear();
        }
        return list;
    }

    static String deviceName(CUdevice d) {
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, d);
        int n = 0;
        while (n < name.length && name[n] != 0) n++;
        return new String(name, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    static int computeCapability(CUdevice d) {
        int[] major = new int[1], minor = new int[1];
        JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
        JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
        return major[0] * 10 + minor[0];
    }

    /** The first line of a throwable's message, prefixed by its simple class name when the message is empty. */
    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) m = t.getClass().getSimpleName();
        else if (!(t instanceof CudaException)) m = t.getClass().getSimpleName() + ": " + m;
        int nl = m.indexOf('\n');
        return (nl >= 0 ? m.substring(0, nl) : m).trim();
    }
}
