package org.charrnn.caption;

import java.util.Locale;

/** How an image's features enter a caption model ({@code --condition}). */
public enum Condition {
    /** The initial hidden state of every layer ({@link StateProjection}). */
    STATE,
    /** Show and Tell's "image as the first input": the input of step 0 ({@link InputProjection}). */
    INPUT;

    /** The command-line and checkpoint name. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** From its {@link #id()}; anything else is an {@link IllegalArgumentException} naming the choices. */
    public static Condition parse(String s) {
        for (Condition c : values()) if (c.id().equals(s)) return c;
        throw new IllegalArgumentException("--condition must be input or state, got " + s);
    }
}
