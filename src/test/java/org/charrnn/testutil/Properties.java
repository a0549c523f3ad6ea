package org.charrnn.testutil;

import java.util.function.Supplier;

/** System properties set for the length of one piece of work, then put back as they were. */
public final class Properties {
    private Properties() {}

    /** {@code work} with property {@code key} at {@code value} (null: unset), then restored. */
    public static <T> T with(String key, String value, Supplier<T> work) {
        String old = System.getProperty(key);
        set(key, value);
        try {
            return work.get();
        } finally {
            set(key, old);
        }
    }

    private static void set(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }
}
