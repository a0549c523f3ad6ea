package org.charrnn.backend.cuda;

import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;

/**
 * {@link StepTrace}'s per-step values and optimizer, as the CUDA backend has them: the training
 * window's starts, lr, bias corrections and dropout iteration kept as one {@link StepValues} block
 * and priced as one host copy when an operation that reads them ({@link #flush}) runs after they
 * changed, or in a whole step as a copy node of its graph beside the main stream's first work ({@link
 * #copyInStep}); the update priced as a kernel over its arrays.
 */
final class TracedStepValues implements OptimizerKernels {
    /** Where the trace takes a priced operation: its part, name and µs. */
    interface Priced {
        void add(StepPart part, String name, double us);
    }

    private final StepCostModel.Rates rates;
    private final Priced priced;
    private final Priced beside; // an operation beside the main stream's (a whole step's copy) until joined
    private final Runnable joinBeside; // the main stream waits for it
    private final StepValues values = new StepValues();
    private DeviceArray starts; // the training workspace's, equal only to itself

    TracedStepValues(StepCostModel.Rates rates, Priced priced, Priced beside, Runnable joinBeside) {
        this.rates = rates;
        this.priced = priced;
        this.beside = beside;
        this.joinBeside = joinBeside;
    }

    /** The training workspace's starts [B]: the block, resized. */
    DeviceArray starts(int B) {
        values.resize(B);
        long bytes = values.bytes();
        starts = () -> bytes;
        return starts;
    }

    /** True (and kept for the next copy) where {@code dst} is the block's starts; else the caller copies. */
    boolean uploadStarts(DeviceArray dst, long[] src) {
        if (dst != starts) return false;
        values.starts(src);
        return true;
    }

    void iteration(int iteration) {
        values.iteration(iteration);
    }

    /**
     * Before a read of the block: the wait for a whole step's copy beside the main stream, and the
     * block's copy, priced as one host copy where it changed since the last one.
     */
    void flush() {
        joinBeside.run();
        if (values.takeChanged()) priced.add(StepPart.HOST, "upload step values", rates.hostCopyUs());
    }

    /** As {@link StepBlock#stage}: the mirror into the pinned copy on the host, no copy queued (priced as nothing). */
    void stage() {
        values.takeChanged();
    }

    /**
     * As {@link StepBlock#copy} inside a whole step: a copy node of the step's graph beside the main
     * stream's first work, priced as a node's floor, until a read of the block ({@link #flush}).
     */
    void copyInStep() {
        beside.add(StepPart.KERNELS, "copy step values", rates.kernelUs(values.bytes()));
    }

    @Override
    public void setHyper(float lr, float biasCorrection1, float biasCorrection2) {
        values.hyper(lr, biasCorrection1, biasCorrection2);
    }

    @Override
    public void step(OptimizerConfig o, Ref p, Ref g, Ref[] slots, int n, Ref norm, int clipMode, float clipMax) {
        flush();
        // p read and written, g read, each state slot read and written
        priced.add(StepPart.UPDATE, o.kind().id() + "_step", rates.kernelUs(4.0 * n * (3 + 2 * slots.length)));
    }
}
