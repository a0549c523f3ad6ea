package org.charrnn.backend.cuda;

/**
 * The host side of a step's small values, kept as the one device block they go to in one copy: the
 * training window's starts [B] (int64), then lr, Adam's two bias corrections and the dropout
 * iteration (32 bits each, in that order: the kernels' {@code hyper[0..2]} and iteration). Setters
 * write this mirror and mark it changed; the device copies the whole block when {@link #takeChanged}
 * says so, right before the first operation that reads it (a whole-step graph copies it as its first
 * node, StepBlock): one copy a step where the starts, the scalars and the iteration were three.
 */
final class StepValues {
    /** int64 words after the starts: lr | bc1, bc2 | iteration (low word first, as the device reads them). */
    static final int SCALAR_WORDS = 2;

    private long[] words = new long[SCALAR_WORDS]; // [B starts | SCALAR_WORDS]
    private int batch;
    private boolean changed = true; // the first copy writes the whole block

    /** Room for B starts (the scalars move after them); the next {@link #takeChanged} is true. */
    void resize(int B) {
        long[] next = new long[B + SCALAR_WORDS];
        System.arraycopy(words, batch, next, B, SCALAR_WORDS);
        words = next;
        batch = B;
        changed = true;
    }

    /** Starts the block has room for. */
    int batch() {
        return batch;
    }

    /** The block's bytes: B starts and the scalars. */
    long bytes() {
        return 8L * words.length;
    }

    /** Byte offset of the scalars (lr first) in the block. */
    long scalarsOffset() {
        return 8L * batch;
    }

    void starts(long[] starts) {
        if (starts.length != batch)
            throw new IllegalArgumentException("the step block holds " + batch + " starts, got " + starts.length);
        System.arraycopy(starts, 0, words, 0, batch);
        changed = true;
    }

    void hyper(float lr, float biasCorrection1, float biasCorrection2) {
        words[batch] = pack(Float.floatToRawIntBits(lr), Float.floatToRawIntBits(biasCorrection1));
        words[batch + 1] = pack(Float.floatToRawIntBits(biasCorrection2), high(words[batch + 1]));
        changed = true;
    }

    void iteration(int iteration) {
        words[batch + 1] = pack((int) words[batch + 1], iteration);
        changed = true;
    }

    /** Whether the block changed since the last call (and so must be copied now). */
    boolean takeChanged() {
        boolean c = changed;
        changed = false;
        return c;
    }

    /** The block as the device holds it (the copy's source). */
    long[] words() {
        return words;
    }

    /** Two 32-bit words as one int64 of a little-endian device: {@code low} at the lower address. */
    private static long pack(int low, int high) {
        return (low & 0xffffffffL) | ((long) high << 32);
    }

    private static int high(long word) {
        return (int) (word >>> 32);
    }
}
