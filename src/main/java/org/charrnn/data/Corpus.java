package org.charrnn.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * A corpus file encoded as symbol indices, split into [train | val | test] from the end.
 *
 * <p>The text is never held as a String: the file is streamed twice in 4 MiB chunks (first to
 * count symbols and build the vocabulary, then to encode) into one byte per symbol when the
 * vocabulary has at most 256 symbols, else two. With a cache directory the encoded form is written
 * to {@link TokenCache} and memory-mapped, so it costs no heap and the next run skips encoding;
 * without one it is kept on the heap, or, above 256 MiB, in an unlinked memory-mapped temporary
 * file. Heap use while encoding is about 40 MB (buffers and a histogram of all code points).
 */
public final class Corpus implements AutoCloseable {
    /**
     * Without a cache directory, encoded corpora up to this size stay on the heap: 256 MiB, or a
     * quarter of the maximum heap if that is less; larger ones are written to an unlinked temporary
     * file and memory-mapped (changed by tests).
     */
    static long heapLimitBytes = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 4);

    private final Path file;
    private final long sizeBytes;
    private final Vocabulary vocab;
    private final TokenSequence tokens, train, val, test;
    private final long unknownCount;
    private final int unknownDistinct;
    private final boolean unknownSkipped;
    private final Path cacheFile;
    private final boolean fromCache;
    private final String storage;
    private final String uncached;
    private final double seconds;

    private Corpus(
            Path file,
            long sizeBytes,
            Vocabulary vocab,
            TokenSequence tokens,
            CorpusOptions opt,
            long unknownCount,
            int unknownDistinct,
            boolean unknownSkipped,
            Path cacheFile,
            boolean fromCache,
            String uncached,
            double seconds) {
        this.file = file;
        this.sizeBytes = sizeBytes;
        this.vocab = vocab;
        this.tokens = tokens;
        this.unknownCount = unknownCount;
        this.unknownDistinct = unknownDistinct;
        this.unknownSkipped = unknownSkipped;
        this.cacheFile = cacheFile;
        this.fromCache = fromCache;
        this.uncached = uncached;
        this.storage = (cacheFile != null
                        ? "cache file " + cacheFile
                        : tokens instanceof MappedTokens ? "memory-mapped temporary file" : "heap")
                + (uncached != null ? " (" + uncached + ")" : "");
        this.seconds = seconds;
        long n = tokens.length();
        long nVal = (long) Math.floor(n * opt.valFrac());
        long nTest = (long) Math.floor(n * opt.testFrac());
        long nTrain = n - nVal - nTest;
        train = tokens.slice(0, nTrain);
        val = tokens.slice(nTrain, nTrain + nVal);
        test = tokens.slice(nTrain + nVal, n);
    }

    /** Opens {@code file}, building the vocabulary from it. */
    public static Corpus open(Path file, CorpusOptions options, Progress progress) {
        return open(file, null, options, progress);
    }

    /**
     * Opens {@code file} encoded with {@code vocab} (a checkpoint's; its encoding wins over the
     * options'). Symbols not in it map to its unknown symbol if it has one; otherwise this is a
     * {@link UserError} listing up to 10 of them. A null {@code vocab} builds one from the file.
     */
    public static Corpus open(Path file, Vocabulary vocab, CorpusOptions options, Progress progress) {
        return open(file, vocab, false, options, progress);
    }

    /**
     * As {@link #open(Path, Vocabulary, CorpusOptions, Progress)}; with {@code skipUnknown} the
     * symbols that are not among {@code vocab}'s known symbols are dropped (even where it has an
     * unknown symbol), and {@link #unknownCount()} and {@link #unknownDistinct()} count them. A
     * file with nothing left is a {@link UserError}.
     */
    public static Corpus open(
            Path file, Vocabulary vocab, boolean skipUnknown, CorpusOptions options, Progress progress) {
        if (skipUnknown && vocab == null) throw new IllegalArgumentException("skipUnknown needs a vocabulary");
        long t0 = System.nanoTime();
        if (progress == null) progress = Progress.NONE;
        BasicFileAttributes attrs = checkFile(file);
        long size = attrs.size();
        long mtime = attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS);
        Encoding enc = vocab != null ? vocab.encoding() : options.encoding();
        Path cacheFile = null;
        String key = null;
        byte[] hash = null;
        try {
            if (options.cacheDir() != null) {
                key = cacheKey(file, enc, vocab, options.maxVocab()) + (skipUnknown ? "|skip-unknown" : "");
                cacheFile = TokenCache.fileFor(options.cacheDir(), key);
                hash = TokenCache.contentHash(file, size);
                TokenCache.Loaded hit = TokenCache.tryLoad(cacheFile, key, size, mtime, hash);
                if (hit != null) {
                    Vocabulary v = Vocabulary.fromJson(hit.header().vocabJson());
                    return new Corpus(
                            file,
                            size,
                            v,
                            hit.tokens(),
                            options,
                            hit.header().unknownCount(),
                            hit.header().unknownDistinct(),
                            skipUnknown,
                            cacheFile,
                            true,
                            null,
                            (System.nanoTime() - t0) / 1e9);
                }
            }
            CorpusEncoder e = new CorpusEncoder(file, size, enc, progress, vocab != null);
            try {
                e.scan();
                e.chooseVocabulary(vocab, options.maxVocab(), skipUnknown);
                // the cache is an optimisation: where it cannot be written the corpus is still read, and why is kept
                TokenSequence tokens = null;
                String uncached = null;
                TokenSink cache = null;
                if (cacheFile != null) {
                    try {
                        cache = new CacheSink(new TokenCache.Writer(cacheFile, header(key, size, mtime, hash, e)));
                    } catch (IOException ex) {
                        uncached = notCached(cacheFile, ex);
                    }
                }
                if (cache != null) {
                    try {
                        tokens = e.encode(cache);
                    } catch (CacheSink.WriteFailed ex) { // a write of the cache; a failed read goes on up
                        uncached = notCached(cacheFile, ex.getCause());
                    }
                }
                if (tokens == null) {
                    cacheFile = null;
                    tokens = e.encode(memorySink(e, size, mtime));
                }
                BasicFileAttributes after = Files.readAttributes(file, BasicFileAttributes.class);
                if (after.size() != size || after.lastModifiedTime().to(TimeUnit.NANOSECONDS) != mtime)
                    throw changed(file);
                return new Corpus(
                        file,
                        size,
                        e.vocab,
                        tokens,
                        options,
                        e.unknownCount,
                        e.unknownDistinct,
                        skipUnknown,
                        cacheFile,
                        false,
                        uncached,
                        (System.nanoTime() - t0) / 1e9);
            } finally {
                progress.finish();
            }
        } catch (IOException ex) {
            throw new UserError("cannot read " + file + ": " + IoErrors.reason(ex), ex);
        }
    }

    /** The token file's header of what encoder e found in the file (of {@code size} bytes, modified at mtime). */
    private static TokenCache.Header header(String key, long size, long mtime, byte[] hash, CorpusEncoder e) {
        return new TokenCache.Header(
                key, size, mtime, hash, e.width(), e.count, e.unknownCount, e.unknownDistinct, e.vocab.toJson());
    }

    /** "not cached: cannot write DIR: why". */
    private static String notCached(Path cacheFile, IOException why) {
        return "not cached: cannot write " + cacheFile.getParent() + ": " + IoErrors.reason(why);
    }

    /**
     * Where the encoded corpus goes without a cache: on the heap, or where it is large an unlinked
     * scratch file, mapped (the heap after all where no temporary directory is writable).
     */
    private static TokenSink memorySink(CorpusEncoder e, long size, long mtime) {
        TokenSink sink = null;
        if (e.count * e.width() > heapLimitBytes) sink = scratchWriter(header("scratch", size, mtime, new byte[32], e));
        return sink != null ? sink : new HeapTokens.Builder(e.count, e.width());
    }

    /**
     * A cache writer whose failures (a full disk) are told apart from those of reading the corpus:
     * a {@link WriteFailed}, after which the corpus is encoded again without the cache.
     */
    private record CacheSink(TokenSink cache) implements TokenSink {
        static final class WriteFailed extends IOException {
            WriteFailed(IOException cause) {
                super(cause);
            }

            @Override
            public synchronized IOException getCause() {
                return (IOException) super.getCause();
            }
        }

        @Override
        public void put(int[] idx, int n) throws IOException {
            try {
                cache.put(idx, n);
            } catch (IOException e) {
                throw new WriteFailed(e);
            }
        }

        @Override
        public TokenSequence finish() throws IOException {
            try {
                return cache.finish();
            } catch (IOException e) {
                throw new WriteFailed(e);
            }
        }

        @Override
        public void abort() {
            cache.abort();
        }
    }

    /**
     * A writer of a new unlinked temporary file, deleted once mapped (or on failure); null where no
     * temporary directory is writable.
     */
    private static TokenSink scratchWriter(TokenCache.Header h) {
        Path scratch = null;
        try {
            scratch = Files.createTempFile("charrnn-corpus-", ".tokens");
            return new TokenCache.Writer(scratch, h, true);
        } catch (IOException ex) {
            try {
                if (scratch != null) Files.deleteIfExists(scratch);
            } catch (IOException ignored) {
                /* best effort: an empty file in the temporary directory */
            }
            return null;
        }
    }

    static UserError changed(Path file) {
        return new UserError(file + " changed while it was being read; try again");
    }

    static String cacheKey(Path file, Encoding enc, Vocabulary vocab, int maxVocab) {
        return "corpus-v1|" + file.toAbsolutePath().normalize() + "|" + enc.id() + "|"
                + (vocab != null
                        ? "vocab:"
                                + TokenCache.sha256Hex(vocab.toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                        : "max-vocab:" + maxVocab);
    }

    /** Checks that {@code file} is a readable, non-empty regular file; one-line UserError if not. */
    static BasicFileAttributes checkFile(Path file) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new UserError("corpus file not found: " + file);
        } catch (IOException e) {
            throw new UserError("cannot read corpus file " + file + ": " + IoErrors.reason(e));
        }
        if (a.isDirectory()) throw new UserError(file + " is a directory, not a corpus file");
        if (!a.isRegularFile()) throw new UserError(file + " " + AtomicFile.SPECIAL);
        if (!Files.isReadable(file)) throw new UserError("cannot read corpus file " + file + ": permission denied");
        if (a.size() == 0) throw new UserError("corpus file " + file + " is empty");
        return a;
    }

    public Path file() {
        return file;
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /** The whole file. */
    public TokenSequence tokens() {
        return tokens;
    }

    public TokenSequence train() {
        return train;
    }

    public TokenSequence val() {
        return val;
    }

    public TokenSequence test() {
        return test;
    }

    /** Occurrences of symbols that were mapped to the unknown symbol, or dropped (see {@link #unknownSkipped()}). */
    public long unknownCount() {
        return unknownCount;
    }

    /** Distinct symbols that were mapped to the unknown symbol, or dropped. */
    public int unknownDistinct() {
        return unknownDistinct;
    }

    /** Whether symbols outside the given vocabulary were dropped; then the unknown counts count them. */
    public boolean unknownSkipped() {
        return unknownSkipped;
    }

    /**
     * Up to {@code limit} of the symbols counted by {@link #unknownDistinct()}, in order of first
     * occurrence in the file, described for messages: {@code 'é' (U+00E9)}, {@code byte 0xE9}. Reads
     * the file only as far as it needs to.
     */
    public List<String> unknownExamples(int limit) {
        int want = Math.min(limit, unknownDistinct);
        if (want <= 0) return List.of();
        Encoding enc = vocab.encoding();
        List<String> out = new ArrayList<>();
        try {
            for (int s : new CorpusEncoder(file, sizeBytes, enc, Progress.NONE, true).firstMissing(vocab, want))
                out.add(Vocabulary.describeSymbol(enc, s));
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        return out;
    }

    /** True if the encoded form came from the cache rather than from encoding the file now. */
    public boolean fromCache() {
        return fromCache;
    }

    /** The cache file holding the encoded form, or null when it is on the heap. */
    public Path cacheFile() {
        return cacheFile;
    }

    /**
     * Where the encoded form lives: "cache file PATH", "heap" or "memory-mapped temporary file",
     * with {@link #uncached()} in parentheses where there is one.
     */
    public String storage() {
        return storage;
    }

    /**
     * Why a cache directory was given and the encoded form is not in it, "not cached: cannot write
     * DIR: why" (not a directory, no permission, a full disk); null otherwise.
     */
    public String uncached() {
        return uncached;
    }

    /** The line a command prints where {@link #uncached()} says why: "corpus not cached: ... (encoded again on each run)". */
    public String uncachedNote() {
        return uncached == null ? null : "corpus " + uncached + " (encoded again on each run)";
    }

    /** Seconds it took to open (encode or load) the corpus. */
    public double openSeconds() {
        return seconds;
    }

    /**
     * One line: {@code tinyshakespeare.txt: 1,115,394 chars, vocabulary 65, train 1,059,625 / val
     * 55,769 / test 0}, plus what was mapped to the unknown symbol if there is one.
     */
    public String summary() {
        String unit = vocab.encoding() == Encoding.BYTES ? "bytes" : "chars";
        StringBuilder sb = new StringBuilder(String.format(
                Locale.ROOT, "%s: %,d %s, vocabulary %,d", file.getFileName(), tokens.length(), unit, vocab.size()));
        if (unknownSkipped && unknownCount > 0)
            sb.append(String.format(
                    Locale.ROOT,
                    " (%,d %s not in it skipped, %,d distinct)",
                    unknownCount,
                    vocab.encoding() == Encoding.BYTES ? "bytes" : "characters",
                    unknownDistinct));
        else if (vocab.hasUnknown() && !unknownSkipped)
            sb.append(String.format(
                    Locale.ROOT,
                    " (incl. unknown symbol: %,d rare %s, %,d occurrences)",
                    unknownDistinct,
                    vocab.encoding() == Encoding.BYTES ? "byte values" : "characters",
                    unknownCount));
        sb.append(String.format(
                Locale.ROOT, ", train %,d / val %,d / test %,d", train.length(), val.length(), test.length()));
        if (vocab.encoding() == Encoding.UTF8 && startsWithBom(file))
            sb.append("; a leading UTF-8 byte-order mark skipped");
        return sb.toString();
    }

    /** Whether {@code f} begins with the UTF-8 byte-order mark EF BB BF (which UTF-8 decoding drops). */
    static boolean startsWithBom(Path f) {
        try (java.io.InputStream in = Files.newInputStream(f)) {
            byte[] b = in.readNBytes(3);
            return b.length == 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return summary();
    }

    /**
     * Releases the corpus. Memory-mapped data is unmapped by the garbage collector once the
     * sequences are unreachable (Java 17 has no explicit unmap).
     */
    @Override
    public void close() {}
}
