package org.charrnn.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/** Two streaming passes over the file: {@link #scan} counts, {@link #encode} writes indices. */
final class CorpusEncoder {
    private static final int CHUNK = 4 << 20;

    final Path file;
    final long size;
    final Encoding enc;
    final Progress progress;
    long[] hist;
    long count;
    Vocabulary vocab;
    long unknownCount;
    int unknownDistinct;
    /** Symbols outside the given vocabulary are dropped rather than encoded. */
    boolean skipping;

    /** What a file that is not UTF-8 text is told to do: read it as bytes, where the encoding is still to choose. */
    private final String notTextAdvice;

    /**
     * @param modelVocabulary whether the text is read into a model's vocabulary (eval, a resume),
     *     whose encoding is fixed, rather than one built from it
     */
    CorpusEncoder(Path file, long size, Encoding enc, Progress progress, boolean modelVocabulary) {
        this.file = file;
        this.size = size;
        this.enc = enc;
        this.progress = progress;
        this.notTextAdvice = modelVocabulary
                ? "the model's vocabulary is of UTF-8 characters, so its text must be UTF-8"
                : "use {CorpusOptions.encoding} bytes to train on its raw bytes";
    }

    int width() {
        return vocab.size() <= 256 ? 1 : 2;
    }

    interface ChunkHandler {
        void accept(int[] symbols, int n, byte[] raw, int rawLen, long rawOffset) throws IOException;
    }

    private void stream(long progressBase, String detail, ChunkHandler h) throws IOException {
        stream(progressBase, detail, h, () -> false);
    }

    /** Streams the file through {@code h}, chunk by chunk, until its end or until {@code done}. */
    private void stream(long progressBase, String detail, ChunkHandler h, BooleanSupplier done) throws IOException {
        byte[] buf = new byte[CHUNK];
        int[] out = new int[CHUNK];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        Utf8Decoder dec = enc == Encoding.UTF8 ? new Utf8Decoder() : null;
        long pos = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (!done.getAsBoolean()) {
                bb.clear();
                int r = ch.read(bb);
                if (r < 0) break;
                if (r == 0) continue;
                int n;
                if (dec != null) {
                    n = dec.decode(buf, 0, r, out);
                } else {
                    for (int i = 0; i < r; i++) out[i] = buf[i] & 0xFF;
                    n = r;
                }
                h.accept(out, n, buf, r, pos);
                pos += r;
                progress.update(progressBase + pos, 2 * size, detail);
            }
            if (dec != null && !done.getAsBoolean()) dec.finish();
        } catch (Utf8Decoder.Malformed m) {
            throw UserError.naming(String.format(
                    Locale.ROOT,
                    "%s is not valid UTF-8: %s at byte offset %,d (bytes %s); %s",
                    file,
                    m.getMessage().replaceFirst(" at byte offset.*", ""),
                    m.offset,
                    m.bytesHex,
                    notTextAdvice));
        }
    }

    void scan() throws IOException {
        hist = new long[enc == Encoding.BYTES ? 256 : Character.MAX_CODE_POINT + 1];
        long[] hst = hist;
        stream(0, "scanning", (s, n, raw, rawLen, rawOff) -> {
            long nul = hst[0];
            for (int i = 0; i < n; i++) hst[s[i]]++;
            count += n;
            if (enc == Encoding.UTF8 && hst[0] != nul) {
                int at = 0;
                while (raw[at] != 0) at++;
                throw UserError.naming(String.format(
                        Locale.ROOT,
                        "%s looks like a binary file, not text: it has a NUL byte at byte offset %,d; %s",
                        file,
                        rawOff + at,
                        notTextAdvice));
            }
        });
    }

    /**
     * Picks the vocabulary: {@code given} (a model's), or one built from the counts, capped at
     * {@code maxVocab}. Symbols not in {@code given} map to its unknown symbol, or with {@code
     * skipUnknown} are dropped; without either they are an error that lists them.
     */
    void chooseVocabulary(Vocabulary given, int maxVocab, boolean skipUnknown) {
        List<Integer> present = new ArrayList<>();
        for (int s = 0; s < hist.length; s++) if (hist[s] > 0) present.add(s);
        if (given != null) {
            List<Integer> missing = new ArrayList<>();
            for (int s : present) {
                if (given.exactIndexOf(s) < 0) {
                    missing.add(s);
                    unknownCount += hist[s];
                }
            }
            unknownDistinct = missing.size();
            String unit = enc == Encoding.BYTES ? "byte values" : "characters";
            if (!missing.isEmpty() && skipUnknown) {
                skipping = true;
                count -= unknownCount;
                if (count == 0)
                    throw UserError.naming(String.format(
                            Locale.ROOT,
                            "%s has no %s in the model's vocabulary (all %,d are skipped)",
                            file,
                            unit,
                            unknownCount));
            } else if (!missing.isEmpty() && !given.hasUnknown()) {
                List<String> parts = new ArrayList<>();
                for (int k = 0; k < Math.min(10, missing.size()); k++)
                    parts.add(Vocabulary.describeSymbol(enc, missing.get(k)));
                String more =
                        missing.size() > 10 ? String.format(Locale.ROOT, " and %,d more", missing.size() - 10) : "";
                throw new UnknownSymbolsError(String.format(
                        Locale.ROOT,
                        "%s has %,d %s not in the model's vocabulary: %s%s",
                        file,
                        missing.size(),
                        unit,
                        String.join(", ", parts),
                        more));
            }
            vocab = given;
            return;
        }
        int distinct = present.size();
        if (maxVocab > 0 && distinct > maxVocab) {
            Integer[] bySym = present.toArray(new Integer[0]);
            Arrays.sort(bySym, (a, b) -> hist[a] != hist[b] ? Long.compare(hist[b], hist[a]) : Integer.compare(a, b));
            int keep = maxVocab - 1;
            int[] kept = new int[keep];
            for (int k = 0; k < keep; k++) kept[k] = bySym[k];
            for (int k = keep; k < bySym.length; k++) unknownCount += hist[bySym[k]];
            unknownDistinct = bySym.length - keep;
            Arrays.sort(kept);
            vocab = Vocabulary.of(enc, kept, true);
        } else {
            if (distinct > Vocabulary.MAX_SIZE)
                throw UserError.naming(String.format(
                        Locale.ROOT,
                        "%s has %,d distinct characters, more than the %,d supported; use {CorpusOptions.maxVocab} N to map the rarest to one unknown symbol",
                        file,
                        distinct,
                        Vocabulary.MAX_SIZE));
            int[] s = new int[distinct];
            for (int k = 0; k < distinct; k++) s[k] = present.get(k);
            vocab = Vocabulary.of(enc, s, false);
        }
    }

    TokenSequence encode(TokenSink sink) throws IOException {
        int[] table = vocab.lookupTable();
        int unk = vocab.unknownIndex();
        boolean ok = false;
        try {
            long[] written = {0};
            stream(size, "encoding", (s, n, raw, rawLen, rawOff) -> {
                int w = 0;
                for (int i = 0; i < n; i++) {
                    int c = s[i];
                    int idx = c < table.length ? table[c] : -1;
                    if (idx < 0) {
                        if (skipping) continue;
                        if (unk < 0) throw Corpus.changed(file);
                        idx = unk;
                    }
                    s[w++] = idx;
                }
                written[0] += w;
                if (written[0] > count) throw Corpus.changed(file);
                sink.put(s, w);
            });
            if (written[0] != count) throw Corpus.changed(file);
            TokenSequence t = sink.finish();
            ok = true;
            return t;
        } finally {
            if (!ok) sink.abort();
        }
    }

    /**
     * The first {@code limit} distinct symbols of the file, in order of first occurrence, that are
     * not among {@code vocab}'s known symbols. Reads only as far as it needs to.
     */
    List<Integer> firstMissing(Vocabulary vocab, int limit) throws IOException {
        Set<Integer> found = new LinkedHashSet<>();
        stream(
                0,
                "scanning",
                (s, n, raw, rawLen, rawOff) -> {
                    for (int i = 0; i < n && found.size() < limit; i++)
                        if (vocab.exactIndexOf(s[i]) < 0) found.add(s[i]);
                },
                () -> found.size() >= limit);
        return new ArrayList<>(found);
    }
}
