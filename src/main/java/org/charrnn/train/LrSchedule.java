package org.charrnn.train;

import java.util.Locale;

/**
 * Learning-rate schedules. {@code lr(it)} for iteration {@code it} (0-based) of a run of
 * {@code total} iterations with {@code perEpoch} iterations per epoch:
 * <ul>
 *   <li>constant: lr0</li>
 *   <li>step: lr0 * decay^floor(epoch / every), epoch = floor(it / perEpoch) (char-rnn, torch-rnn)</li>
 *   <li>cosine: lr0 * (1 + cos(pi * it / total)) / 2</li>
 * </ul>
 */
public enum LrSchedule {
    CONSTANT,
    STEP,
    COSINE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static LrSchedule parse(String s) {
        for (LrSchedule k : values()) if (k.id().equalsIgnoreCase(s.trim())) return k;
        throw new IllegalArgumentException("unknown schedule '" + s + "' (expected constant, step or cosine)");
    }

    public double lr(double lr0, long it, long perEpoch, long total, double decay, int every) {
        return switch (this) {
            case CONSTANT -> lr0;
            case STEP -> lr0 * Math.pow(decay, (double) Math.floorDiv(it / Math.max(1, perEpoch), Math.max(1, every)));
            case COSINE -> lr0 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, it / (double) Math.max(1, total))));
        };
    }
}
