package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.charrnn.util.UserError;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * An in-order command queue on one device with its own kernel objects (kernel arguments are
 * per-object state, so every backend owns its kernels), buffer allocation and typed launches.
 * Allocation and enqueue failures for lack of memory become {@link UserError}s naming the size and
 * {@link #context}.
 */
final class ClQueue implements AutoCloseable {
    /** Work-group size of the 1-D elementwise kernels. */
    static final int LOCAL_1D = 64;
    /** Work-group size (along N) of gemm_rows8/16: 8 work-items, measured best on PoCL. */
    static final int GEMM_ROWS_LOCAL = 8;
    /** Smallest M for which gemm_rows16 (16-row blocks) runs instead of gemm_rows8. */
    static final int GEMM_ROWS16_MIN_M = 256;
    /** System property overriding the kernel variant choice: "gpu" or "cpu" (tests, diagnosis). */
    static final String VARIANT_PROPERTY = "charrnn.opencl.kernels";

    /**
     * Which implementation of the GEMM, softmax-cross-entropy and column-sum kernels runs. CPU
     * OpenCL runtimes (PoCL's pthread device) run a work-group as a loop on one core and emulate
     * local memory and barriers, so the variants for them use neither.
     */
    enum Variant {
        /** gemm_tiled, softmax_xent (a work-group per row), column_sum, embedding_backward: the choice on GPUs. */
        GPU,
        /**
         * gemm_rows8/16 (B not transposed; transB falls back to gemm_tiled), softmax_xent_rows,
         * column_sum_vec16, embedding_backward_vec16: the choice on CPU devices.
         */
        CPU
    }

    final ClProgram program;
    final cl_command_queue queue;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final List<ClBuffer> owned = new ArrayList<>();
    private final Supplier<String> context;
    /** Power-of-two work-group size of the reduction kernels (<= 256). */
    final int reduceLocal;
    /** The kernel variant of {@link #gemm}, {@link #softmaxXent}, {@link #columnSum}, {@link #embeddingBackward}. */
    final Variant variant;
    private long allocated;
    private boolean closed;
    private long peak;
    /**
     * Scratch for scalar kernel arguments and fill patterns, reused by every launch: clSetKernelArg
     * and clEnqueueFillBuffer copy the value before they return, so no launch allocates them.
     */
    private final int[] intScratch = new int[1];
    private final float[] floatScratch = new float[1];
    private final Pointer intArg = Pointer.to(intScratch), floatArg = Pointer.to(floatScratch);

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
        while (wg * 2 <= Math.min(256, program.device.maxWorkGroup())) wg *= 2;
        this.reduceLocal = wg;
    }

    /** CPU on CPU devices, GPU otherwise, unless {@code override} ("gpu"/"cpu") says. */
    static Variant variant(ClDevice device, String override) {
        if (override != null && !override.isBlank()) {
            for (Variant v : Variant.values()) if (v.name().equalsIgnoreCase(override.trim())) return v;
            throw new UserError("-D" + VARIANT_PROPERTY + "=" + override + ": expected gpu or cpu");
        }
        return device.cpu() ? Variant.CPU : Variant.GPU;
    }

    /** True when A W^T products should use a transposed copy of W (so gemm_rows8/16 apply). */
    boolean prefersTransposedWeights() { return variant == Variant.CPU; }

    ClDevice device() { return program.device; }

    // ------------------------------------------------------------------ buffers

    /** A zero-filled device buffer of {@code floats} 4-byte elements (at least one), owned by this queue. */
    ClBuffer alloc(long floats, String what) {
        return allocBytes(Math.max(1, floats) * 4L, what);
    }

    ClBuffer allocBytes(long bytes, String what) {
        ClDevice d = program.device;
        if (bytes > d.maxAlloc())
            throw outOfMemory(bytes, what, "larger than the device's largest allocation (" + size(d.maxAlloc()) + ")", null);
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

    long allocatedBytes() { return allocated; }

    /** Largest total of live buffers allocated through this queue. */
    long peakBytes() { return peak; }

    private RuntimeException translate(CLException e, long bytes, String what) {
        int s = e.getStatus();
        if (s == CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL_OUT_OF_RESOURCES || s == CL_OUT_OF_HOST_MEMORY
                || s == CL_INVALID_BUFFER_SIZE)
            return outOfMemory(bytes, what, stringFor_errorCode(s), e);
        return e;
    }

    private UserError outOfMemory(long bytes, String what, String why, Throwable cause) {
        ClDevice d = program.device;
        return new UserError(String.format(Locale.ROOT,
                "out of OpenCL device memory: cannot allocate %s for %s on %s (%s global memory, %s already allocated"
                        + " by this backend; %s) for model %s; use a smaller --batch, --seq or model",
                size(bytes), what, d.name(), size(d.globalMemory()), size(allocated), why, context.get()), cause);
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
        run(() -> clEnqueueFillBuffer(queue, b.mem, floatArg, Sizeof.cl_float, offFloats * 4, floats * 4, 0, null, null),
                "fill");
    }

    void copy(ClBuffer src, long srcOff, ClBuffer dst, long dstOff, long floats) {
        if (floats <= 0) return;
        run(() -> clEnqueueCopyBuffer(queue, src.mem, dst.mem, srcOff * 4, dstOff * 4, floats * 4, 0, null, null), "copy");
    }

    void write(ClBuffer dst, long offFloats, float[] src) {
        if (src.length == 0) return;
        run(() -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, offFloats * 4, src.length * 4L, Pointer.to(src),
                0, null, null), "write");
    }

    void writeInts(ClBuffer dst, int[] src) {
        run(() -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, 0, src.length * 4L, Pointer.to(src), 0, null, null), "write");
    }

    void writeLongs(ClBuffer dst, long[] src) {
        run(() -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, 0, src.length * 8L, Pointer.to(src), 0, null, null), "write");
    }

    void writeBytes(ClBuffer dst, long offBytes, byte[] src, int n) {
        run(() -> clEnqueueWriteBuffer(queue, dst.mem, CL_TRUE, offBytes, n, Pointer.to(src), 0, null, null), "write");
    }

    float[] read(ClBuffer src, long offFloats, int floats) {
        float[] out = new float[floats];
        if (floats > 0)
            run(() -> clEnqueueReadBuffer(queue, src.mem, CL_TRUE, offFloats * 4, floats * 4L, Pointer.to(out), 0, null, null),
                    "read");
        return out;
    }

    void finish() { run(() -> clFinish(queue), "finish"); }

    // ------------------------------------------------------------------ kernels

    private cl_kernel kernel(String name) {
        return kernels.computeIfAbsent(name, n -> clCreateKernel(program.program, n, null));
    }

    /**
     * Launches {@code name} with arguments in order: {@link ClBuffer} (cl_mem), Integer (int),
     * Float (float); {@code global}/{@code local} per dimension (global rounded up to local).
     */
    void launch(String name, long[] global, long[] local, Object... args) {
        cl_kernel k = kernel(name);
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof ClBuffer b) {
                clSetKernelArg(k, i, Sizeof.cl_mem, b.arg);
            } else if (a instanceof Integer v) {
                intScratch[0] = v;
                clSetKernelArg(k, i, Sizeof.cl_int, intArg);
            } else if (a instanceof Float v) {
                floatScratch[0] = v;
                clSetKernelArg(k, i, Sizeof.cl_float, floatArg);
            } else throw new IllegalArgumentException("unsupported kernel argument " + a);
        }
        long[] g = new long[global.length];
        for (int d = 0; d < g.length; d++) g[d] = (global[d] + local[d] - 1) / local[d] * local[d];
        run(() -> clEnqueueNDRangeKernel(queue, k, g.length, null, g, local, 0, null, null), name);
    }

    /** 1-D launch of {@code n} work-items (no-op for n == 0). */
    void launch1(String name, long n, Object... args) {
        if (n <= 0) return;
        launch(name, new long[] {n}, new long[] {LOCAL_1D}, args);
    }

    /** demb [V,E] (at dembOff, =) = per-token sums of dout [N,E] rows (at doutOff) selected by x [N]. */
    void embeddingBackward(ClBuffer x, ClBuffer dout, int doutOff, ClBuffer demb, int dembOff, int N, int V, int E) {
        if (V <= 0 || E <= 0) return;
        if (variant == Variant.CPU)
            launch("embedding_backward_vec16", new long[] {(E + 15) / 16, V}, new long[] {1, 1}, x, dout, doutOff, demb,
                    dembOff, N, V, E);
        else
            launch1("embedding_backward", (long) V * E, x, dout, doutOff, demb, dembOff, N, V, E);
    }

    /** 2-D launch of a cell kernel (lstm/gru *_step): global (H, B), dimension 0 along the hidden unit. */
    void launchCell(String name, int B, int H, Object... args) {
        if (B <= 0 || H <= 0) return;
        launch(name, new long[] {H, B}, new long[] {H >= 64 ? 64 : 16, 1}, args);
    }

    /**
     * Row-major C [M,N] = alpha op(A) op(B) + beta C with element offsets (see gemm.cl): gemm_rows8/16
     * for the CPU variant when B is not transposed, else gemm_tiled.
     */
    void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, ClBuffer A, int aOff, int lda,
              ClBuffer B, int bOff, int ldb, float beta, ClBuffer C, int cOff, int ldc) {
        if (M == 0 || N == 0) return;
        if (K == 0) {
            // op(A) op(B) is zero: C = beta C
            if (beta == 0f) for (int i = 0; i < M; i++) fill(C, 0f, cOff + (long) i * ldc, N);
            else if (beta != 1f) throw new IllegalArgumentException("K = 0 with beta != 0, 1");
            return;
        }
        if (variant == Variant.CPU && !transB) {
            int rm = M >= GEMM_ROWS16_MIN_M ? 16 : 8;
            launch(rm == 16 ? "gemm_rows16" : "gemm_rows8", new long[] {(N + 15) / 16, (M + rm - 1) / rm},
                    new long[] {GEMM_ROWS_LOCAL, 1},
                    transA ? 1 : 0, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
            return;
        }
        launch("gemm_tiled", new long[] {(N + 63) / 64 * 16L, (M + 63) / 64 * 16L}, new long[] {16, 16},
                transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
    }

    /**
     * softmax_xent (see loss.cl) over logits [N,V] at {@code lOff}: adds the bias at {@code bOff},
     * writes rowLoss [N] and, if {@code writeGrad}, the scaled gradient in place.
     */
    void softmaxXent(ClBuffer logits, int lOff, ClBuffer bias, int bOff, ClBuffer y, ClBuffer rowLoss, int N, int V,
                     float gradScale, boolean writeGrad) {
        if (N <= 0) return;
        if (variant == Variant.CPU)
            launch("softmax_xent_rows", new long[] {N}, new long[] {16}, logits, lOff, bias, bOff, y, rowLoss, N, V,
                    gradScale, writeGrad ? 1 : 0);
        else
            launch("softmax_xent", new long[] {(long) N * reduceLocal}, new long[] {reduceLocal}, logits, lOff, bias,
                    bOff, y, rowLoss, N, V, gradScale, writeGrad ? 1 : 0);
    }

    /** out [C] (at outOff) = beta out + column sums of a [N,C] (at aOff), in increasing n. */
    void columnSum(ClBuffer a, int aOff, ClBuffer out, int outOff, int N, int C, float beta) {
        if (C <= 0) return;
        if (variant == Variant.CPU)
            launch("column_sum_vec16", new long[] {(C + 15) / 16}, new long[] {4}, a, aOff, out, outOff, N, C, beta);
        else
            launch1("column_sum", C, a, aOff, out, outOff, N, C, beta);
    }

    /** dst [cols,rows] (contiguous) = src [rows,cols]^T (contiguous), with element offsets. */
    void transpose(ClBuffer src, int srcOff, int rows, int cols, ClBuffer dst, int dstOff) {
        if (rows <= 0 || cols <= 0) return;
        launch("transpose", new long[] {cols, rows}, new long[] {16, 1}, src, srcOff, rows, cols, dst, dstOff);
    }

    private void run(Runnable r, String what) {
        try {
            r.run();
        } catch (CLException e) {
            int s = e.getStatus();
            if (s == CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL_OUT_OF_RESOURCES || s == CL_OUT_OF_HOST_MEMORY)
                throw new UserError("OpenCL device " + program.device.name() + " ran out of memory in " + what + " ("
                        + stringFor_errorCode(s) + ", " + size(allocated) + " allocated by this backend) for model "
                        + context.get() + "; use a smaller --batch, --seq or model", e);
            throw e;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (ClBuffer b : owned) b.close();
        owned.clear();
        for (cl_kernel k : kernels.values()) clReleaseKernel(k);
        kernels.clear();
        clReleaseCommandQueue(queue);
    }
}
