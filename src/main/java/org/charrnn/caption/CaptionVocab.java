package org.charrnn.caption;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.charrnn.util.UserError;

/**
 * The symbols of a caption model: {@link #END} (end of caption; also the first input, standing for
 * "start", as in neuraltalk), {@link #PAD} (padding of a batch of whole captions, never a counted
 * target), then the characters of the training captions in code-point order.
 */
public final class CaptionVocab {
    /** End-of-caption symbol, and the input of the first step. */
    public static final int END = 0;
    /** Padding; targets equal to it are not counted. */
    public static final int PAD = 1;

    private final String chars; // the characters of ids 2.., in order
    private final int[] codePoints;

    private CaptionVocab(String chars) {
        this.chars = chars;
        this.codePoints = chars.codePoints().toArray();
    }

    /** The characters of {@code captions}. */
    public static CaptionVocab of(List<String> captions) {
        TreeSet<Integer> cps = new TreeSet<>();
        for (String c : captions) c.codePoints().forEach(cps::add);
        StringBuilder sb = new StringBuilder();
        for (int cp : cps) sb.appendCodePoint(cp);
        return new CaptionVocab(sb.toString());
    }

    /** The vocabulary whose characters are {@code chars} (as {@link #chars()} returned them). */
    public static CaptionVocab fromChars(String chars) {
        return new CaptionVocab(chars);
    }

    /** The characters of ids 2.. in order (stored in checkpoints). */
    public String chars() {
        return chars;
    }

    /** Number of symbols, END and PAD included. */
    public int size() {
        return codePoints.length + 2;
    }

    /** Token ids of {@code caption}; a character outside the vocabulary is a one-line error naming it. */
    public int[] encode(String caption) {
        int[] cps = caption.codePoints().toArray();
        int[] ids = new int[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int k = java.util.Arrays.binarySearch(codePoints, cps[i]);
            if (k < 0)
                throw new UserError("caption \"" + caption + "\" has a character the model does not know: '"
                        + new String(Character.toChars(cps[i])) + "'");
            ids[i] = k + 2;
        }
        return ids;
    }

    /** The text of character ids (END and PAD are not characters and are left out). */
    public String decode(List<Integer> ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) if (id >= 2) sb.appendCodePoint(codePoints[id - 2]);
        return sb.toString();
    }

    /** As {@link #decode(List)}, for an array. */
    public String decode(int[] ids) {
        List<Integer> l = new ArrayList<>(ids.length);
        for (int id : ids) l.add(id);
        return decode(l);
    }
}
