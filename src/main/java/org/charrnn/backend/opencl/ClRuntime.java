package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.charrnn.data.Datasets;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Process-wide OpenCL state: JOCL loading, device enumeration and one {@link ClProgram} per device,
 * built at first use from the kernel sources on the classpath (or loaded from the binary the first
 * build stored, {@link ClBinaryCache}) and kept for the process.
 */
final class ClRuntime {
    private ClRuntime() {}

    /** Kernel files, concatenated after common/cell_math.h into one program. */
    static final List<String> KERNEL_FILES = List.of(
            "embedding.cl",
            "lstm.cl",
            "gru.cl",
            "rnn.cl",
            "mut.cl",
            "loss.cl",
            "dropout.cl",
            "reduce.cl",
            "optim.cl",
            "gemm.cl",
            "window_cpu.cl");

    static final String BUILD_OPTIONS = "-cl-std=CL1.2 -DCR_MAX_WG=256";

    private static volatile List<ClDevice> devices;
    private static volatile String loadFailure;
    private static final Map<Integer, ClProgram> PROGRAMS = new ConcurrentHashMap<>();

    /** Loads JOCL and lists devices; returns null when OK, else a one-line reason. */
    static synchronized String init() {
        if (devices != null) return null;
        if (loadFailure != null) return loadFailure;
        loadFailure = OpenClLibrary.missingReason(
                System.getProperty("os.name"), OpenClLibrary.searchPath(System.getenv("LD_LIBRARY_PATH")));
        if (loadFailure != null) return loadFailure;
        try {
            CL.setExceptionsEnabled(true);
            int[] n = new int[1];
            try {
                clGetPlatformIDs(0, null, n);
            } catch (CLException e) {
                if (e.getStatus() == CL_PLATFORM_NOT_FOUND_KHR) n[0] = 0;
                else throw e;
            }
            List<ClDevice> list = new ArrayList<>();
            if (n[0] > 0) {
                cl_platform_id[] ps = new cl_platform_id[n[0]];
                clGetPlatformIDs(n[0], ps, null);
                for (cl_platform_id p : ps) {
                    int[] nd = new int[1];
                    try {
                        clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, nd);
                    } catch (CLException e) {
                        continue; // CL_DEVICE_NOT_FOUND: a platform without devices
                    }
                    cl_device_id[] ds = new cl_device_id[nd[0]];
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd[0], ds, null);
                    for (cl_device_id d : ds) list.add(ClDevice.query(list.size(), p, d));
                }
            }
            devices = Collections.unmodifiableList(list);
            return null;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            loadFailure = "cannot load the OpenCL library (libOpenCL.so): install an OpenCL ICD loader and a driver"
                    + " (for CPUs: apt-get install ocl-icd-opencl-dev pocl-opencl-icd)";
            return loadFailure;
        } catch (CLException e) {
            loadFailure = "OpenCL platform query failed: " + e.getMessage();
            return loadFailure;
        }
    }

    /** Every device of every platform (empty when OpenCL is unavailable). */
    static List<ClDevice> devices() {
        return init() == null ? devices : List.of();
    }

    /** The device for --device {@code index}; -1 picks the first GPU, else the first device. */
    static ClDevice select(int index) {
        String why = init();
        if (why != null) throw new UserError("opencl backend unavailable: " + why);
        List<ClDevice> ds = devices;
        if (ds.isEmpty())
            throw new UserError("opencl backend unavailable: no OpenCL platform or device found"
                    + " (for CPUs: apt-get install pocl-opencl-icd)");
        if (index < 0) {
            for (ClDevice d : ds) if (d.gpu()) return d;
            return ds.get(0);
        }
        if (index >= ds.size())
            throw UserError.naming("{BackendOptions.device} " + index + " does not exist: "
                    + (ds.size() == 1
                            ? "there is 1 OpenCL device (0)"
                            : "there are " + ds.size() + " OpenCL devices (0.." + (ds.size() - 1) + ")")
                    + "; see 'charrnn devices'");
        return ds.get(index);
    }

    /**
     * The built program of {@code device}, compiled on first use in this process or loaded from the
     * binary an earlier process stored in {@link #cacheDir()} (unless the driver keeps compiled
     * programs itself: {@link #driverCaches}); {@code log} gets the cache's warnings.
     */
    static ClProgram program(ClDevice device, Consumer<String> log) {
        return PROGRAMS.computeIfAbsent(device.index(), i -> {
            ClBinaryCache cache = driverCaches(device.platformName(), System.getenv("POCL_KERNEL_CACHE"))
                    ? null
                    : new ClBinaryCache(cacheDir());
            return ClProgram.build(device, source(), cache, log);
        });
    }

    /** Where program binaries are kept: opencl/ in the cache directory ($CHARRNN_HOME or ~/.cache/charrnn). */
    static Path cacheDir() {
        return Datasets.defaultCacheDir().resolve("opencl");
    }

    /**
     * Whether the platform keeps compiled programs across processes itself, so that a copy in
     * charrnn's cache would only cost: PoCL with its kernel cache on (its default; PoCL reads
     * {@code POCL_KERNEL_CACHE} as on when unset or starting with 1). To hand out a binary PoCL
     * compiles every kernel of the program, seconds on a small CPU, while its own cache already
     * spares later runs the compile.
     */
    static boolean driverCaches(String platformName, String poclKernelCache) {
        return platformName.equals("Portable Computing Language")
                && (poclKernelCache == null || poclKernelCache.startsWith("1"));
    }

    /** common/cell_math.h followed by every kernel file, from the classpath (/kernels/...). */
    static String source() {
        StringBuilder sb = new StringBuilder();
        sb.append(resource("common/cell_math.h")).append('\n');
        for (String f : KERNEL_FILES) sb.append(resource("opencl/" + f)).append('\n');
        return sb.toString();
    }

    private static String resource(String rel) {
        try (InputStream in = ClRuntime.class.getResourceAsStream("/kernels/" + rel)) {
            if (in != null) return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError("cannot read kernel resource /kernels/" + rel + ": " + IoErrors.reason(e), e);
        }
        // Development fallback: the kernels directory named by -Dcharrnn.kernels (set by the test runner).
        String dir = System.getProperty("charrnn.kernels");
        if (dir != null) {
            Path p = Path.of(dir, rel);
            try {
                if (Files.isRegularFile(p)) return Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UserError("cannot read kernel source " + p + ": " + IoErrors.reason(e), e);
            }
        }
        throw new UserError("kernel source /kernels/" + rel + " is missing from the classpath (broken build?)");
    }
}
