package org.charrnn.backend;

import java.util.Locale;

/** How gradients are clipped before the optimizer step. */
public enum ClipMode {
    /** Scale all gradients by min(1, max / (||g||_2 + 1e-6)) over the global L2 norm (PyTorch clip_grad_norm_). */
    NORM,
    /** Clamp every gradient element to [-max, max] (char-rnn). */
    VALUE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ClipMode parse(String s) {
        for (ClipMode m : values()) if (m.id().equalsIgnoreCase(s.trim())) return m;
        throw new IllegalArgumentException("unknown clip mode '" + s + "' (expected norm or value)");
    }
}
