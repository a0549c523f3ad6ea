package org.charrnn.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Encoded symbols memory-mapped from a cache file: little-endian, one or two bytes each. Files
 * over 1 GiB use several mappings of 1 GiB, so there is no 2 GiB limit. The mappings stay valid
 * after the channel is closed and are released by the garbage collector.
 */
final class MappedTokens implements TokenSequence {
    /** log2 of the bytes per mapping (1 GiB; tests use less). */
    static final int DEFAULT_SHIFT = 30;

    private final int shift;
    private final long mask;

    private final long length;
    private final int width;
    private final ByteBuffer[] maps;
    private final Path source; // the mapped file, for the message when it changes under us
    private final long fileEnd; // bytes the file must hold for every mapping to be readable
    private final Object fileKey; // the mapped file's identity (device and inode), null where unknown

    MappedTokens(FileChannel ch, long dataOffset, long length, int width, Path source) throws IOException {
        this(ch, dataOffset, length, width, DEFAULT_SHIFT, source);
    }

    MappedTokens(FileChannel ch, long dataOffset, long length, int width, int shift, Path source) throws IOException {
        this.source = source;
        if (shift < 1 || shift > 30) throw new IllegalArgumentException("shift " + shift);
        this.shift = shift;
        this.mask = (1L << shift) - 1;
        this.length = length;
        this.width = width;
        long bytes = length * width;
        this.fileEnd = dataOffset + bytes;
        this.fileKey = Files.readAttributes(source, BasicFileAttributes.class).fileKey();
        int n = (int) ((bytes + mask) >>> shift);
        maps = new ByteBuffer[n];
        for (int k = 0; k < n; k++) {
            long start = (long) k << shift;
            long size = Math.min(1L << shift, bytes - start);
            maps[k] = ch.map(FileChannel.MapMode.READ_ONLY, dataOffset + start, size)
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    @Override
    public long length() {
        return length;
    }

    /**
     * The JVM reports an access to a mapping whose file was truncated (SIGBUS) as an InternalError:
     * made a one-line error naming the file. In compiled code that error is raised asynchronously
     * ("a fault occurred in a recent unsafe memory access") and may surface after the access has
     * returned, so bulk reads first check the file's size ({@link #checkSize}); the catch covers a
     * truncation that races with the read.
     */
    private CorpusReadError truncated(Throwable e) {
        return new CorpusReadError(
                source + " (an encoded corpus in the cache) was truncated or replaced while in use;"
                        + " run again to rebuild it",
                e);
    }

    @Override
    public int get(long i) {
        try {
            return read(i);
        } catch (InternalError e) {
            throw truncated(e);
        }
    }

    private int read(long i) {
        if (i < 0 || i >= length) throw new IndexOutOfBoundsException("index " + i + " of " + length);
        long b = i * width;
        ByteBuffer m = maps[(int) (b >>> shift)];
        int o = (int) (b & mask);
        return width == 1 ? m.get(o) & 0xFF : m.getShort(o) & 0xFFFF;
    }

    /**
     * One stat per bulk read: the mapped file cut below the mapped range is an error before any
     * access. A path that is gone or names another file (the cache unlinked or replaced by rename,
     * as temporary caches are) leaves the mapped file itself intact, so only the same file is checked.
     */
    private void checkSize() {
        BasicFileAttributes now;
        try {
            now = Files.readAttributes(source, BasicFileAttributes.class);
        } catch (IOException e) {
            return; // unlinked: the mapping keeps the file
        }
        if (fileKey != null && fileKey.equals(now.fileKey()) && now.size() < fileEnd) throw truncated(null);
    }

    @Override
    public void copyTo(long from, int[] dst, int off, int n) {
        checkSize();
        try {
            copy(from, dst, off, n);
        } catch (InternalError e) {
            throw truncated(e);
        }
    }

    private void copy(long from, int[] dst, int off, int n) {
        if (from < 0 || n < 0 || from + n > length)
            throw new IndexOutOfBoundsException("copy [" + from + "," + (from + n) + ") of " + length);
        while (n > 0) {
            long b = from * width;
            ByteBuffer m = maps[(int) (b >>> shift)];
            int o = (int) (b & mask);
            int k = (int) Math.min(n, ((1L << shift) - o) / width);
            if (width == 1) for (int j = 0; j < k; j++) dst[off + j] = m.get(o + j) & 0xFF;
            else for (int j = 0; j < k; j++) dst[off + j] = m.getShort(o + 2 * j) & 0xFFFF;
            from += k;
            off += k;
            n -= k;
        }
    }
}
