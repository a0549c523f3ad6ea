package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import org.charrnn.util.UserError;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/** A context on one device and the charrnn program built for it (shared by every backend on the device). */
final class ClProgram implements AutoCloseable {
    final ClDevice device;
    final cl_context context;
    final cl_program program;

    private ClProgram(ClDevice device, cl_context context, cl_program program) {
        this.device = device;
        this.context = context;
        this.program = program;
    }

    static ClProgram build(ClDevice device, String source) {
        cl_context ctx = clCreateContext(null, 1, new cl_device_id[] {device.deviceId()}, null, null, null);
        cl_program prog = clCreateProgramWithSource(ctx, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(prog, 1, new cl_device_id[] {device.deviceId()}, ClRuntime.BUILD_OPTIONS, null, null);
        } catch (CLException e) {
            String log = buildLog(prog, device.deviceId());
            clReleaseProgram(prog);
            clReleaseContext(ctx);
            throw new UserError(
                    "building the OpenCL kernels failed on " + device.name() + " (" + e.getMessage()
                            + "); compiler log:\n" + log,
                    e);
        }
        return new ClProgram(device, ctx, prog);
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
