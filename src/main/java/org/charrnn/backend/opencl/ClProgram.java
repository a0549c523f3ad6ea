package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import java.util.List;
import java.util.function.Consumer;
import org.charrnn.util.UserError;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/** A context on one device and the charrnn program built for it (shared by every backend on the device). */
final class ClProgram implements AutoCloseable {
    final ClDevice device;
    final cl_context context;
    final cl_program program;
    /** True when the program was loaded from a cached binary, false when it was compiled from source. */
    final boolean fromCache;

    private ClProgram(ClDevice device, cl_context context, cl_program program, boolean fromCache) {
        this.device = device;
        this.context = context;
        this.program = program;
        this.fromCache = fromCache;
    }

    /**
     * The program of {@code source} on {@code device}: loaded from {@code cache} when it holds a
     * binary for this device, driver, build options and source that the driver accepts, else
     * compiled and its binary stored there; a null {@code cache}: compiled. {@code log} gets the
     * cache's warnings.
     */
    static ClProgram build(ClDevice device, String source, ClBinaryCache cache, Consumer<String> log) {
        cl_context ctx = clCreateContext(null, 1, new cl_device_id[] {device.deviceId()}, null, null, null);
        try {
            if (cache == null) return new ClProgram(device, ctx, fromSource(ctx, device, source), false);
            String key = ClBinaryCache.key(identity(device), ClRuntime.BUILD_OPTIONS, source);
            byte[] cached = cache.read(key);
            cl_program prog = cached == null ? null : fromBinary(ctx, device, cached);
            if (prog != null) return new ClProgram(device, ctx, prog, true);
            prog = fromSource(ctx, device, source);
            byte[] built = binary(prog);
            if (built != null) cache.write(key, built, log);
            return new ClProgram(device, ctx, prog, false);
        } catch (RuntimeException e) {
            clReleaseContext(ctx);
            throw e;
        }
    }

    /** What a binary depends on besides the source and options: platform, device and driver. */
    static List<String> identity(ClDevice d) {
        cl_device_id id = d.deviceId();
        return List.of(
                d.platformName(),
                ClDevice.platformString(d.platformId(), CL_PLATFORM_VERSION),
                d.name(),
                ClDevice.deviceString(id, CL_DEVICE_VENDOR),
                ClDevice.deviceString(id, CL_DEVICE_VERSION),
                ClDevice.deviceString(id, CL_DRIVER_VERSION));
    }

    /** The program built from a cached binary, or null when the driver rejects the binary (stale or damaged). */
    private static cl_program fromBinary(cl_context ctx, ClDevice device, byte[] binary) {
        cl_device_id[] devs = {device.deviceId()};
        cl_program prog;
        try {
            prog = clCreateProgramWithBinary(
                    ctx, 1, devs, new long[] {binary.length}, new byte[][] {binary}, new int[1], null);
        } catch (CLException e) {
            return null; // CL_INVALID_BINARY and the like: compile from source, which replaces the file
        }
        try {
            clBuildProgram(prog, 1, devs, ClRuntime.BUILD_OPTIONS, null, null);
            return prog;
        } catch (CLException e) {
            clReleaseProgram(prog);
            return null; // the driver cannot link this binary (another version wrote it): compile from source
        }
    }

    private static cl_program fromSource(cl_context ctx, ClDevice device, String source) {
        cl_program prog = clCreateProgramWithSource(ctx, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(prog, 1, new cl_device_id[] {device.deviceId()}, ClRuntime.BUILD_OPTIONS, null, null);
        } catch (CLException e) {
            String log = buildLog(prog, device.deviceId());
            clReleaseProgram(prog);
            throw new UserError(
                    "building the OpenCL kernels failed on " + device.name() + " (" + e.getMessage()
                            + "); compiler log:\n" + log,
                    e);
        }
        return prog;
    }

    /** The built program's binary for its one device, or null when the driver offers none. */
    private static byte[] binary(cl_program prog) {
        try {
            return binaryOf(prog);
        } catch (CLException e) {
            return null; // a driver without program binaries: nothing to cache, the program itself is fine
        }
    }

    private static byte[] binaryOf(cl_program prog) {
        long[] size = new long[1];
        if (Sizeof.size_t == 8) {
            clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
        } else {
            int[] s32 = new int[1];
            clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(s32), null);
            size[0] = s32[0] & 0xFFFFFFFFL;
        }
        if (size[0] <= 0 || size[0] > Integer.MAX_VALUE - 64) return null;
        byte[] binary = new byte[(int) size[0]];
        clGetProgramInfo(prog, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(Pointer.to(binary)), null);
        return binary;
    }

    private static String buildLog(cl_program prog, cl_device_id dev) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            return ClDevice.cString(buf);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        clReleaseProgram(program);
        clReleaseContext(context);
    }
}
