package org.charrnn.data;

import org.charrnn.util.UserError;

/**
 * A text holds symbols that a given vocabulary (a checkpoint's) does not have, and the vocabulary
 * has no unknown symbol to map them to. The message lists them; {@code Corpus.open} with {@code
 * skipUnknown} leaves them out instead, which each caller words in its own terms.
 */
public final class UnknownSymbolsError extends UserError {
    private static final long serialVersionUID = 1L;

    UnknownSymbolsError(String message) {
        super(message);
    }
}
