package org.charrnn.backend.device;

import org.charrnn.backend.ClipMode;
import org.charrnn.backend.HostFloats;
import org.charrnn.backend.OptimizerConfig;

/**
 * The optimizer of a device backend: its configuration and its state arrays on the device (each
 * [P], in {@link org.charrnn.backend.OptimizerKind#slots()} order), replaced whole when the
 * optimizer changes; and what a step does after the backward: the gradients' clip and the fused
 * update of the parameters.
 */
final class DeviceOptimizer {
    private final DeviceOps ops;
    private final int P;
    private final DeviceArray params, grads; // [P] each, the model's flat parameters and gradients
    private OptimizerConfig config;
    private DeviceArray[] slots = new DeviceArray[0];

    DeviceOptimizer(DeviceOps ops, int P, DeviceArray params, DeviceArray grads) {
        this.ops = ops;
        this.P = P;
        this.params = params;
        this.grads = grads;
    }

    /** norm (=) the global L2 norm of the gradients; VALUE clipping clamps them in place (NORM is applied in the update). */
    void clip(ClipMode mode, double max, DeviceArray norm) {
        ops.globalNorm(Ref.of(grads), P, Ref.of(norm));
        if (mode == ClipMode.VALUE) ops.clipValue(Ref.of(grads), P, (float) max, Ref.of(norm));
    }

    /**
     * The fused update of optimizer {@code o} over its state as it is when this runs (lr and bias
     * corrections from {@link OptimizerKernels#setHyper}).
     */
    void update(OptimizerConfig o, DeviceArray norm, ClipMode clip, double clipMax) {
        Ref[] state = new Ref[slots.length];
        for (int i = 0; i < slots.length; i++) state[i] = Ref.of(slots[i]);
        int byNorm = clip == ClipMode.NORM ? 1 : 0; // NORM clipping scales the gradients inside the update
        ops.optimizers().step(o, Ref.of(params), Ref.of(grads), state, P, Ref.of(norm), byNorm, (float) clipMax);
        ops.weightsChanged();
    }

    OptimizerConfig config() {
        return config;
    }

    DeviceArray[] slots() {
        return slots;
    }

    /**
     * Switches to {@code o} with zeroed state. The new state is allocated first: if it does not fit,
     * the old optimizer stays intact.
     */
    void set(OptimizerConfig o) {
        int n = o.kind().slots().size();
        DeviceArray[] fresh = new DeviceArray[n];
        try {
            for (int i = 0; i < n; i++)
                fresh[i] =
                        ops.alloc(4L * P, "optimizer state " + o.kind().slots().get(i));
        } catch (RuntimeException e) {
            for (DeviceArray a : fresh) ops.free(a);
            throw e;
        }
        ops.synchronize();
        for (DeviceArray s : slots) ops.free(s);
        slots = fresh;
        config = o;
    }

    /** Host copies of the state arrays. */
    double[][] read() {
        double[][] out = new double[slots.length][];
        for (int i = 0; i < slots.length; i++) out[i] = HostFloats.toDouble(ops.download(Ref.of(slots[i]), P));
        return out;
    }

    /** Checks {@code values} against the state's shape (IllegalArgumentException), before any write. */
    void checkShape(double[][] values) {
        if (values.length != slots.length)
            throw new IllegalArgumentException("optimizer has " + slots.length + " state arrays, got " + values.length);
        for (double[] v : values)
            if (v.length != P) throw new IllegalArgumentException("optimizer state size mismatch");
    }

    /** Overwrites the state arrays (shape checked by {@link #checkShape}). */
    void write(double[][] values) {
        for (int i = 0; i < slots.length; i++) ops.upload(Ref.of(slots[i]), HostFloats.toFloat(values[i]));
    }
}
