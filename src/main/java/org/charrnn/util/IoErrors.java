package org.charrnn.util;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * An I/O error in words, for the one-line messages of {@link UserError}: {@code "cannot write " +
 * out + ": " + IoErrors.reason(e)}. The file-system exceptions whose message is only a path
 * (AccessDeniedException, NoSuchFileException, ...) say what happened to it.
 */
public final class IoErrors {
    private IoErrors() {}

    /** The reason a FileSystemException gives for ENOTDIR. */
    private static final String NOT_A_DIRECTORY = "Not a directory";

    /**
     * "permission denied"; "/a/b does not exist" (the outermost missing directory where a file's
     * directory does not exist either), "is not a directory", "is a directory that is not
     * empty", "is a directory", {@link AtomicFile#SPECIAL}, "exists and is not a directory", "is
     * not a directory" (a file where a path needs a directory: the file named); a FileSystemException's path and reason ("/a/b:
     * Read-only file system"); "it is not UTF-8 text" for a CharacterCodingException; "it ends
     * early" for an EOFException without a message; else the message ("No space left on device"),
     * or the exception's name where it has none.
     */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException n && n.getFile() != null)
            return missing(Path.of(n.getFile())) + " does not exist";
        if (e instanceof NotDirectoryException n) return n.getFile() + " is not a directory";
        if (e instanceof DirectoryNotEmptyException d) return d.getFile() + " is a directory that is not empty";
        // what Files.createDirectories throws where a file stands in the way of a directory
        if (e instanceof FileAlreadyExistsException f) return f.getFile() + " exists and is not a directory";
        if (e instanceof FileSystemException f && AtomicFile.IS_A_DIRECTORY.equals(f.getReason()))
            return (f.getOtherFile() != null ? f.getOtherFile() : f.getFile()) + " is a directory";
        if (e instanceof FileSystemException f && AtomicFile.NOT_A_REGULAR_FILE.equals(f.getReason()))
            return f.getFile() + " " + AtomicFile.SPECIAL;
        // what the system says where a file stands in the way of a directory above the path
        if (e instanceof FileSystemException f && NOT_A_DIRECTORY.equals(f.getReason()) && f.getFile() != null) {
            for (Path p = Path.of(f.getFile()).getParent(); p != null; p = p.getParent())
                if (Files.exists(p) && !Files.isDirectory(p)) return p + " is not a directory";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getMessage();
        // text read as UTF-8 that is not (MalformedInputException's message is only "Input length = 1")
        if (e instanceof CharacterCodingException) return "it is not UTF-8 text";
        // a stream that ends inside what it was reading (a cut-short archive, compressed or not)
        if (e instanceof EOFException && e.getMessage() == null) return "it ends early";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** The outermost of {@code file} and its directories that does not exist: the one to create. */
    private static Path missing(Path file) {
        Path p = file;
        while (p.getParent() != null && !Files.exists(p.getParent())) p = p.getParent();
        return p;
    }
}
