package org.charrnn.util;

import java.util.Map;

/**
 * A problem with the user's input or environment (bad option, missing or corrupt file, no
 * device): the CLI prints {@code charrnn: <message>} on one line and exits with {@link #exitCode()}
 * (2 unless stated), with the stack trace only under {@code --debug}.
 *
 * <p>A message made by {@link #naming} names settings as {@code {Record.component}}, as {@link
 * ConfigError} does: {@link #getMessage()} speaks in API terms ("lower Batching.batch"), and the
 * command line renders it with its option names ({@link #render}: "lower --batch").
 */
public class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;
    private final String template; // null: the message names no setting

    public UserError(String message) {
        this(message, 2, null);
    }

    public UserError(String message, Throwable cause) {
        this(message, 2, cause);
    }

    public UserError(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.template = null;
    }

    private UserError(String template, Throwable cause, boolean naming) {
        super(ConfigError.render(template, Map.of()), cause);
        this.exitCode = 2;
        this.template = template;
    }

    /** A UserError whose {@code template} names settings as {@code {Record.component}}. */
    public static UserError naming(String template) {
        return new UserError(template, null, true);
    }

    /** As {@link #naming(String)}, with a cause. */
    public static UserError naming(String template, Throwable cause) {
        return new UserError(template, cause, true);
    }

    /** This error with {@code prefix} before its message (kept as the cause), its settings still named. */
    public UserError prefixed(String prefix) {
        return template == null
                ? new UserError(prefix + getMessage(), exitCode, this)
                : new UserError(prefix + template, this, true);
    }

    /** This error with {@code suffix} after its message (kept as the cause), its settings still named. */
    public UserError suffixed(String suffix) {
        return template == null
                ? new UserError(getMessage() + suffix, exitCode, this)
                : new UserError(template + suffix, this, true);
    }

    public int exitCode() {
        return exitCode;
    }

    /** The message with each named setting replaced by {@code names}' entry (or kept as {@code Record.component}). */
    public String render(Map<String, String> names) {
        return template == null ? getMessage() : ConfigError.render(template, names);
    }
}
