package org.charrnn.caption;

import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;

/**
 * A caption model: a {@link Backend}'s LSTM/GRU/RNN stack, embedding and decoder, conditioned on
 * each caption's image through a {@link FeatureProjection}. The training pass runs on any backend:
 * {@link Condition#STATE} writes the projection's state into the backend's state and takes its
 * gradients from the initial-state gradient; {@link Condition#INPUT} starts from a zero state,
 * gives the projection as the window's first input and takes its gradients from the first-input
 * gradient.
 */
public final class ConditionedModel implements AutoCloseable {
    private final Backend backend;
    private final FeatureProjection projection;
    private TokenBuffer imageStep; // PAD PAD, for the single image step of {@link #condition} (input mode)

    public ConditionedModel(Backend backend, FeatureProjection projection) {
        boolean fits = projection instanceof StateProjection s
                ? s.layers() == backend.config().layers()
                        && s.hidden() == backend.config().hidden()
                : projection.rows() == backend.config().embedding();
        if (!fits) throw new IllegalArgumentException("projection and model shapes differ");
        this.backend = backend;
        this.projection = projection;
    }

    public Backend backend() {
        return backend;
    }

    public FeatureProjection projection() {
        return projection;
    }

    public Condition condition() {
        return projection.condition();
    }

    /**
     * The first input symbol of a caption after the conditioning: END for a conditioned state, PAD
     * (the target of the uncounted image step) for an image first input; see {@link CaptionBatches}.
     */
    public int startToken() {
        return condition() == Condition.INPUT ? CaptionVocab.PAD : CaptionVocab.END;
    }

    /**
     * Conditions B streams with features {@code feats} [B,F]: writes the conditioned initial state
     * into {@code state}, or (input mode) runs the image step from a zero state, after which the
     * next input is {@link #startToken()}.
     */
    public void condition(RnnState state, double[] feats) {
        if (projection instanceof StateProjection s) {
            state.write(s.forward(feats, state.batch()));
            return;
        }
        if (imageStep == null)
            imageStep = backend.upload(TokenSequence.of(new int[] {CaptionVocab.PAD, CaptionVocab.PAD}));
        Window w = new Window(imageStep, new long[state.batch()], 1, 0, CaptionVocab.PAD);
        backend.forward(zeroed(state), firstInput(w, feats), false);
    }

    /**
     * Training forward and backward of {@code window} (one caption per stream, laid out by
     * {@link CaptionBatches} for this model's condition) from the images {@code feats} [B,F]: the
     * backend's gradients and the projection's gradients (=). Returns the mean loss per counted
     * character.
     */
    public double forwardBackward(RnnState state, Window window, double[] feats) {
        if (projection instanceof StateProjection s) {
            condition(state, feats);
            backend.forward(state, window, true);
            backend.backward();
            s.backward(backend.getInitialStateGradient());
        } else {
            backend.forward(zeroed(state), firstInput(window, feats), true);
            backend.backward();
            ((InputProjection) projection).backward(backend.getFirstInputGradient());
        }
        return backend.loss();
    }

    /** Evaluation loss of {@code window} from the images {@code feats}. */
    public double loss(RnnState state, Window window, double[] feats) {
        if (projection instanceof StateProjection) {
            condition(state, feats);
            backend.forward(state, window, false);
        } else {
            backend.forward(zeroed(state), firstInput(window, feats), false);
        }
        return backend.loss();
    }

    private Window firstInput(Window w, double[] feats) {
        return w.withFirstInput(((InputProjection) projection).forward(feats, w.batch()));
    }

    private static RnnState zeroed(RnnState state) {
        state.reset();
        return state;
    }

    @Override
    public void close() {
        if (imageStep != null) imageStep.close();
        backend.close();
    }
}
