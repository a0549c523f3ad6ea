package org.charrnn.data;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * The selected files of a tar archive, plain or compressed with xz, gzip or bzip2 (recognised by
 * content, not name), read with Apache Commons Compress and XZ for Java, in sorted entry-name
 * order. The archive is streamed once without unpacking: each selected regular entry is appended
 * to a staging file as it arrives, while its name, offset and length are remembered (a few MB for
 * ~60,000 files). If the entries came in sorted order, which is the case for Debian's {@code
 * linux-source-6.1.tar.xz}, the staging file becomes the output; otherwise the output is assembled
 * from the staging file in sorted order, which costs a second copy on disk but never more than a 1
 * MiB buffer of heap. If a path occurs twice the later entry wins, as when extracting.
 */
final class TarCorpus implements AutoCloseable {

    /**
     * Names in the archive, for checks of what it is: the first component of every entry's path
     * ({@code ""} for an entry at the top without one), and the names of regular files at depth 1
     * ({@code Kconfig}) and depth 2 ({@code linux-6.1/Kconfig}).
     */
    record Layout(Set<String> topLevel, Set<String> filesAtDepth1, Set<String> filesAtDepth2) {}

    /** Where one entry's bytes lie in the staging file. */
    private record Piece(long offset, long length) {}

    private final Path staging;
    private final Map<String, Piece> pieces = new HashMap<>();
    private final List<String> order = new ArrayList<>();
    private final Layout layout = new Layout(new HashSet<>(), new HashSet<>(), new HashSet<>());
    private long offset;

    private TarCorpus(Path staging) {
        this.staging = staging;
    }

    /**
     * Streams {@code archive} into a staging file in {@code dir}, keeping the regular entries that
     * {@code selection} selects; {@code notArchive} is the message when it is not a tar archive.
     */
    static TarCorpus stage(
            Path archive,
            Path dir,
            PathSelection selection,
            String notArchive,
            CorpusCounter counter,
            Progress progress)
            throws IOException {
        TarCorpus t = new TarCorpus(AtomicFile.createTemp(dir, ".corpus.", ".staging"));
        boolean ok = false;
        try {
            t.read(archive, selection, notArchive, counter, progress);
            ok = true;
            return t;
        } finally {
            if (!ok) t.close();
        }
    }

    private void read(
            Path archive, PathSelection selection, String notArchive, CorpusCounter counter, Progress progress)
            throws IOException {
        long total = Files.size(archive);
        byte[] buf = new byte[1 << 20];
        try (CountingInputStream raw =
                        new CountingInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16));
                TarArchiveInputStream tar = new TarArchiveInputStream(new Decompressed(decompressor(raw, notArchive)));
                OutputStream o = Files.newOutputStream(staging)) {
            TarArchiveEntry e;
            boolean any = false;
            while ((e = nextEntry(tar, archive, any, notArchive)) != null) {
                any = true;
                String name = e.getName();
                while (name.startsWith("./")) name = name.substring(2);
                int slash = name.indexOf('/');
                layout.topLevel().add(slash < 0 ? "" : name.substring(0, slash));
                if (!e.isFile() || e.isLink() || e.isSymbolicLink()) continue;
                String base = name.substring(name.lastIndexOf('/') + 1);
                int depth = name.split("/").length;
                if (depth == 1) layout.filesAtDepth1().add(base);
                if (depth == 2) layout.filesAtDepth2().add(base);
                if (!selection.selects(name)) continue;
                long start = offset;
                counter.startFile(name);
                int n;
                try {
                    while ((n = tar.read(buf)) >= 0) {
                        o.write(buf, 0, n);
                        counter.add(buf, 0, n);
                        offset += n;
                    }
                } catch (DamagedInput ex) {
                    throw damagedArchive(archive, ex);
                }
                counter.endFile();
                if (pieces.put(name, new Piece(start, offset - start)) != null) order.remove(name);
                order.add(name);
                progress.update(
                        raw.count, total, String.format(Locale.ROOT, "%,d files, %,d MB", order.size(), offset >> 20));
            }
            if (!any) throw new UserError(notArchive);
        }
    }

    Layout layout() {
        return layout;
    }

    /** Distinct selected paths. */
    int files() {
        return order.size();
    }

    /** Writes the selected files to {@code out} in sorted order (over what is there). */
    void writeTo(Path out, CorpusCounter counter) throws IOException {
        List<String> sorted = new ArrayList<>(order);
        sorted.sort(Comparator.naturalOrder());
        long kept = 0;
        for (Piece p : pieces.values()) kept += p.length();
        if (sorted.equals(order) && offset == kept) {
            Files.move(staging, out, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        // entries arrived out of order (or a path repeated): assemble in sorted order
        List<Long> lengths = new ArrayList<>();
        for (Piece p : pieces.values()) lengths.add(p.length());
        counter.keepOnly(lengths);
        try (FileChannel in = FileChannel.open(staging, StandardOpenOption.READ);
                FileChannel o = FileChannel.open(out, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (String name : sorted) {
                Piece p = pieces.get(name);
                long pos = p.offset(), left = p.length();
                while (left > 0) {
                    long t = in.transferTo(pos, left, o);
                    if (t <= 0) throw new IOException("short read from the staging file");
                    pos += t;
                    left -= t;
                }
            }
        }
    }

    /** Removes the staging file (already gone if it became the output). */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(staging);
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, Path archive, boolean any, String notArchive)
            throws IOException {
        try {
            return tar.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            if (!any && !damaged(e)) throw new UserError(notArchive, e);
            throw damagedArchive(archive, e);
        }
    }

    private static boolean damaged(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof DamagedInput) return true;
        return false;
    }

    private static UserError damagedArchive(Path archive, Throwable e) {
        Throwable t = e;
        while (t instanceof DamagedInput || (t.getMessage() == null && t.getCause() != null)) t = t.getCause();
        String m = t instanceof IOException io
                ? IoErrors.reason(io)
                : t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
        return new UserError("cannot read " + archive + ": " + m + " (damaged or truncated archive?)", e);
    }

    /** A read error of the decompressor, as opposed to the tar layer. */
    private static final class DamagedInput extends IOException {
        private static final long serialVersionUID = 1L;

        DamagedInput(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Marks the decompressor's read errors as {@link DamagedInput}. */
    private static final class Decompressed extends FilterInputStream {
        Decompressed(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new DamagedInput(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw new DamagedInput(e);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            try {
                return super.skip(n);
            } catch (IOException e) {
                throw new DamagedInput(e);
            }
        }
    }

    /** Picks the decompressor by the file's first bytes. */
    private static InputStream decompressor(InputStream in, String notArchive) throws IOException {
        in.mark(16);
        byte[] head = new byte[6];
        int n = in.readNBytes(head, 0, 6);
        in.reset();
        if (n >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B)
            return GzipCompressorInputStream.builder()
                    .setInputStream(in)
                    .setDecompressConcatenated(true)
                    .get();
        if (n >= 6
                && (head[0] & 0xFF) == 0xFD
                && head[1] == '7'
                && head[2] == 'z'
                && head[3] == 'X'
                && head[4] == 'Z'
                && head[5] == 0)
            return XZCompressorInputStream.builder()
                    .setInputStream(in)
                    .setDecompressConcatenated(true)
                    .get();
        if (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h')
            return new BZip2CompressorInputStream(in, true);
        // a plain tar has "ustar" at offset 257
        in.mark(512);
        byte[] block = in.readNBytes(512);
        in.reset();
        if (block.length == 512 && new String(block, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) return in;
        throw new UserError(notArchive);
    }

    /** Counts bytes read from the compressed file, for progress. */
    private static final class CountingInputStream extends FilterInputStream {
        long count;
        private long mark;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count++;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) count += n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count += s;
            return s;
        }

        @Override
        public synchronized void mark(int limit) {
            super.mark(limit);
            mark = count;
        }

        @Override
        public synchronized void reset() throws IOException {
            super.reset();
            count = mark;
        }
    }
}
