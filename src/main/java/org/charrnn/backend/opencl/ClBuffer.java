package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import org.jocl.cl_mem;

/** A device buffer of {@code bytes} bytes; released by {@link #close()}. */
final class ClBuffer implements AutoCloseable {
    final cl_mem mem;
    final long bytes;
    private boolean closed;

    ClBuffer(cl_mem mem, long bytes) {
        this.mem = mem;
        this.bytes = bytes;
    }

    /** Number of floats the buffer holds. */
    long floats() { return bytes / 4; }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            clReleaseMemObject(mem);
        }
    }
}
