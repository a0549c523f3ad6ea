package org.charrnn.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * Builds a corpus from a directory tree: the regular files that a {@link PathSelection} selects,
 * concatenated in sorted path order (paths relative to the tree compared as strings; symbolic
 * links are neither followed nor read), with no separators between files. The output is written
 * to a temporary file beside it and renamed into place, so on any error nothing is left at {@code
 * --out}; a walk never picks up the output itself when it lies inside the tree.
 *
 * <p>{@link #build} ({@code charrnn corpus dir}) is text-only: a file with a NUL byte (binary) or
 * that is not valid UTF-8 is left out and counted, and a leading UTF-8 byte-order mark of a file
 * is dropped, so the corpus is clean UTF-8. {@link LinuxCorpus} is the same walk with its own
 * {@link Config}: .c and .h files of a tree that must look like a kernel, every file kept.
 */
public final class DirectoryCorpus {
    private static final int BUFFER = 1 << 20;

    private DirectoryCorpus() {}

    /**
     * How a tree becomes a corpus.
     *
     * @param selection which files go in
     * @param textOnly  leave out binary and invalid UTF-8 files and drop byte-order marks, rather
     *                  than copying every selected file as it is
     * @param checkTree checks the tree's root before the walk (throws a {@link UserError})
     * @param noFiles   the error message when {@code selection} matches nothing under the root
     */
    record Config(PathSelection selection, boolean textOnly, TreeCheck checkTree, Function<Path, String> noFiles) {}

    /** A check of the tree's root, which throws a {@link UserError} if the tree is not the kind wanted. */
    @FunctionalInterface
    interface TreeCheck {
        void check(Path root) throws IOException;
    }

    /**
     * Builds a UTF-8 corpus from the files under {@code source} that {@code selection} selects;
     * binary and invalid UTF-8 files are skipped and counted in the statistics.
     */
    public static CorpusStats build(Path source, Path out, PathSelection selection, Progress progress) {
        Config config = new Config(
                selection, true, root -> {}, root -> "no files under " + root + " match " + selection.describe());
        return CorpusBuild.run(
                source,
                out,
                "a corpus",
                new CorpusCounter(true),
                (target, counter, p) -> {
                    if (!Files.isDirectory(target.source()))
                        throw new UserError("--source " + source + " is not a directory");
                    concatenate(target, config, counter, p);
                },
                progress);
    }

    /** Walks the target's source directory and writes the selected files into its temporary file. */
    static void concatenate(CorpusBuild.Target target, Config config, CorpusCounter counter, Progress progress)
            throws IOException {
        Path root = target.source();
        config.checkTree().check(root);
        Map<String, Long> sizes = new HashMap<>();
        Files.walkFileTree(
                root,
                EnumSet.noneOf(java.nio.file.FileVisitOption.class),
                Integer.MAX_VALUE,
                new Walk(root, target, config.selection(), sizes));
        if (sizes.isEmpty()) throw new UserError(config.noFiles().apply(root));
        List<String> rel = new ArrayList<>(sizes.keySet());
        rel.sort(Comparator.naturalOrder());
        long total = 0;
        for (long s : sizes.values()) total += s;
        byte[] buf = new byte[BUFFER];
        long done = 0;
        try (FileChannel o = FileChannel.open(target.tmp(), StandardOpenOption.WRITE)) {
            for (String r : rel) {
                long start = o.position();
                if (!copy(root.resolve(r), r, o, buf, config.textOnly(), counter)) {
                    o.truncate(start);
                    o.position(start);
                }
                done += sizes.get(r);
                progress.update(done, total, String.format(Locale.ROOT, "%,d files", counter.files()));
            }
        }
        if (counter.files() == 0)
            throw new UserError(String.format(
                    Locale.ROOT,
                    "none of the %,d files under %s that match %s is UTF-8 text: %s",
                    rel.size(),
                    root,
                    config.selection().describe(),
                    counter.stats(target.out(), 0).skipped()));
        if (counter.bytes() == 0)
            throw new UserError(
                    counter.files() == 1
                            ? String.format(
                                    Locale.ROOT,
                                    "the one file under %s that matches %s is empty",
                                    root,
                                    config.selection().describe())
                            : String.format(
                                    Locale.ROOT,
                                    "the %,d files under %s that match %s are all empty",
                                    counter.files(),
                                    root,
                                    config.selection().describe()));
    }

    /** Appends one file to {@code o}; false if the counter rejected it (its bytes must be dropped). */
    private static boolean copy(
            Path file, String rel, FileChannel o, byte[] buf, boolean textOnly, CorpusCounter counter)
            throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            counter.startFile(rel);
            boolean first = true;
            int n;
            while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
                int off = first && textOnly && startsWithBom(buf, n) ? 3 : 0;
                first = false;
                if (!counter.add(buf, off, n - off)) break;
                ByteBuffer bb = ByteBuffer.wrap(buf, off, n - off);
                while (bb.hasRemaining()) o.write(bb);
            }
            return counter.endFile();
        } catch (NoSuchFileException e) {
            throw new UserError(file + " disappeared while the corpus was being built", e);
        }
    }

    private static boolean startsWithBom(byte[] b, int n) {
        return n >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF;
    }

    /** Collects the selected regular files with their sizes, pruning excluded directories. */
    private static final class Walk implements FileVisitor<Path> {
        private final Path root;
        private final CorpusBuild.Target target;
        private final PathSelection selection;
        private final Map<String, Long> sizes;

        Walk(Path root, CorpusBuild.Target target, PathSelection selection, Map<String, Long> sizes) {
            this.root = root;
            this.target = target;
            this.selection = selection;
            this.sizes = sizes;
        }

        private String rel(Path p) {
            return root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
        }

        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (!dir.equals(root) && selection.excludesDirectory(rel(dir))) return FileVisitResult.SKIP_SUBTREE;
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            if (!attrs.isRegularFile()) return FileVisitResult.CONTINUE; // symbolic links, devices, pipes
            String r = rel(file);
            if (selection.selects(r) && !target.isOutput(file)) sizes.put(r, attrs.size());
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
            throw exc;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
            if (exc != null) throw exc;
            return FileVisitResult.CONTINUE;
        }
    }
}
