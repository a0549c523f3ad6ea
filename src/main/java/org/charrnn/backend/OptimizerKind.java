package org.charrnn.backend;

import java.util.List;
import java.util.Locale;

/**
 * Optimizers, each acting on the flat parameter array with the clipped gradient g
 * (g = clip(grad) + weightDecay * p, the L2 term as torch.optim adds it):
 * <ul>
 *   <li>adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)</li>
 *   <li>rmsprop (char-rnn): s = decay s + (1-decay) g^2; p -= lr * g / (sqrt(s) + eps)</li>
 *   <li>adagrad (min-char-rnn): s += g^2; p -= lr * g / sqrt(s + eps)</li>
 *   <li>sgd with momentum: u = mu u + g; p -= lr * u</li>
 * </ul>
 * {@link #slots()} names the per-parameter state arrays, each laid out like the parameters.
 */
public enum OptimizerKind {
    ADAM(2e-3, List.of("exp_avg", "exp_avg_sq")),
    RMSPROP(2e-3, List.of("square_avg")),
    ADAGRAD(1e-1, List.of("sum")),
    SGD(1e-1, List.of("momentum_buffer"));

    private final double defaultLr;

    @SuppressWarnings("ImmutableEnumChecker") // List.of: unmodifiable
    private final List<String> slots;

    OptimizerKind(double defaultLr, List<String> slots) {
        this.defaultLr = defaultLr;
        this.slots = slots;
    }

    /** Learning rate used when --lr is not given. */
    public double defaultLr() {
        return defaultLr;
    }

    /** Names of the state arrays, each [numParams]. */
    public List<String> slots() {
        return slots;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static OptimizerKind parse(String s) {
        for (OptimizerKind k : values()) if (k.id().equalsIgnoreCase(s.trim())) return k;
        throw new IllegalArgumentException("unknown optimizer '" + s + "' (expected adam, rmsprop, adagrad or sgd)");
    }
}
