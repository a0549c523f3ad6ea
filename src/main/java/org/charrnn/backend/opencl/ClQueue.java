package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.charrnn.util.UserError;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * An in-order command queue on one device with its own kernel objects ({@link ClKernels}: kernel
 * arguments are per-object state, so every backend owns its kernels) and buffer allocation.
 * Allocation and enqueue failures for lack of memory become {@link UserError}s naming the size and
 * {@link #context}.
 */
final class ClQueue implements AutoCloseable {
    /** System property overriding the kernel variant choice: "gpu" or "cpu" (tests, diagnosis). */
    static final String VARIANT_PROPERTY = "charrnn.opencl.kernels";

    /**
     * Which implementation of the GEMM, softmax-cross-entropy, column-sum, embedding and cell
     * kernels runs. CPU OpenCL runtimes (PoCL's pthread device) run a work-group as a loop on one
     * core and emulate local memory and barriers, so the variants for them use neither, and give
     * each work-item a float16 vector of work.
     */
    enum Variant {
        /**
         * gemm_tiled, softmax_xent (a work-group per row), column_sum, embedding_forward and
         * embedding_backward, the per-element cell kernels: the choice on GPUs.
         */
        GPU,
        /**
         * gemm_cpu_r* ({@link ClGemm}; B not transposed, transB falls back to gemm_tiled), softmax_xent_rows,
         * column_sum_vec128, embedding_forward_vec16, embedding_backward_vec16, the *_vec16 cell
         * kernels: the choice on CPU devices.
         */
        CPU
    }

    final ClProgram program;
    final cl_command_queue queue;
    private final ClKernels kernels;
    private final ClCellKernels cells;
    private final List<ClBuffer> owned = new ArrayList<>();
    private final Supplier<String> context;
    /** Power-of-two work-group size of the reduction kernels (<= 256). */
    final int reduceLocal;
    /** The kernel variant of the GEMM, softmax-cross-entropy, column-sum and embedding-backward launchers. */
    final Variant variant;

    private long allocated;
    private boolean closed;
    private long peak;
    /** Scratch of fill patterns: clEnqueueFillBuffer copies the value before it returns. */
    private final float[] floatScratch = new float[1];

    private final Pointer floatArg = Pointer.to(floatScratch);

    /** A queue with the device's kernel variant (or the one -Dcharrnn.opencl.kernels names). */
    ClQueue(ClProgram program, Supplier<String> context) {
        this(program, context, variant(program.device, System.getProperty(VARIANT_PROPERTY)));
    }

    @SuppressWarnings("deprecation")
    ClQueue(ClProgram program, Supplier<String> context, Variant variant) {
        this.program = program;
        this.variant = variant;
        this.context = context;
        this.queue = clCreateCommandQueue(program.context, program.device.deviceId(), 0, null);
        int wg = 1;
        while (2L * wg <= Math.min(256, program.device.maxWorkGroup())) wg *= 2;
        this.reduceLocal = wg;
        ClKernels k = null;
        try {
            k = new ClKernels(this);
            this.cells = new ClCellKernels(this);
        } catch (RuntimeException e) {
            if (k != null) k.close();
            clReleaseCommandQueue(queue);
            throw e;
        }
        this.kernels = k;
    }

    /** CPU on CPU devices, GPU otherwise, unless {@code override} ("gpu"/"cpu") says. */
    static Variant variant(ClDevice device, String override) {
        if (override != null && !override.isBlank()) {
            for (Variant v : Variant.values()) if (v.name().equalsIgnoreCase(override.trim())) return v;
            throw new UserError("-D" + VARIANT_PROPERTY + "=" + override + ": expected gpu or cpu");
        }
        return device.cpu() ? Variant.CPU : Variant.GPU;
    }

    /** True when A W^T products should use a transposed copy of W (so gemm_cpu_r* apply). */
    boolean prefersTransposedWeights() {
        return variant == Variant.CPU;
    }

    ClDevice device() {
        return program.device;
    }

    // ------------------------------------------------------------------ buffers

    /** A zero-filled device buffer of {@code floats} 4-byte elements (at least one), owned by this queue. */
    ClBuffer alloc(long floats, String what) {
        return allocBytes(Math.max(1, floats) * 4L, what);
    }

    ClBuffer allocBytes(long bytes, String what) {
        ClDevice d = program.device;
        if (bytes > d.maxAlloc())
            throw outOfMemory(
                    bytes, what, "larger than the device's largest allocation (" + size(d.maxAlloc()) + ")", null);
        cl_mem m;
        try {
            m = clCreateBuffer(program.context, CL_MEM_READ_WRITE, bytes, null, null);
        } catch (CLException e) {
            throw translate(e, bytes, what);
        }
        ClBuffer b = new ClBuffer(m, bytes);
        owned.add(b);
        allocated += bytes;
        peak = Math.max(peak, allocated);
        try {
            fill(b, 0f);
        } catch (UserError e) {
            release(b);
            throw e;
        }
        return b;
    }

    /** Releases {@code b} now (it is no longer owned by this queue). */
    void release(ClBuffer b) {
        if (b == null) return;
        if (owned.remove(b)) allocated -= b.bytes;
        b.close();
    }

    long allocatedBytes() {
        return allocated;
    }

    /** Largest total of live buffers allocated through this queue. */
    long peakBytes() {
        return peak;
    }

    private RuntimeException translate(CLException e, long bytes, String what) {
        int s = e.getStatus();
        if (s == CL_MEM_OBJECT_ALLOCATION_FAILURE
                || s == CL_OUT_OF_RESOURCES
                || s == CL_OUT_OF_HOST_MEMORY
                || s == CL_INVALID_BUFFER_SIZE) return outOfMemory(bytes, what, stringFor_errorCode(s), e);
        return e;
    }

    private UserError outOfMemory(long bytes, String what, String why, Throwable cause) {
        ClDevice d = program.device;
        return UserError.naming(
                String.format(
                        Locale.ROOT,
                        "out of OpenCL device memory: cannot allocate %s for %s on %s (%s global memory, %s already allocated"
                                + " by this backend; %s) for model %s; use a smaller {Batching.batch}, {Batching.seqLen} or model",
                        size(bytes),
                        what,
                        d.name(),
                        size(d.globalMemory()),
                        size(allocated),
                        why,
                        context.get()),
                cause);
    }

    static String size(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        return bytes + " bytes";
    }

    void fill(ClBuffer b, float value) {
        fill(b, value, 0, b.floats());
    }

    void fill(ClBuffer b, float value, long offFloats, long floats) {
        if (floats <= 0) return;
        floatScratch[0] = value;
        run(
                () -> clEnqueueFillBuffer(
                        queue, b.mem, floatArg, Sizeof.cl_float, offFloats * 4, floats * 4, 0, null, null),
                "fill");
    }

    void copy(ClBuffer src, long srcOff, ClBuffer dst, long dstOff, long floats) {
        if (floats <= 0) return;
        run(
                () -> clEnqueueCopyBuffer(queue, src.mem, dst.mem, srcOff * 4, dstOff * 4, floats * 4, 0, null, null),
                "copy");
    }

    /** rows of cols floats, src's srcPitch apart from srcOff, to dst's dstPitch apart from dstOff (one rectangle copy). */
    void copyRows(
            ClBuffer src, long srcOff, long srcPitch, ClBuffer dst, long dstOff, long dstPitch, int rows, long cols) {
        if (rows <= 0 || cols <= 0) return;
        long[] srcOrigin = {srcOff * 4, 0, 0}, dstOrigin = {dstOff * 4, 0, 0}, region = {cols * 4, rows, 1};
        run(
                () -> clEnqueueCopyBufferRect(
                        queue,
                        src.mem,
                        dst.mem,
                        srcOrigin,
                        dstOrigin,
                        region,
                        srcPitch * 4,
                        0,
                        dstPitch * 4,
                        0,
                        0,
                        null,
                        null),
                "copy rows");
    }

    void write(ClBuffer dst, long offFloats, float[] src) {
        if (src.length == 0) return;
        run(
                () -> clEnqueueWriteBuffer(
                        queue, dst.mem, CL_TRUE, offFloats * 4, src.length * 4L, Pointer.to(src), 0, null, null),
                "write");
    }

    void writeInts(ClBuffer dst, int[] src) {
        run(
                () -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, 0, src.length * 4L, Pointer.to(src), 0, null, null),
                "write");
    }

    void writeLongs(ClBuffer dst, long[] src) {
        run(
                () -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, 0, src.length * 8L, Pointer.to(src), 0, null, null),
                "write");
    }

    void writeBytes(ClBuffer dst, long offBytes, byte[] src, int n) {
        run(() -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, offBytes, n, Pointer.to(src), 0, null, null), "write");
    }

    float[] read(ClBuffer src, long offFloats, int floats) {
        float[] out = new float[floats];
        if (floats > 0)
            run(
                    () -> clEnqueueReadBuffer(
                            queue, src.mem, CL_TRUE, offFloats * 4, floats * 4L, Pointer.to(out), 0, null, null),
                    "read");
        return out;
    }

    void finish() {
        run(() -> clFinish(queue), "finish");
    }

    // ------------------------------------------------------------------ kernels

    /** The typed kernel launchers of this queue. */
    ClKernels kernels() {
        return kernels;
    }

    /** The typed launchers of the cell kernels of this queue. */
    ClCellKernels cells() {
        return cells;
    }

    /** Enqueues kernel {@code k} (named {@code name} in errors); global rounded up to a multiple of local. */
    void enqueue(cl_kernel k, String name, long[] global, long[] local) {
        long[] g = new long[global.length];
        for (int d = 0; d < g.length; d++) g[d] = (global[d] + local[d] - 1) / local[d] * local[d];
        run(() -> clEnqueueNDRangeKernel(queue, k, g.length, null, g, local, 0, null, null), name);
    }

    private void run(Runnable r, String what) {
        try {
            r.run();
        } catch (CLException e) {
            int s = e.getStatus();
            if (s == CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL_OUT_OF_RESOURCES || s == CL_OUT_OF_HOST_MEMORY)
                throw UserError.naming(
                        "OpenCL device " + program.device.name() + " ran out of memory in " + what + " ("
                                + stringFor_errorCode(s) + ", " + size(allocated)
                                + " allocated by this backend) for model "
                                + context.get() + "; use a smaller {Batching.batch}, {Batching.seqLen} or model",
                        e);
            throw e;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (ClBuffer b : owned) b.close();
        owned.clear();
        kernels.close();
        cells.close();
        clReleaseCommandQueue(queue);
    }
}
