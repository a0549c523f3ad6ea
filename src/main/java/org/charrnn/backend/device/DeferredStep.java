package org.charrnn.backend.device;

import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;

/**
 * A training forward, backward and clip held back until the optimizer step arrives, so that a
 * device that records steps (CUDA graphs) can run the four as one unit. {@link #flush()} runs what
 * is held back eagerly; the owner calls it before anything that observes or changes device state.
 */
final class DeferredStep {
    private enum Stage {
        NONE,
        FORWARD,
        BACKWARD,
        CLIP
    }

    /** What a whole step depends on besides the per-step values kept in device memory. */
    record Key(
            int T,
            int B,
            DeviceState state,
            DeviceTokens tokens,
            int ignoreTarget,
            boolean firstInput,
            ClipMode clip,
            double clipMax,
            OptimizerConfig optimizer,
            int generation) {}

    private final RnnPasses passes;
    private final DeviceOptimizer optimizer; // the clip's
    private final Workspace train;
    private final DeviceArray norm;
    private Stage stage = Stage.NONE;
    private DeviceState state;
    private ClipMode clip;
    private double clipMax;

    DeferredStep(RnnPasses passes, DeviceOptimizer optimizer, Workspace train, DeviceArray norm) {
        this.passes = passes;
        this.optimizer = optimizer;
        this.train = train;
        this.norm = norm;
    }

    /** Holds back a training forward of {@code train} from {@code st}. */
    void forward(DeviceState st) {
        stage = Stage.FORWARD;
        state = st;
    }

    /** Holds back the backward when the forward is held back; false when the caller must run it. */
    boolean backward() {
        if (stage != Stage.FORWARD) return false;
        stage = Stage.BACKWARD;
        return true;
    }

    /** Holds back the clip when forward and backward are held back; false when the caller must run it. */
    boolean clip(ClipMode mode, double max) {
        if (stage != Stage.BACKWARD) return false;
        stage = Stage.CLIP;
        clip = mode;
        clipMax = max;
        return true;
    }

    /** True when forward, backward and clip are all held back: the step can run whole. */
    boolean complete() {
        return stage == Stage.CLIP;
    }

    /** The key of the complete step, for a device that records it. */
    Key key(OptimizerConfig optimizer, int generation) {
        return new Key(
                train.T,
                train.B,
                state,
                train.tokens,
                train.ignoreTarget,
                train.firstInputOn,
                clip,
                clipMax,
                optimizer,
                generation);
    }

    /**
     * Takes the complete step out of this holder (nothing is held back afterwards, whether the
     * device then runs the returned work or replays a recording of it): forward, backward, clip,
     * then {@code update}.
     */
    Runnable takeWhole(Runnable update) {
        stage = Stage.NONE;
        DeviceState st = state;
        ClipMode mode = clip;
        double max = clipMax;
        return () -> {
            passes.forwardBackward(train, st.array);
            optimizer.clip(mode, max, norm);
            update.run();
        };
    }

    /** Runs whatever is held back, now. */
    void flush() {
        Stage s = stage;
        stage = Stage.NONE;
        if (s == Stage.NONE) return;
        if (s == Stage.FORWARD) passes.forward(train, state.array, true, true, true);
        else passes.forwardBackward(train, state.array);
        if (s == Stage.CLIP) optimizer.clip(clip, clipMax, norm);
    }

    /** Drops what is held back (the backend is closing). */
    void clear() {
        stage = Stage.NONE;
    }
}
