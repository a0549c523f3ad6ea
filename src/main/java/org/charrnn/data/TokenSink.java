package org.charrnn.data;

import java.io.IOException;

/** Receives encoded symbol indices in order and yields the finished sequence. */
interface TokenSink {
    void put(int[] idx, int n) throws IOException;

    TokenSequence finish() throws IOException;

    /** Discards what was written (on error). */
    void abort();
}
