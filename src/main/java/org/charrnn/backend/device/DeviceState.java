package org.charrnn.backend.device;

import org.charrnn.backend.HostFloats;
import org.charrnn.backend.RnnState;

/** The recurrent state of B streams on the device: one array [L,S,B,H] (S = 2 for LSTM: h then c). */
final class DeviceState implements RnnState {
    private final DeviceRnn owner;
    private final int batch;
    private final int size; // L*S*B*H
    final DeviceArray array;
    private boolean released;

    DeviceState(DeviceRnn owner, int batch) {
        this.owner = owner;
        this.batch = batch;
        this.size = owner.config().stateSizePerRow() * batch;
        this.array = owner.ops().alloc(4L * size, "recurrent state (B=" + batch + ")");
    }

    DeviceRnn owner() {
        return owner;
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public void reset() {
        owner.flushedRun("state reset", () -> owner.ops().fill(Ref.of(array), size, 0f));
    }

    @Override
    public double[] read() {
        return owner.flushed("state read", () -> HostFloats.toDouble(owner.ops().download(Ref.of(array), size)));
    }

    @Override
    public void write(double[] values) {
        if (values.length != size)
            throw new IllegalArgumentException("state has " + size + " values, got " + values.length);
        owner.flushedRun("state write", () -> owner.ops().upload(Ref.of(array), HostFloats.toFloat(values)));
    }

    @Override
    public void copyFrom(RnnState other) {
        DeviceState o = owner.own(other);
        if (o.batch != batch) throw new IllegalArgumentException("batch mismatch: " + o.batch + " vs " + batch);
        owner.flushedRun("state copy", () -> owner.ops().copy(Ref.of(array), Ref.of(o.array), size));
    }

    @Override
    public void close() {
        if (released || owner.isClosed()) return;
        released = true;
        owner.flushedRun("state close", () -> {
            owner.ops().synchronize();
            owner.ops().free(array);
        });
    }
}
