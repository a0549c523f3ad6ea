package org.charrnn.backend.cuda;

import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUevent_record_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureStatus;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.device.DeviceArray;

/**
 * {@link StepValues} on the device: one block, [B] int64 window starts of the training workspace
 * then lr, bc1, bc2 and the dropout iteration, which the gather, dropout and optimizer kernels read
 * (so a captured step reads each step's values when replayed). The block is copied from a pinned
 * host copy of the mirror: {@link #flush} (before a launch that reads the block) stages and copies
 * it where the mirror changed; a whole step ({@link #stage}, then {@link #copy} as the step's first
 * work) copies it inside the step's graph, so that a replay queues no copy of its own and the
 * copy reads the values staged before that replay. The host stages over the pinned copy only once
 * the last copy from it has run ({@link #copied}), so a step still queued keeps its values.
 */
final class StepBlock implements AutoCloseable {
    final StepValues values = new StepValues();
    private final CUstream stream;
    private final Runnable synchronize; // waits for the queued work (which may read the block)
    private final String model;
    private final CUevent copied = new CUevent(); // recorded after each copy (in a graph: at each replay)
    private DeviceBuffer block; // [StepValues.bytes()]
    private Pointer host; // [StepValues.bytes()] pinned: the copies' source, read when a copy runs

    StepBlock(CUstream stream, String model, Runnable synchronize) {
        this.stream = stream;
        this.model = model;
        this.synchronize = synchronize;
        JCudaDriver.cuEventCreate(copied, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        allocate();
    }

    /**
     * The training workspace's starts [B]: this block, moved to a new allocation of room for B when
     * B changed (after the queued work that may read the old one). Its address is the step's: a
     * recorded step that read the old one is stale, as with any buffer of a reallocated workspace.
     */
    DeviceArray starts(int B) {
        if (B != values.batch()) {
            synchronize.run();
            free();
            values.resize(B);
            allocate();
        }
        return block;
    }

    /** Whether {@code a} is this block (the training workspace's starts). */
    boolean holds(DeviceArray a) {
        return a == block;
    }

    /** The kernels' {@code hyper} [3]: lr, bc1, bc2. */
    CUdeviceptr hyper() {
        return block.at(values.scalarsOffset() / 4);
    }

    /** The dropout iteration (uint32). */
    CUdeviceptr iteration() {
        return block.at(values.scalarsOffset() / 4 + 3);
    }

    /** Stages and copies the block on the stream if the mirror changed since it was last staged. */
    void flush() {
        if (stage()) copy();
    }

    /**
     * Writes the mirror into the pinned copy if it changed since it was last staged, once the last
     * copy queued from it has run (a step queued and not yet started keeps its values): true if it
     * changed. Never inside a capture (it may wait on the stream).
     */
    boolean stage() {
        if (!values.takeChanged()) return false;
        JCudaDriver.cuEventSynchronize(copied);
        host.getByteBuffer(0, values.bytes())
                .order(ByteOrder.nativeOrder())
                .asLongBuffer()
                .put(values.words());
        return true;
    }

    /**
     * Queues the copy of the pinned copy into the block, then the record of {@link #copied}; in a
     * capture both become nodes of the graph (the record an event record node, which each replay
     * records), which copy what is staged when the graph replays.
     */
    void copy() {
        JCudaDriver.cuMemcpyHtoDAsync(block.ptr, host, values.bytes(), stream);
        // in a capture a plain record only orders its streams: the host's event must be a node of the graph
        int[] capture = new int[1];
        JCudaDriver.cuStreamIsCapturing(stream, capture);
        if (capture[0] == CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_ACTIVE)
            JCudaDriver.cuEventRecordWithFlags(copied, stream, CUevent_record_flags.CU_EVENT_RECORD_EXTERNAL);
        else JCudaDriver.cuEventRecord(copied, stream);
    }

    private void allocate() {
        block = DeviceBuffer.allocate(values.bytes(), "step values (window starts, lr, iteration)", model);
        host = new Pointer();
        JCudaDriver.cuMemAllocHost(host, values.bytes());
    }

    private void free() {
        block.close();
        JCudaDriver.cuMemFreeHost(host);
    }

    @Override
    public void close() {
        free();
        JCudaDriver.cuEventDestroy(copied);
    }
}
