package org.charrnn.caption;

import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;

/**
 * Captions laid out for whole-caption batches: caption k occupies slot k of {@link #slot()} tokens,
 * END c_1 .. c_n END PAD .., resident on the backend once. A batch is a window of T = slot - 1 steps
 * over B slots: step 0 reads END (start) and predicts c_1, the last counted step predicts END, and
 * the padding is never a counted target. No state is carried from one caption to the next.
 *
 * <p>For {@link Condition#INPUT} a slot is PAD PAD c_1 .. c_n END PAD ..: step 0 is the image step
 * (its input is replaced by the image's projection, its target PAD is not counted), step 1 reads
 * PAD (start) and predicts c_1.
 */
public final class CaptionBatches implements AutoCloseable {
    private final int slot;
    private final int[] images;
    private final int[] lengths; // characters per caption
    private final TokenBuffer buffer;

    public CaptionBatches(Backend backend, CaptionVocab vocab, List<CaptionData.Caption> captions) {
        this(backend, vocab, captions, Condition.STATE);
    }

    /** The captions laid out for a model conditioned by {@code condition}. */
    public CaptionBatches(
            Backend backend, CaptionVocab vocab, List<CaptionData.Caption> captions, Condition condition) {
        int lead = condition == Condition.INPUT ? 2 : 1; // symbols before c_1
        int longest = 0;
        int[][] enc = new int[captions.size()][];
        for (int k = 0; k < enc.length; k++) {
            enc[k] = vocab.encode(captions.get(k).text());
            longest = Math.max(longest, enc[k].length);
        }
        this.slot = longest + lead + 1;
        this.images = new int[enc.length];
        this.lengths = new int[enc.length];
        int[] tokens = new int[Math.multiplyExact(slot, enc.length)];
        java.util.Arrays.fill(tokens, CaptionVocab.PAD);
        for (int k = 0; k < enc.length; k++) {
            int o = k * slot;
            if (lead == 1) tokens[o] = CaptionVocab.END;
            System.arraycopy(enc[k], 0, tokens, o + lead, enc[k].length);
            tokens[o + lead + enc[k].length] = CaptionVocab.END;
            images[k] = captions.get(k).image();
            lengths[k] = enc[k].length;
        }
        this.buffer = backend.upload(TokenSequence.of(tokens));
    }

    /** Number of captions. */
    public int size() {
        return images.length;
    }

    /** Tokens per caption slot (longest caption + 2, + 3 for {@link Condition#INPUT}). */
    public int slot() {
        return slot;
    }

    /** Image of caption k. */
    public int image(int k) {
        return images[k];
    }

    /** Counted targets of caption k: its characters and the END that follows them. */
    public int targets(int k) {
        return lengths[k] + 1;
    }

    /** The window over captions {@code ks} (one per stream). */
    public Window window(int[] ks, long iteration) {
        long[] starts = new long[ks.length];
        for (int b = 0; b < ks.length; b++) starts[b] = (long) ks[b] * slot;
        return new Window(buffer, starts, slot - 1, iteration, CaptionVocab.PAD);
    }

    @Override
    public void close() {
        buffer.close();
    }
}
