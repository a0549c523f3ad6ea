package org.charrnn.backend;

/**
 * One truncated-BPTT window of B streams and T steps over a resident token buffer: stream b reads
 * inputs x[t,b] = tokens[starts[b] + t] and targets y[t,b] = tokens[starts[b] + t + 1], t in [0, T).
 *
 * @param tokens    token buffer on the backend
 * @param starts    [B] start position of every stream; starts[b] + T + 1 <= tokens.length()
 * @param seqLen    T, number of steps
 * @param iteration global iteration number; keys the dropout masks (the same window and iteration
 *                  drop the same units on every backend)
 */
public record Window(TokenBuffer tokens, long[] starts, int seqLen, long iteration) {

    public Window {
        if (seqLen < 1) throw new IllegalArgumentException("seqLen must be >= 1");
        if (starts.length < 1) throw new IllegalArgumentException("at least one stream required");
        for (long s : starts)
            if (s < 0 || s + seqLen + 1 > tokens.length())
                throw new IllegalArgumentException(
                        "window [" + s + ", " + (s + seqLen + 1) + ") outside " + tokens.length() + " tokens");
    }

    /** B, number of streams. */
    public int batch() {
        return starts.length;
    }
}
