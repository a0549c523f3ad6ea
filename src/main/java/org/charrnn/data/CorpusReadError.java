package org.charrnn.data;

import org.charrnn.util.UserError;

/**
 * The encoded corpus could not be read while in use (its cache file was truncated or replaced):
 * nothing read from it was used, so a trainer can still write a checkpoint before it stops.
 */
public final class CorpusReadError extends UserError {
    private static final long serialVersionUID = 1L;

    public CorpusReadError(String message, Throwable cause) {
        super(message, cause);
    }
}
