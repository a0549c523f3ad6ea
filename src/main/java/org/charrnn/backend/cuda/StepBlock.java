package org.charrnn.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.device.DeviceArray;

/**
 * {@link StepValues} on the device: one block, [B] int64 window starts of the training workspace
 * then lr, bc1, bc2 and the dropout iteration, which the gather, dropout and optimizer kernels read
 * (so a captured step reads each step's values when replayed). {@link #flush} copies the block on
 * the stream when the mirror changed; the owner calls it before every launch that reads the block
 * and before a whole-step graph, never inside a capture (nothing is left to copy there).
 */
final class StepBlock implements AutoCloseable {
    final StepValues values = new StepValues();
    private final CUstream stream;
    private final Runnable synchronize; // waits for the queued work (which may read the block)
    private final String model;
    private DeviceBuffer block; // [StepValues.bytes()]

    StepBlock(CUstream stream, String model, Runnable synchronize) {
        this.stream = stream;
        this.model = model;
        this.synchronize = synchronize;
        this.block = allocate();
    }

    /**
     * The training workspace's starts [B]: this block, moved to a new allocation of room for B when
     * B changed (after the queued work that may read the old one). Its address is the step's: a
     * recorded step that read the old one is stale, as with any buffer of a reallocated workspace.
     */
    DeviceArray starts(int B) {
        if (B != values.batch()) {
            synchronize.run();
            block.close();
            values.resize(B);
            block = allocate();
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

    /** Copies the block to the device on the stream if the mirror changed since the last copy. */
    void flush() {
        if (values.takeChanged())
            JCudaDriver.cuMemcpyHtoDAsync(block.ptr, Pointer.to(values.words()), values.bytes(), stream);
    }

    private DeviceBuffer allocate() {
        return DeviceBuffer.allocate(values.bytes(), "step values (window starts, lr, iteration)", model);
    }

    @Override
    public void close() {
        block.close();
    }
}
