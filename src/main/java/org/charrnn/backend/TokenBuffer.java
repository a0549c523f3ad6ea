package org.charrnn.backend;

/**
 * An encoded token sequence made resident on a backend (for GPU backends: in device memory), so
 * training windows are gathered where they are consumed. Created by {@link Backend#upload}.
 */
public interface TokenBuffer extends AutoCloseable {

    /** Number of tokens. */
    long length();

    @Override
    void close();
}
