package org.charrnn.backend.device;

import org.charrnn.backend.Backend;

/** A device's timer behind its backend's guards: deferred work runs before each mark. */
final class DeviceTimer implements Backend.Timer {
    private final DeviceRnn owner;
    private final Backend.Timer inner;
    private boolean started, released;

    DeviceTimer(DeviceRnn owner, Backend.Timer inner) {
        this.owner = owner;
        this.inner = inner;
    }

    @Override
    public void start() {
        owner.flushedRun("timer start", inner::start);
        started = true;
    }

    @Override
    public double stopMillis() {
        if (!started) throw new IllegalStateException("stopMillis() before start()");
        started = false;
        return owner.flushed("timer stop", inner::stopMillis);
    }

    @Override
    public void close() {
        if (released || owner.isClosed()) return; // closing the backend released the device's timers
        released = true;
        owner.run("timer close", inner::close);
    }
}
