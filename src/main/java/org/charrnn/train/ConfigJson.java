package org.charrnn.train;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What config.json must hold before Gson reads it into records, and the settings' names there.
 * Gson reads a missing number as 0, and words a null or a string where a number goes in its own
 * terms (record components, Java types) or without the setting's place; the records' own checks
 * name a setting as {@code Record.component}. Here each is said by its path in the file:
 * {@code training.optimizer.beta1 must be a number, got "x"}.
 */
final class ConfigJson {
    private ConfigJson() {}

    /**
     * Numeric settings added after the first config.json: absent from older runs' files, where they
     * read as 0, which is their "off" (no early stop, no timed checkpoints).
     */
    private static final Set<String> ADDED_LATER = Set.of("Limits.earlyStop", "Checkpointing.minutes");

    /** The longest value a message quotes. */
    private static final int QUOTE = 40;

    /** The JSON name of a record component: its snake_case, as the file is written. */
    static String name(RecordComponent c) {
        try {
            return FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES.translateName(
                    c.getDeclaringRecord().getDeclaredField(c.getName()));
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e); // a record's component is its field
        }
    }

    /**
     * Each {@code Record.component} of {@code root}'s records (as {@link
     * org.charrnn.util.ConfigError} templates name them) to its path in the file,
     * "OptimizerConfig.beta1" to "training.optimizer.beta1".
     */
    static Map<String, String> paths(Class<?> root) {
        Map<String, String> out = new HashMap<>();
        addPaths(root, "", out);
        return Map.copyOf(out);
    }

    private static void addPaths(Class<?> type, String path, Map<String, String> out) {
        for (RecordComponent c : type.getRecordComponents()) {
            String p = path + name(c);
            out.put(type.getSimpleName() + "." + c.getName(), p);
            if (c.getType().isRecord()) addPaths(c.getType(), p + ".", out);
        }
    }

    /**
     * Throws an IllegalArgumentException naming the first setting of record {@code type} (and of
     * its nested records present) that is missing where it is a number, or of the wrong JSON type:
     * an object for a record, a number for a number (a whole one in range for an integer), a
     * boolean for a boolean, a string for the rest. Absent records and strings read as null,
     * which the records themselves refuse where they need them.
     */
    static void requireWellTyped(JsonObject o, Class<?> type, String path) {
        for (RecordComponent c : type.getRecordComponents()) {
            String name = name(c), p = path + name;
            JsonElement v = o.get(name);
            Class<?> t = c.getType();
            if (t.isPrimitive()) {
                if (v == null) {
                    if (ADDED_LATER.contains(type.getSimpleName() + "." + c.getName())) continue;
                    throw new IllegalArgumentException("it has no \"" + p + "\" (was its line deleted?)");
                }
                requirePrimitive(v, t, p);
            } else if (v != null && !v.isJsonNull()) {
                if (t.isRecord()) {
                    if (!v.isJsonObject()) throw wrongType(p, "an object", v);
                    requireWellTyped(v.getAsJsonObject(), t, p + ".");
                } else if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                    throw wrongType(p, "a string", v);
                }
            }
        }
    }

    private static void requirePrimitive(JsonElement v, Class<?> t, String p) {
        if (t == boolean.class) {
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean())) throw wrongType(p, "true or false", v);
            return;
        }
        if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())) throw wrongType(p, "a number", v);
        if (t == double.class || t == float.class) return;
        JsonPrimitive n = v.getAsJsonPrimitive();
        BigDecimal d = new BigDecimal(n.getAsString());
        long min = t == long.class ? Long.MIN_VALUE : Integer.MIN_VALUE;
        long max = t == long.class ? Long.MAX_VALUE : Integer.MAX_VALUE;
        boolean whole = d.signum() == 0 || d.stripTrailingZeros().scale() <= 0;
        if (!whole || d.compareTo(BigDecimal.valueOf(min)) < 0 || d.compareTo(BigDecimal.valueOf(max)) > 0)
            throw wrongType(p, "a whole number from " + min + " to " + max, v);
    }

    private static IllegalArgumentException wrongType(String path, String what, JsonElement v) {
        String got = v.toString();
        if (got.length() > QUOTE) got = got.substring(0, QUOTE) + "...";
        return new IllegalArgumentException(path + " must be " + what + ", got " + got);
    }
}
