package org.charrnn.data;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * Builds the Linux-kernel corpus: every regular {@code .c} and {@code .h} file of a kernel source
 * tree, concatenated in sorted path order (paths relative to the tree, or entry names in an
 * archive, compared as strings; symbolic links are skipped). No separators are added between
 * files, as in Karpathy's linux corpus.
 *
 * <p>The source is a directory or a tar archive, plain or compressed with xz, gzip or bzip2
 * (recognised by content, not name), read with Apache Commons Compress and XZ for Java. An archive
 * is streamed once without unpacking: each .c/.h entry is appended to a staging file beside the
 * output as it arrives, while its name, offset and length are remembered (a few MB for ~60,000
 * files). If the entries came in sorted order, which is the case for Debian's
 * {@code linux-source-6.1.tar.xz}, the staging file becomes the output; otherwise the output is
 * assembled from the staging file in sorted order, which costs a second copy on disk but never
 * more than a 1 MiB buffer of heap. If a path occurs twice in an archive the later entry wins, as
 * when extracting.
 *
 * <p>The source must look like a kernel tree ({@code Kconfig}, {@code Kbuild} or
 * {@code MAINTAINERS} at its top level, or under a single top-level directory in an archive) and
 * have at least one .c/.h file. The output is written to a temporary file and renamed into place,
 * so on any error nothing is left at {@code out}.
 */
public final class LinuxCorpus {

    /** What was written. {@code distinctChars} counts code points of the files that are valid UTF-8. */
    public record Stats(
            Path out,
            long files,
            long bytes,
            int distinctChars,
            int distinctBytes,
            long invalidUtf8Files,
            List<String> invalidUtf8Examples,
            double seconds) {

        /** One line for the terminal. */
        public String summary() {
            String s = String.format(
                    Locale.ROOT,
                    "%s: %,d files, %,d bytes, %,d distinct characters (%.1f s)",
                    out,
                    files,
                    bytes,
                    distinctChars,
                    seconds);
            if (invalidUtf8Files > 0)
                s += String.format(
                        Locale.ROOT,
                        "; %,d files are not valid UTF-8 (e.g. %s): train with --encoding bytes (%,d distinct bytes)",
                        invalidUtf8Files,
                        String.join(", ", invalidUtf8Examples),
                        distinctBytes);
            return s;
        }
    }

    static final Set<String> MARKERS = Set.of("Kconfig", "Kbuild", "MAINTAINERS");

    private LinuxCorpus() {}

    static boolean wanted(String path) {
        return path.endsWith(".c") || path.endsWith(".h");
    }

    /** Builds the corpus from {@code source} (a kernel tree or an archive of one) into {@code out}. */
    public static Stats build(Path source, Path out, Progress progress) {
        long t0 = System.nanoTime();
        if (progress == null) progress = Progress.NONE;
        if (!Files.exists(source)) throw new UserError("--source " + source + " does not exist");
        if (Files.isDirectory(out)) throw new UserError("--out " + out + " is a directory; give a file name");
        try {
            if (Files.exists(out) && Files.isSameFile(source, out))
                throw new UserError("--out " + out + " is the --source itself; give another file name");
            if (Files.isDirectory(source)) source = source.toRealPath();
        } catch (IOException e) {
            throw new UserError("cannot read --source " + source + ": " + e.getMessage(), e);
        }
        Path outAbs = out.toAbsolutePath();
        Path tmp;
        try {
            Files.createDirectories(outAbs.getParent());
            tmp = AtomicFile.createTemp(outAbs.getParent(), "." + outAbs.getFileName() + ".", ".tmp");
        } catch (IOException e) {
            throw new UserError("cannot write --out " + out + ": " + e.getMessage(), e);
        }
        Counter counter = new Counter();
        boolean ok = false;
        try {
            long files;
            if (Files.isDirectory(source)) files = fromDirectory(source, tmp, counter, progress);
            else files = fromArchive(source, tmp, counter, progress);
            AtomicFile.commit(tmp, outAbs);
            ok = true;
            return new Stats(
                    out,
                    files,
                    counter.bytes,
                    counter.chars.cardinality(),
                    counter.byteValues.cardinality(),
                    counter.invalidFiles,
                    List.copyOf(counter.invalidExamples),
                    (System.nanoTime() - t0) / 1e9);
        } catch (AccessDeniedException e) {
            throw new UserError("cannot read " + e.getFile() + ": permission denied", e);
        } catch (IOException e) {
            throw new UserError("cannot build the linux corpus from " + source + ": " + e.getMessage(), e);
        } finally {
            progress.finish();
            if (!ok) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    /* best effort */
                }
            }
        }
    }

    // ---- directory ---------------------------------------------------------------------------

    private static long fromDirectory(Path root, Path tmp, Counter counter, Progress progress) throws IOException {
        boolean kernel = false;
        for (String m : MARKERS) kernel |= Files.isRegularFile(root.resolve(m));
        if (!kernel)
            throw new UserError(
                    root
                            + " does not look like a Linux kernel source tree (no Kconfig, Kbuild or MAINTAINERS at its top level)");
        List<String> rel = new ArrayList<>();
        Map<String, Long> sizes = new HashMap<>();
        try (Stream<Path> walk = Files.walk(root, new FileVisitOption[0])) {
            walk.forEach(p -> {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return;
                String r =
                        root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
                if (!wanted(r)) return;
                rel.add(r);
                try {
                    sizes.put(r, Files.size(p));
                } catch (IOException e) {
                    sizes.put(r, 0L);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        if (rel.isEmpty()) throw new UserError(root + " has no .c or .h files: not a Linux kernel source tree");
        rel.sort(Comparator.naturalOrder());
        long total = 0;
        for (long s : sizes.values()) total += s;
        byte[] buf = new byte[1 << 20];
        try (OutputStream o = Files.newOutputStream(tmp)) {
            long done = 0;
            for (String r : rel) {
                try (InputStream in = Files.newInputStream(root.resolve(r))) {
                    counter.startFile(r);
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        o.write(buf, 0, n);
                        counter.add(buf, n);
                        done += n;
                    }
                    counter.endFile();
                } catch (NoSuchFileException e) {
                    throw new UserError(root.resolve(r) + " disappeared while the corpus was being built");
                }
                progress.update(done, total, String.format(Locale.ROOT, "%,d files", counter.files));
            }
        }
        return rel.size();
    }

    // ---- archive -----------------------------------------------------------------------------

    /** Where one entry's bytes lie in the staging file. */
    private record Piece(String name, long offset, long length) {}

    private static long fromArchive(Path archive, Path out, Counter counter, Progress progress) throws IOException {
        long total = Files.size(archive);
        Path staging = AtomicFile.createTemp(out.getParent(), out.getFileName() + ".", ".staging");
        try {
            Map<String, Piece> pieces = new HashMap<>();
            List<String> order = new ArrayList<>();
            boolean markerAtRoot = false, markerOneDown = false;
            Set<String> topDirs = new java.util.HashSet<>();
            byte[] buf = new byte[1 << 20];
            long offset = 0;
            try (CountingInputStream raw =
                            new CountingInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16));
                    TarArchiveInputStream tar =
                            new TarArchiveInputStream(new Decompressed(decompressor(archive, raw)));
                    OutputStream o = Files.newOutputStream(staging)) {
                TarArchiveEntry e;
                boolean any = false;
                while ((e = nextEntry(tar, archive, any)) != null) {
                    any = true;
                    String name = e.getName();
                    while (name.startsWith("./")) name = name.substring(2);
                    int slash = name.indexOf('/');
                    topDirs.add(slash < 0 ? "" : name.substring(0, slash));
                    if (!e.isFile() || e.isLink() || e.isSymbolicLink()) continue;
                    String base = name.substring(name.lastIndexOf('/') + 1);
                    int depth = name.split("/").length;
                    if (MARKERS.contains(base) && depth == 1) markerAtRoot = true;
                    if (MARKERS.contains(base) && depth == 2) markerOneDown = true;
                    if (!wanted(name)) continue;
                    long start = offset;
                    counter.startFile(name);
                    int n;
                    try {
                        while ((n = tar.read(buf)) >= 0) {
                            o.write(buf, 0, n);
                            counter.add(buf, n);
                            offset += n;
                        }
                    } catch (DamagedInput ex) {
                        throw damagedArchive(archive, ex);
                    }
                    counter.endFile();
                    if (pieces.put(name, new Piece(name, start, offset - start)) != null) {
                        order.remove(name);
                    }
                    order.add(name);
                    progress.update(
                            raw.count,
                            total,
                            String.format(Locale.ROOT, "%,d files, %,d MB", order.size(), offset >> 20));
                }
                if (!any) throw notArchive(archive, null);
            }
            boolean kernel = markerAtRoot || (markerOneDown && topDirs.size() == 1 && !topDirs.contains(""));
            if (!kernel)
                throw new UserError(
                        archive
                                + " does not look like an archive of a Linux kernel source tree (no Kconfig, Kbuild or MAINTAINERS at its top level)");
            if (order.isEmpty())
                throw new UserError(archive + " has no .c or .h files: not a Linux kernel source tree");
            List<String> sorted = new ArrayList<>(order);
            sorted.sort(Comparator.naturalOrder());
            if (sorted.equals(order) && offset == sumLengths(pieces)) {
                Files.move(staging, out, StandardCopyOption.REPLACE_EXISTING);
            } else {
                // entries arrived out of order (or a path repeated): assemble in sorted order
                counter.keepOnly(pieces.values(), sorted.size());
                try (FileChannel in = FileChannel.open(staging, StandardOpenOption.READ);
                        FileChannel o =
                                FileChannel.open(out, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
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
            return order.size();
        } finally {
            Files.deleteIfExists(staging);
        }
    }

    private static long sumLengths(Map<String, Piece> pieces) {
        long s = 0;
        for (Piece p : pieces.values()) s += p.length();
        return s;
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, Path archive, boolean any) throws IOException {
        try {
            return tar.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            if (!any && !damaged(e)) throw notArchive(archive, e);
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
        String m = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
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

    private static UserError notArchive(Path source, Throwable cause) {
        return new UserError(source + " is not a kernel source tree or a .tar.xz/.tar.gz archive of one", cause);
    }

    /** Picks the decompressor by the file's first bytes. */
    private static InputStream decompressor(Path archive, InputStream in) throws IOException {
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
        if (block.length == 512
                && new String(block, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar")) return in;
        throw notArchive(archive, null);
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

    /** Counts files, bytes, distinct byte values and distinct code points of valid UTF-8 files. */
    private static final class Counter {
        final BitSet chars = new BitSet(Character.MAX_CODE_POINT + 1);
        final BitSet byteValues = new BitSet(256);
        final BitSet fileChars = new BitSet();
        final List<String> invalidExamples = new ArrayList<>();
        long files, bytes, invalidFiles;
        private Utf8Decoder dec;
        private boolean fileValid;
        private String name;
        private int[] cps = new int[1 << 20];

        void startFile(String n) {
            name = n;
            dec = new Utf8Decoder();
            fileValid = true;
            fileChars.clear();
        }

        void add(byte[] b, int n) {
            bytes += n;
            for (int i = 0; i < n; i++) byteValues.set(b[i] & 0xFF);
            if (!fileValid) return;
            if (cps.length < n) cps = new int[n];
            try {
                int k = dec.decode(b, 0, n, cps);
                for (int i = 0; i < k; i++) fileChars.set(cps[i]);
            } catch (Utf8Decoder.Malformed m) {
                fileValid = false;
            }
        }

        void endFile() {
            files++;
            if (fileValid) {
                try {
                    dec.finish();
                } catch (Utf8Decoder.Malformed m) {
                    fileValid = false;
                }
            }
            if (fileValid) chars.or(fileChars);
            else {
                invalidFiles++;
                if (invalidExamples.size() < 3) invalidExamples.add(name);
            }
        }

        /**
         * After a path repeated in an archive: files and bytes count only the entries kept (the
         * distinct-character sets may still include characters of a replaced entry).
         */
        void keepOnly(java.util.Collection<Piece> kept, int nFiles) {
            long b = 0;
            for (Piece p : kept) b += p.length();
            bytes = b;
            files = nFiles;
        }
    }
}
