package org.charrnn.backend.cuda;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.device.TokenBytes;
import org.charrnn.data.TokenSequence;
import org.charrnn.util.UserError;

/** One cuMemAlloc'd region; freed by {@link #close()}. Offsets of the helpers are in elements of 4 bytes. */
final class DeviceBuffer implements AutoCloseable, org.charrnn.backend.device.DeviceArray {
    final CUdeviceptr ptr;
    final long bytes;
    private boolean closed;

    /** Bytes held by live buffers of this process, and the most ever held at once. */
    private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();

    private static final java.util.concurrent.atomic.AtomicLong PEAK = new java.util.concurrent.atomic.AtomicLong();

    /** The most device memory held in DeviceBuffers at once since the last {@link #resetPeak()}, in bytes. */
    static long peakBytes() {
        return PEAK.get();
    }

    /** Restarts the high-water mark at what is live now (a new backend measures its own peak). */
    static void resetPeak() {
        PEAK.set(LIVE.get());
    }

    private DeviceBuffer(CUdeviceptr ptr, long bytes) {
        this.ptr = ptr;
        this.bytes = bytes;
    }

    /**
     * Allocates {@code bytes} (at least 4); out of memory becomes a one-line {@link UserError} naming
     * the request, {@code what} and the model.
     */
    static DeviceBuffer allocate(long bytes, String what, String model) {
        // exactly the bytes asked for (cuMemAlloc aligns every allocation itself): a kernel that runs one
        // element past a buffer then faults on the emulated device's guard page instead of passing
        long n = Math.max(4, bytes);
        CUdeviceptr p = new CUdeviceptr();
        try {
            JCudaDriver.cuMemAlloc(p, n);
        } catch (CudaException e) {
            if (String.valueOf(e.getMessage()).contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) {
                long[] free = new long[1], total = new long[1];
                String info = "";
                try {
                    JCudaDriver.cuMemGetInfo(free, total);
                    info = String.format(" (%.1f MiB free of %.1f MiB)", free[0] / 1048576.0, total[0] / 1048576.0);
                } catch (CudaException ignored) {
                    // the request's size and the model are the useful part of the message
                }
                throw UserError.naming(
                        String.format(
                                "out of GPU memory: %s needs %.1f MiB%s for model %s; "
                                        + "reduce {Batching.batch}, {Batching.seqLen}, {ModelSpec.hidden} or {ModelSpec.layers}",
                                what, n / 1048576.0, info, model),
                        e);
            }
            throw new UserError("CUDA error allocating " + n + " bytes for " + what + ": " + CudaRuntime.oneLine(e), e);
        }
        PEAK.accumulateAndGet(LIVE.addAndGet(n), Math::max);
        return new DeviceBuffer(p, n);
    }

    @Override
    public long bytes() {
        return bytes;
    }

    static DeviceBuffer floats(long count, String what, String model) {
        return allocate(count * Sizeof.FLOAT, what, model);
    }

    /** Device pointer {@code index} 4-byte elements into the buffer. */
    CUdeviceptr at(long index) {
        return index == 0 ? ptr : ptr.withByteOffset(index * 4);
    }

    void fill(int bits, long count, CUstream stream) {
        JCudaDriver.cuMemsetD32Async(ptr, bits, count, stream);
    }

    void upload(float[] src, long index, CUstream stream) {
        JCudaDriver.cuMemcpyHtoDAsync(at(index), Pointer.to(src), (long) src.length * Sizeof.FLOAT, stream);
    }

    /** Synchronizes {@code stream}, then copies {@code count} floats from {@code index}. */
    /**
     * The corpus {@code seq} as u8 or u16 symbols (TokenBytes) in a new buffer of exactly its bytes
     * (not zero-filled: every byte is written, so a gather past the corpus end faults on the
     * emulated device's guard page), copied in chunks on {@code stream} so that the kernels queued
     * after it see them (a synchronous copy runs on the legacy stream, which a non-blocking stream
     * does not wait for); an async copy from pageable memory is staged before it returns, so each
     * chunk may be reused. On a failure the buffer is freed and the exception rethrown.
     */
    static DeviceBuffer tokens(TokenSequence seq, int vocab, String model, CUstream stream) {
        long bytes = seq.length() * TokenBytes.width(vocab);
        DeviceBuffer b = allocate(Math.max(1, bytes), "corpus (" + seq.length() + " tokens)", model);
        try {
            TokenBytes.encode(
                    seq,
                    vocab,
                    (off, chunk, n) ->
                            JCudaDriver.cuMemcpyHtoDAsync(b.ptr.withByteOffset(off), Pointer.to(chunk), n, stream));
        } catch (RuntimeException e) {
            JCudaDriver.cuStreamSynchronize(stream);
            b.close();
            throw e;
        }
        return b;
    }

    float[] download(long index, int count, CUstream stream) {
        float[] dst = new float[count];
        JCudaDriver.cuStreamSynchronize(stream);
        if (count > 0) JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), at(index), (long) count * Sizeof.FLOAT);
        return dst;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        JCudaDriver.cuMemFree(ptr);
        LIVE.addAndGet(-bytes);
    }
}
