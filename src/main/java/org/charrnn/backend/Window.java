package org.charrnn.backend;

/**
 * One truncated-BPTT window of B streams and T steps over a resident token buffer: stream b reads
 * inputs x[t,b] = tokens[starts[b] + t] and targets y[t,b] = tokens[starts[b] + t + 1], t in [0, T).
 *
 * <p>With {@code ignoreTarget} >= 0, a target equal to that symbol is not counted: its loss and its
 * gradient are zero, and the loss is the mean over the counted targets only (zero, with zero
 * gradients, when none is counted). A padded batch of whole sequences pads with that symbol, so the
 * padding costs nothing and learns nothing. The symbol is still a valid input.
 *
 * <p>With {@code firstInput} [B,E] (row-major, E the embedding width), row b is the layer-0 input
 * of stream b at step 0 in place of the embedding of x[0,b] (an image's projection in Show and
 * Tell's "image as the first input"); the embedding row of x[0,b] gets no gradient from that step,
 * and {@link Backend#getFirstInputGradient()} returns dL/d(firstInput) after a backward.
 *
 * @param tokens       token buffer on the backend
 * @param starts       [B] start position of every stream; starts[b] + T + 1 <= tokens.length()
 * @param seqLen       T, number of steps
 * @param iteration    global iteration number; keys the dropout masks (the same window and
 *                     iteration drop the same units on every backend)
 * @param ignoreTarget symbol whose targets are not counted, or -1 (every target counts)
 * @param firstInput   [B,E] layer-0 inputs of step 0, or null (every input is a token's embedding)
 */
public record Window(
        TokenBuffer tokens, long[] starts, int seqLen, long iteration, int ignoreTarget, double[] firstInput) {

    /** No ignored targets. */
    public static final int COUNT_ALL = -1;

    public Window {
        if (seqLen < 1) throw new IllegalArgumentException("seqLen must be >= 1");
        if (starts.length < 1) throw new IllegalArgumentException("at least one stream required");
        if (ignoreTarget < COUNT_ALL) throw new IllegalArgumentException("ignoreTarget must be >= -1");
        for (long s : starts)
            if (s < 0 || s + seqLen + 1 > tokens.length())
                throw new IllegalArgumentException(
                        "window [" + s + ", " + (s + seqLen + 1) + ") outside " + tokens.length() + " tokens");
    }

    /** A window whose inputs are all token embeddings. */
    public Window(TokenBuffer tokens, long[] starts, int seqLen, long iteration, int ignoreTarget) {
        this(tokens, starts, seqLen, iteration, ignoreTarget, null);
    }

    /** A window in which every target counts. */
    public Window(TokenBuffer tokens, long[] starts, int seqLen, long iteration) {
        this(tokens, starts, seqLen, iteration, COUNT_ALL);
    }

    /** B, number of streams. */
    public int batch() {
        return starts.length;
    }

    /** This window with the layer-0 inputs of step 0 replaced by {@code rows} [B,E] (see above). */
    public Window withFirstInput(double[] rows) {
        return new Window(tokens, starts, seqLen, iteration, ignoreTarget, rows.clone());
    }

    /** True when some targets may be left uncounted. */
    public boolean masked() {
        return ignoreTarget != COUNT_ALL;
    }
}
