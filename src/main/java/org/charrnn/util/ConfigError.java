package org.charrnn.util;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An invalid setting in a configuration record. The message template names settings as
 * {@code {Record.component}}; {@link #getMessage()} speaks in API terms ("ModelSpec.hidden must be
 * >= 1, got 0"), and the command line renders the same error with its option names
 * ({@link #render}: "--hidden must be >= 1, got 0").
 */
public final class ConfigError extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private static final Pattern SETTING = Pattern.compile("\\{([A-Za-z][A-Za-z0-9]*\\.[A-Za-z][A-Za-z0-9]*)}");

    private final String template;

    private ConfigError(String template) {
        super(render(template, Map.of()));
        this.template = template;
    }

    /** A ConfigError with {@code template}, to throw. */
    public static ConfigError of(String template) {
        return new ConfigError(template);
    }

    /** Throws a ConfigError with {@code template} unless {@code ok}. */
    public static void require(boolean ok, String template) {
        if (!ok) throw new ConfigError(template);
    }

    /** The message with each {@code {Record.component}} replaced by {@code names}' entry, or kept as {@code Record.component}. */
    public String render(Map<String, String> names) {
        return render(template, names);
    }

    static String render(String template, Map<String, String> names) {
        Matcher m = SETTING.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(names.getOrDefault(m.group(1), m.group(1))));
        m.appendTail(sb);
        return sb.toString();
    }
}
