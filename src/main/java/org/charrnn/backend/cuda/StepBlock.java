package org.charrnn.backend.cuda;

import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.function.Supplier;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUevent_record_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureStatus;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.device.DeviceArray;

/**
 * {@link StepValues} on the device: one block, [B] int64 window starts of the training workspace
 * then lr, bc1, bc2 and the dropout iteration, which the gather, dropout and optimizer kernels read
 * (so a captured step reads each step's values when replayed). The block is copied from a pinned
 * host copy of the mirror: {@link #flush} (before a launch that reads the block) stages and copies
 * it where the mirror changed; a whole step ({@link #stage}, then {@link #copiedIn}) copies it as
 * the first work of the step's graph, on a stream of its own beside the main stream's first work,
 * which the first launch that reads the block waits for, so that a replay queues no copy of its
 * own and the copy reads the values staged before that replay. The host stages over the pinned
 * copy only once the last copy from it has run ({@link #copied}), so a step still queued keeps its
 * values.
 */
final class StepBlock implements AutoCloseable {
    final StepValues values = new StepValues();
    private final CUstream stream;
    private final Supplier<CUstream> current; // the stream the next launch goes to (the side's inside side work)
    private final Runnable synchronize; // waits for the queued work (which may read the block)
    private final String model;
    private final CUstream beside = new CUstream(); // a whole step's copy, beside the main stream's first work
    private final CUevent forked = new CUevent(); // the main stream's work before that copy
    private final CUevent joinable = new CUevent(); // after that copy: what a reading launch waits for
    private final CUevent copied = new CUevent(); // after each copy, for the host (in a graph: at each replay)
    private boolean unjoined; // a whole step's copy that no launch has waited for yet
    private DeviceBuffer block; // [StepValues.bytes()]
    private Pointer host; // [StepValues.bytes()] pinned: the copies' source, read when a copy runs
    private LongBuffer staged; // host's words, written by stage (one view per allocation, not per step)

    StepBlock(CUstream stream, Supplier<CUstream> current, String model, Runnable synchronize) {
        this.stream = stream;
        this.current = current;
        this.model = model;
        this.synchronize = synchronize;
        JCudaDriver.cuStreamCreate(beside, CUstream_flags.CU_STREAM_NON_BLOCKING);
        for (CUevent e : new CUevent[] {forked, joinable, copied})
            JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING);
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

    /**
     * Before a launch that reads the block: that launch's stream (and the main stream) wait for a
     * whole step's copy not yet waited for; the block is staged and copied on the main stream if the
     * mirror changed since it was last staged.
     */
    void flush() {
        join();
        if (stage()) {
            JCudaDriver.cuMemcpyHtoDAsync(block.ptr, host, values.bytes(), stream);
            JCudaDriver.cuEventRecord(copied, stream);
        }
    }

    /**
     * Writes the mirror into the pinned copy if it changed since it was last staged, once the last
     * copy queued from it has run (a step queued and not yet started keeps its values): true if it
     * changed. Never inside a capture (it may wait on the stream).
     */
    boolean stage() {
        if (!values.takeChanged()) return false;
        JCudaDriver.cuEventSynchronize(copied);
        staged.put(0, values.words());
        return true;
    }

    /** {@code step} after {@link #copy}, then {@link #join} (a step that read none of the values). */
    Runnable copiedIn(Runnable step) {
        return () -> {
            copy();
            step.run();
            join();
        };
    }

    /**
     * A whole step's copy of the pinned copy into the block, on its own stream after the main
     * stream's work so far (which may read the block), then the record of {@link #copied}; in a
     * capture these become nodes of the graph beside its first work, which copy what is staged when
     * the graph replays. The first launch that reads the block waits for it ({@link #flush}), the
     * step's end at the latest ({@link #join}).
     */
    void copy() {
        JCudaDriver.cuEventRecord(forked, stream);
        JCudaDriver.cuStreamWaitEvent(beside, forked, 0);
        JCudaDriver.cuMemcpyHtoDAsync(block.ptr, host, values.bytes(), beside);
        // in a capture a plain record only orders its streams: the host's event must be a node of the graph
        int[] capture = new int[1];
        JCudaDriver.cuStreamIsCapturing(beside, capture);
        if (capture[0] == CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_ACTIVE)
            JCudaDriver.cuEventRecordWithFlags(copied, beside, CUevent_record_flags.CU_EVENT_RECORD_EXTERNAL);
        else JCudaDriver.cuEventRecord(copied, beside);
        JCudaDriver.cuEventRecord(joinable, beside);
        unjoined = true;
    }

    /**
     * The current stream, and the main stream where that is the side's, wait for a whole step's copy
     * no launch has waited for yet (a capture's fork into the copy's stream then joins the main one).
     */
    void join() {
        if (!unjoined) return;
        CUstream s = current.get();
        JCudaDriver.cuStreamWaitEvent(s, joinable, 0);
        if (s != stream) JCudaDriver.cuStreamWaitEvent(stream, joinable, 0);
        unjoined = false;
    }

    private void allocate() {
        block = DeviceBuffer.allocate(values.bytes(), "step values (window starts, lr, iteration)", model);
        host = new Pointer();
        JCudaDriver.cuMemAllocHost(host, values.bytes());
        staged = host.getByteBuffer(0, values.bytes())
                .order(ByteOrder.nativeOrder())
                .asLongBuffer();
    }

    private void free() {
        block.close();
        JCudaDriver.cuMemFreeHost(host);
    }

    @Override
    public void close() {
        free();
        for (CUevent e : new CUevent[] {forked, joinable, copied}) JCudaDriver.cuEventDestroy(e);
        JCudaDriver.cuStreamDestroy(beside);
    }
}
