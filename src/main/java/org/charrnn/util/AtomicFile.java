package org.charrnn.util;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Atomic file replacement: write a temp file in the target's directory, fsync it, rename it over
 * the target, fsync the directory. A crash leaves either the old file or the new one, never a
 * torn one.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** The reason of the FileSystemException for a target that is a directory (as Linux words it). */
    public static final String IS_A_DIRECTORY = "Is a directory";

    /**
     * The reason of the FileSystemException for a target that is a device, pipe or socket: renaming a
     * file over it would replace the node itself ({@code /dev/null} as root), so none is written.
     */
    public static final String NOT_A_REGULAR_FILE = "Not a regular file";

    /** What a device, pipe or socket is said to be where a file is wanted: "{path} " + this. */
    public static final String SPECIAL = "is not a regular file (a device, pipe or socket)";

    /** The reason for a directory that exists but where no file can be created (procfs). */
    static final String CANNOT_CREATE = "no file can be created there";

    /** Writes the body of a file through a channel. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    public static void write(Path target, Body body) throws IOException {
        requireReplaceable(target); // before a temp file is made in the directory above it
        Path dir = target.toAbsolutePath().getParent();
        createDirectories(dir);
        Path tmp = createTemp(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch =
                    FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
            }
            commit(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Files.createDirectories, where a directory that exists but takes no new entries (/proc, whose
     * mkdir answers "no such file") is named as such rather than the new directory said not to exist.
     */
    public static void createDirectories(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
        } catch (java.nio.file.NoSuchFileException e) {
            // the directory mkdir was refused in: it exists, so its file system takes no new entries there
            Path parent = e.getFile() == null
                    ? null
                    : Path.of(e.getFile()).toAbsolutePath().getParent();
            if (parent != null && Files.isDirectory(parent))
                throw new FileSystemException(parent.toString(), null, CANNOT_CREATE);
            throw e;
        }
    }

    /**
     * A new empty file {@code dir/prefix<random>suffix} with the permissions of any file the user
     * creates (the umask's), unlike Files.createTempFile, whose files are owner-only: what is
     * renamed into place keeps them.
     */
    public static Path createTemp(Path dir, String prefix, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve(prefix
                    + Long.toUnsignedString(
                            java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36)
                    + suffix);
            try {
                return Files.createFile(p);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            } catch (java.nio.file.NoSuchFileException e) {
                // a directory that exists but takes no new files (/proc): say so, not that the temp file is missing
                if (Files.isDirectory(dir)) throw new FileSystemException(dir.toString(), null, CANNOT_CREATE);
                throw e;
            }
        }
    }

    /**
     * Puts a fully written temp file (in the target's directory) in place of {@code target}:
     * fsync the file, rename it over the target (atomically where the file system can), fsync the
     * directory. For writers that stream into their own temp file.
     */
    public static void commit(Path tmp, Path target) throws IOException {
        requireReplaceable(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    /**
     * Why a file cannot be written at {@code target} ("is a directory", "is not a regular file (a
     * device, pipe or socket)"), or null where it is absent or a regular file, links followed: for
     * the commands' checks of their output paths before any work.
     */
    public static String unwritable(Path target) {
        if (Files.isDirectory(target)) return "is a directory";
        if (isSpecial(target)) return SPECIAL;
        return null;
    }

    /**
     * A command's check of its output path before any work: a {@link UserError} "{@code option}
     * {@code target} is a directory; give a file name" (or a device, pipe or socket) where {@link
     * #unwritable} says why no file can go there, or "cannot write {@code option} {@code target}:
     * why" where its directory takes no new file.
     */
    public static void requireFileTarget(String option, Path target) {
        String why = unwritable(target);
        if (why != null) throw new UserError(option + " " + target + " " + why + "; give a file name");
        try {
            probeDirectory(target);
        } catch (IOException e) {
            throw new UserError("cannot write " + option + " " + target + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * Creates and deletes a temp file ({@code .NAME.RANDOM.tmp}, as {@link #write} makes) in the
     * nearest existing directory above {@code target}: an IOException where no file can go there (a
     * read-only file system, no permission, procfs, a file in the way), before any work is done.
     * Creates no directory.
     */
    private static void probeDirectory(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        while (dir.getParent() != null && !Files.exists(dir)) dir = dir.getParent();
        if (!Files.isDirectory(dir)) throw new java.nio.file.NotDirectoryException(dir.toString());
        Files.delete(createTemp(dir, "." + target.getFileName() + ".", ".tmp"));
    }

    /**
     * Whether {@code p} is a device, pipe or socket (links followed): neither absent, a directory nor
     * a regular file. Opening a pipe waits for the other end; renaming over a device replaces the node.
     */
    public static boolean isSpecial(Path p) {
        return Files.exists(p) && !Files.isDirectory(p) && !Files.isRegularFile(p);
    }

    /**
     * A FileSystemException ({@link #NOT_A_REGULAR_FILE}) where {@code p} {@link #isSpecial is a
     * device, pipe or socket}: for writers that open a file in place, which a pipe would block.
     */
    public static void requireNotSpecial(Path p) throws FileSystemException {
        if (isSpecial(p)) throw new FileSystemException(p.toString(), null, NOT_A_REGULAR_FILE);
    }

    private static void requireReplaceable(Path target) throws FileSystemException {
        if (Files.isDirectory(target)) throw new FileSystemException(target.toString(), null, IS_A_DIRECTORY);
        requireNotSpecial(target);
    }

    /**
     * Deletes the temp files ({@code .NAME.RANDOM.tmp}) that writes to files of {@code dir} whose
     * names match {@code targetNames} (a regular expression) left behind when a crash cut them
     * short; returns how many. Call it only while no other process writes there.
     */
    public static int removeLeftovers(Path dir, String targetNames) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        Pattern leftover = Pattern.compile("\\.(?:" + targetNames + ")\\.[0-9a-z]+\\.tmp");
        int n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (leftover.matcher(p.getFileName().toString()).matches() && Files.deleteIfExists(p)) n++;
            }
        }
        return n;
    }

    /** Atomically writes a UTF-8 string. */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, ch -> {
            var buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems cannot open or sync a directory; the rename itself is still atomic.
        }
    }
}
