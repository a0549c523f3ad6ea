package org.charrnn.backend.opencl;

import org.charrnn.backend.HostFloats;
import org.charrnn.backend.RnnState;

/** Recurrent state on the device: one buffer [L][S][B][H] (S = 2 for LSTM: h then c). */
final class OpenClState implements RnnState {
    private final OpenClBackend owner;
    private final int batch;
    final ClBuffer buffer;   // [L][S][B][H]
    private final int size;

    OpenClState(OpenClBackend owner, int batch, ClBuffer buffer) {
        this.owner = owner;
        this.batch = batch;
        this.buffer = buffer;
        this.size = owner.config().stateSizePerRow() * batch;
    }

    OpenClBackend owner() { return owner; }

    /** Element offset of vector s (0 = h, 1 = c) of layer l. */
    int offset(int l, int s) {
        return (l * owner.config().cell().stateVectors() + s) * batch * owner.config().hidden();
    }

    @Override public int batch() { return batch; }

    @Override public void reset() { owner.queue().fill(buffer, 0f, 0, size); }

    @Override public double[] read() { return HostFloats.toDouble(owner.queue().read(buffer, 0, size)); }

    @Override
    public void write(double[] values) {
        if (values.length != size) throw new IllegalArgumentException("expected " + size + " state values, got " + values.length);
        owner.queue().write(buffer, 0, HostFloats.toFloat(values));
    }

    @Override
    public void copyFrom(RnnState other) {
        if (!(other instanceof OpenClState o) || o.owner != owner || o.batch != batch)
            throw new IllegalArgumentException("copyFrom needs a state of the same backend and batch");
        owner.queue().copy(o.buffer, 0, buffer, 0, size);
    }

    @Override
    public void close() { owner.queue().release(buffer); }
}
