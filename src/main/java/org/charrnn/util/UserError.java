package org.charrnn.util;

/**
 * A problem with the user's input or environment (bad option, missing or corrupt file, no
 * device): the CLI prints {@code charrnn: <message>} on one line and exits with {@link #exitCode()}
 * (2 unless stated), with the stack trace only under {@code --debug}.
 */
public class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public UserError(String message) {
        this(message, 2, null);
    }

    public UserError(String message, Throwable cause) {
        this(message, 2, cause);
    }

    public UserError(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
