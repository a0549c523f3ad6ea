package org.charrnn.backend.opencl;

import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clSetKernelArg;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.Ref;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;

/**
 * Creates kernels of a queue's program, sets a kernel's arguments in order, with their types, and
 * launches it on the queue: the one place the typed launchers of {@link ClKernels} and
 * {@link ClCellKernels} go through. One instance is
 * reused for every launch of its owner (no allocation per launch).
 */
final class ClArgs {
    /** Work-group size of the 1-D elementwise kernels. */
    static final int LOCAL_1D = 64;

    private final ClQueue q;
    /** Scratch of scalar arguments: clSetKernelArg copies the value before it returns. */
    private final int[] intScratch = new int[1];

    private final float[] floatScratch = new float[1];
    private final Pointer intArg = Pointer.to(intScratch), floatArg = Pointer.to(floatScratch);
    private final List<cl_kernel> kernels = new ArrayList<>();
    private cl_kernel k;
    private int i;

    ClArgs(ClQueue q) {
        this.q = q;
    }

    /** Creates kernel {@code name} of the queue's program; released by {@link #releaseKernels()}. */
    cl_kernel kernel(String name) {
        cl_kernel kernel = clCreateKernel(q.program.program, name, null);
        kernels.add(kernel);
        return kernel;
    }

    /** Releases every kernel {@link #kernel} created. */
    void releaseKernels() {
        for (cl_kernel kernel : kernels) clReleaseKernel(kernel);
        kernels.clear();
    }

    /** Starts the arguments of {@code kernel} from the first. */
    ClArgs of(cl_kernel kernel) {
        k = kernel;
        i = 0;
        return this;
    }

    ClArgs mem(ClBuffer b) {
        clSetKernelArg(k, i++, Sizeof.cl_mem, b.arg);
        return this;
    }

    /** A buffer and its element offset (two kernel arguments). */
    ClArgs mem(ClBuffer b, int offset) {
        return mem(b).i32(offset);
    }

    /** A Ref as (base buffer, element offset). */
    ClArgs mem(Ref r) {
        return mem(buffer(r.array()), Math.toIntExact(r.offset()));
    }

    ClArgs i32(int v) {
        intScratch[0] = v;
        clSetKernelArg(k, i++, Sizeof.cl_int, intArg);
        return this;
    }

    ClArgs f32(float v) {
        floatScratch[0] = v;
        clSetKernelArg(k, i++, Sizeof.cl_float, floatArg);
        return this;
    }

    /** 1-D launch of n work-items in groups of {@link #LOCAL_1D} (no-op for n <= 0). */
    void run1(String name, long n) {
        if (n > 0) q.enqueue(k, name, new long[] {n}, new long[] {LOCAL_1D});
    }

    void run(String name, long[] global, long[] local) {
        q.enqueue(k, name, global, local);
    }

    /** The OpenCL buffer behind a device array of this backend. */
    static ClBuffer buffer(DeviceArray a) {
        if (a instanceof ClBuffer b) return b;
        throw new IllegalArgumentException("not an OpenCL buffer: " + a);
    }
}
