package org.charrnn.caption;

import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.Window;

/**
 * A caption model: a {@link Backend}'s LSTM/GRU/RNN stack, embedding and decoder, started from a
 * state conditioned on each caption's image ({@link StateProjection}). The training pass runs on
 * any backend: the projection's state is written into the backend's state, and its gradients come
 * from the backend's initial-state gradient.
 */
public final class ConditionedModel implements AutoCloseable {
    private final Backend backend;
    private final StateProjection projection;

    public ConditionedModel(Backend backend, StateProjection projection) {
        if (projection.layers() != backend.config().layers()
                || projection.hidden() != backend.config().hidden())
            throw new IllegalArgumentException("projection and model shapes differ");
        this.backend = backend;
        this.projection = projection;
    }

    public Backend backend() {
        return backend;
    }

    public StateProjection projection() {
        return projection;
    }

    /** Writes the conditioned initial state of B streams with features {@code feats} [B,F] into {@code state}. */
    public void condition(RnnState state, double[] feats) {
        state.write(projection.forward(feats, state.batch()));
    }

    /**
     * Training forward and backward of {@code window} (one caption per stream, padded with
     * {@link CaptionVocab#PAD}) from the states conditioned on {@code feats}: the backend's
     * gradients and the projection's gradients (=). Returns the mean loss per counted character.
     */
    public double forwardBackward(RnnState state, Window window, double[] feats) {
        condition(state, feats);
        backend.forward(state, window, true);
        backend.backward();
        projection.backward(backend.getInitialStateGradient());
        return backend.loss();
    }

    /** Evaluation loss of {@code window} from the states conditioned on {@code feats}. */
    public double loss(RnnState state, Window window, double[] feats) {
        condition(state, feats);
        backend.forward(state, window, false);
        return backend.loss();
    }

    @Override
    public void close() {
        backend.close();
    }
}
