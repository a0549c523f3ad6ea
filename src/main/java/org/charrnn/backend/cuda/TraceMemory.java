package org.charrnn.backend.cuda;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.charrnn.backend.device.DeviceArray;

/**
 * The device memory a {@link StepTrace} holds, as the CUDA backend would allocate it: the
 * orchestration's buffers (each {@link #alloc} until its {@link #free}) and the backend's own,
 * which CudaOps allocates beside them ({@link #hold}: its cuBLAS workspace, the norm's partial sums
 * and tickets and the step values' block from the start; the side stream's cuBLAS workspace once
 * the stream opens; the row-stationary persistent backward's exchange for each batch size), and
 * the most held at once: what {@link DeviceBuffer#peakBytes} reports on a device.
 */
final class TraceMemory {
    private final Map<DeviceArray, Long> buffers = new IdentityHashMap<>(); // the orchestration's
    private final Map<String, Long> held = new HashMap<>(); // the backend's own, by what they are
    private long live, peak;

    /**
     * A trace's memory from the CUDA backend's start: CudaOps's cuBLAS workspace, the norm's partial
     * sums and tickets, and the step values' block, as yet for no window's starts.
     */
    static TraceMemory cudaBackend() {
        TraceMemory m = new TraceMemory();
        m.hold("cuBLAS workspace", Gemm.WORKSPACE);
        m.hold("norm partial sums", LaunchShapes.PARTIALS_BYTES);
        m.hold("reduction tickets", LaunchShapes.TICKETS_BYTES);
        m.hold("step values", new StepValues().bytes());
        return m;
    }

    /** As SideStream.openIf: the side stream's cuBLAS workspace, held from its first use on; returns {@code wanted}. */
    boolean sideStream(boolean wanted) {
        if (wanted) hold("side stream cuBLAS workspace", SideStream.WORKSPACE);
        return wanted;
    }

    /** As StepBlock.starts: the step values' block moves to room for B starts. */
    void stepValues(int B) {
        hold("step values", 8L * (B + StepValues.SCALAR_WORDS));
    }

    /** An allocation of {@code bytes}, at least 4 as {@link DeviceBuffer#allocate} makes it. */
    DeviceArray alloc(long bytes) {
        long n = Math.max(4, bytes);
        DeviceArray a = () -> bytes; // equal only to itself, as a device's buffers are
        buffers.put(a, n);
        add(n);
        return a;
    }

    /** Frees an allocation of {@link #alloc}. */
    void free(DeviceArray a) {
        Long n = buffers.remove(a);
        if (n != null) live -= n;
    }

    /**
     * The backend's buffer {@code what} of {@code bytes} (at least 4), in place of what it held
     * before (the step values' block moves to room for a new batch size, the old one freed first).
     */
    void hold(String what, long bytes) {
        Long before = held.put(what, Math.max(4, bytes));
        if (before != null) live -= before;
        add(Math.max(4, bytes));
    }

    /** The most held at once so far, bytes. */
    long peakBytes() {
        return peak;
    }

    private void add(long bytes) {
        live += bytes;
        peak = Math.max(peak, live);
    }
}
