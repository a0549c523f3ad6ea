package org.charrnn.backend.device;

import org.charrnn.backend.TokenBuffer;
import org.charrnn.data.TokenSequence;

/** The encoded corpus resident on the device: u8 per token when V <= 256, else u16. */
final class DeviceTokens implements TokenBuffer {
    private final DeviceRnn owner;
    private final DeviceArray array;
    private final long length;
    private final boolean u16;
    private boolean released;

    DeviceTokens(DeviceRnn owner, TokenSequence seq) {
        int V = owner.config().vocabSize();
        this.owner = owner;
        this.length = seq.length();
        this.u16 = V > 256;
        this.array = owner.ops().uploadTokens(seq, V);
    }

    DeviceRnn owner() {
        return owner;
    }

    DeviceArray array() {
        return array;
    }

    boolean u16() {
        return u16;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public void close() {
        if (released || owner.isClosed()) return;
        released = true;
        owner.flushedRun("token buffer close", () -> {
            owner.ops().synchronize();
            owner.ops().free(array);
        });
    }
}
