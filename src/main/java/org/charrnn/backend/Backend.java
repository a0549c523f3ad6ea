package org.charrnn.backend;

import org.charrnn.data.TokenSequence;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;

/**
 * A compute backend for one model: holds the flat parameters, gradients and optimizer state in
 * {@link ParamLayout} order, and runs whole windows, so the trainer never loops over timesteps and a
 * GPU backend can run a window as one graph.
 *
 * <p>A training iteration is {@code forward(state, w, true)}, {@code backward()},
 * {@code clip(mode, max)}, {@code step(lr, t)}. Calls may be queued asynchronously on a device:
 * only {@link #loss()}, {@link #gradNorm()} and the host copies synchronize.
 *
 * <p>Host arrays are double; backends computing in float convert on transfer.
 */
public interface Backend extends AutoCloseable {

    /** "reference", "cuda" or "opencl". */
    String name();

    /** Human-readable device, for example "NVIDIA H100 80GB HBM3" or "Java (2 threads)". */
    String deviceName();

    /** Arithmetic this backend computes in. */
    Precision precision();

    ModelConfig config();

    ParamLayout layout();

    // ------------------------------------------------------------------ parameters and state

    /** params = values, [numParams] in layout order. */
    void setParameters(double[] values);

    /** Host copy of the parameters, [numParams]. */
    double[] getParameters();

    /**
     * Host copy of the gradients of the last {@link #backward()}, [numParams]; after {@link #clip} it
     * holds the clipped gradients.
     */
    double[] getGradients();

    /** Host copy of dL/d(initial state) of the last backward, [L][S][B][H] as {@link RnnState#read()}. */
    double[] getInitialStateGradient();

    /**
     * Host copy of dL/d(first input) [B,E] of the last backward, when its forward's window had a
     * {@link Window#firstInput()}; empty otherwise.
     */
    double[] getFirstInputGradient();

    /** A new zeroed state for {@code batch} streams. */
    RnnState newState(int batch);

    /** Makes {@code tokens} resident on this backend. */
    TokenBuffer upload(TokenSequence tokens);

    // ------------------------------------------------------------------ training

    /**
     * Forward over a [T,B] window starting from {@code state}; on return {@code state} holds the
     * state after step T-1 (carried into the next window). Computes the mean cross-entropy over the
     * T*B predictions (over the counted ones when {@link Window#ignoreTarget()} leaves some out). With {@code training}, dropout is applied and the activations backward needs
     * are saved (replacing those of any earlier forward).
     */
    void forward(RnnState state, Window window, boolean training);

    /** Mean cross-entropy in nats/char of the last forward (synchronizes). */
    double loss();

    /**
     * Gradients of the last training forward's mean loss: grads = dL/dparams (written, not
     * accumulated), and dL/d(initial state). Requires a preceding forward with training = true.
     */
    void backward();

    /**
     * Clips the gradients of the last backward: computes the pre-clip global L2 norm (kept on the
     * device), then NORM scales by min(1, max/(norm + 1e-6)) and VALUE clamps to [-max, max]. The
     * scaling may be deferred into {@link #step}; {@link #getGradients()} always shows clipped values.
     */
    void clip(ClipMode mode, double max);

    /** Pre-clip global L2 norm of the last backward's gradients (synchronizes). NaN or Inf when they are not finite. */
    double gradNorm();

    /** Selects the optimizer and zeroes its state. */
    void setOptimizer(OptimizerConfig optimizer);

    /**
     * One optimizer update with learning rate {@code lr}; {@code t} (1-based) is the update count
     * used for Adam's bias correction. The update is skipped, leaving parameters and optimizer
     * state unchanged, when the gradient norm is not finite.
     */
    void step(double lr, long t);

    /** Host copies of the optimizer state arrays, in {@link OptimizerKind#slots()} order, each [numParams]. */
    double[][] getOptimizerState();

    /** Overwrites the optimizer state (same shapes as {@link #getOptimizerState()}). */
    void setOptimizerState(double[][] slots);

    // ------------------------------------------------------------------ inference

    /**
     * One step for B streams without dropout: feeds tokens[B], advances {@code state} and returns
     * the logits [B,V] (row-major).
     */
    double[] stepLogits(RnnState state, int[] tokens);

    /** Blocks until every queued operation has finished (for timing); a no-op on the reference. */
    default void synchronize() {}

    /**
     * Measures device time of the work queued between {@link #start()} and {@link #stopMillis()}
     * (CUDA: events recorded on the backend's stream; elsewhere: the host clock around a
     * {@link Backend#synchronize()}). {@code stopMillis} waits for the work to finish.
     */
    interface Timer extends AutoCloseable {
        void start();

        double stopMillis();

        @Override
        default void close() {}

        /** The host clock from start() to a {@code synchronize} run by stopMillis(). */
        static Timer hostClock(Runnable synchronize) {
            return new Timer() {
                private long t0;

                @Override
                public void start() {
                    t0 = System.nanoTime();
                }

                @Override
                public double stopMillis() {
                    synchronize.run();
                    return (System.nanoTime() - t0) / 1e6;
                }
            };
        }
    }

    /** A timer for this backend's device work (see {@link Timer}). */
    default Timer timer() {
        return Timer.hostClock(this::synchronize);
    }

    /** Peak memory this backend has allocated for the model so far, in bytes (device memory on GPUs, heap arrays on the reference). */
    default long peakMemoryBytes() {
        return 0;
    }

    /** Releases every native resource. */
    @Override
    void close();
}
