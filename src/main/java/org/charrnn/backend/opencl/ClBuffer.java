package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import org.jocl.Pointer;
import org.jocl.cl_mem;

/** A device buffer of {@code bytes} bytes; released by {@link #close()}. */
final class ClBuffer implements AutoCloseable, org.charrnn.backend.device.DeviceArray {
    final cl_mem mem;
    /** Pointer to {@link #mem}, made once: the kernel-argument form of this buffer. */
    final Pointer arg;

    final long bytes;
    private boolean closed;

    ClBuffer(cl_mem mem, long bytes) {
        this.mem = mem;
        this.arg = Pointer.to(mem);
        this.bytes = bytes;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    /** Number of floats the buffer holds. */
    long floats() {
        return bytes / 4;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            clReleaseMemObject(mem);
        }
    }
}
