package org.charrnn.backend.device;

import java.util.Objects;

/**
 * A position in device memory: element {@code offset} (4-byte elements) of {@code array}. Every
 * tensor argument of {@link DeviceOps} is a Ref, so the orchestration addresses slices (timestep
 * t of a [T,B,H] buffer, a parameter tensor inside the flat parameter buffer) without knowing how
 * the device forms pointers.
 */
public record Ref(DeviceArray array, long offset) {

    public Ref {
        Objects.requireNonNull(array, "array");
        if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
    }

    /** Element 0 of {@code array}. */
    public static Ref of(DeviceArray array) {
        return new Ref(array, 0);
    }

    /** This position moved {@code elements} further. */
    public Ref plus(long elements) {
        return elements == 0 ? this : new Ref(array, offset + elements);
    }
}
