package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;
import org.charrnn.testutil.NamedPipe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file-system exceptions whose message is a bare path say what happened to it. */
class IoErrorsTest {
    @TempDir
    Path dir;

    @Test
    void eachExceptionInWords() {
        assertEquals("permission denied", IoErrors.reason(new AccessDeniedException("/a/b")));
        assertEquals(dir.resolve("b") + " does not exist", IoErrors.reason(new NoSuchFileException(dir + "/b")));
        assertEquals("/a/b is not a directory", IoErrors.reason(new NotDirectoryException("/a/b")));
        assertEquals("/a/b is a directory that is not empty", IoErrors.reason(new DirectoryNotEmptyException("/a/b")));
        assertEquals(
                "/a/b: Read-only file system",
                IoErrors.reason(new FileSystemException("/a/b", null, "Read-only file system")));
        assertEquals("No space left on device", IoErrors.reason(new IOException("No space left on device")));
        assertEquals("IOException", IoErrors.reason(new IOException()));
        assertEquals("it ends early", IoErrors.reason(new java.io.EOFException()));
        assertEquals("it is not UTF-8 text", IoErrors.reason(new java.nio.charset.MalformedInputException(1)));
        assertEquals(
                "Unexpected end of ZLIB input stream",
                IoErrors.reason(new java.io.EOFException("Unexpected end of ZLIB input stream")));
    }

    @Test
    void aFileWhereADirectoryShouldBe() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException e = assertThrows(IOException.class, () -> Files.createDirectories(file));
        assertEquals(file + " exists and is not a directory", IoErrors.reason(e));
        IOException below = assertThrows(IOException.class, () -> Files.createDirectories(file.resolve("sub")));
        assertEquals(file + " is not a directory", IoErrors.reason(below));
        IOException deeper = assertThrows(IOException.class, () -> Files.writeString(file.resolve("a/b.txt"), "x"));
        assertEquals(file + " is not a directory", IoErrors.reason(deeper));
        IOException missing = assertThrows(IOException.class, () -> Files.readString(dir.resolve("none")));
        assertEquals(dir.resolve("none") + " does not exist", IoErrors.reason(missing));
        Path deep = dir.resolve("x").resolve("y").resolve("f.jsonl");
        IOException noDir = assertThrows(IOException.class, () -> Files.writeString(deep, "{}"));
        assertEquals(dir.resolve("x") + " does not exist", IoErrors.reason(noDir), "the directory to create");
    }

    @Test
    void aDirectoryWhereAFileShouldBe() throws IOException {
        Path target = Files.createDirectory(dir.resolve("out.html"));
        IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(target, "x"));
        assertEquals(target + " is a directory", IoErrors.reason(e));
        try (var left = Files.list(dir)) {
            assertEquals(List.of(target), left.toList(), "no temporary file left beside it");
        }
        IOException rename = new FileSystemException("/a/.x.tmp", "/a/x", AtomicFile.IS_A_DIRECTORY);
        assertEquals("/a/x is a directory", IoErrors.reason(rename), "a rename onto a directory names the target");
    }

    /** A write onto a device or pipe would rename a file over the node itself (as root): none is written. */
    @Test
    void aPipeWhereAFileShouldBe() throws Exception {
        Path fifo = NamedPipe.at(dir.resolve("out.html"));
        Path link = Files.createSymbolicLink(dir.resolve("link.html"), fifo);
        for (Path target : List.of(fifo, link)) {
            IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(target, "x"));
            assertEquals(target + " is not a regular file (a device, pipe or socket)", IoErrors.reason(e));
            assertEquals("is not a regular file (a device, pipe or socket)", AtomicFile.unwritable(target));
        }
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the pipe is still a pipe");
        assertTrue(Files.isSymbolicLink(link), "the link is still a link");
        try (var left = Files.list(dir)) {
            assertEquals(2, left.count(), "no temporary file left beside them");
        }
        assertEquals(null, AtomicFile.unwritable(dir.resolve("new.html")));
        assertEquals("is a directory", AtomicFile.unwritable(dir));
    }

    /** A directory that exists but takes no files (procfs) is named, not the temporary file's path. */
    @Test
    void aDirectoryThatTakesNoFiles() {
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc.resolve("self")), "no procfs here");
        // procfs answers root's create with ENOENT; anyone else is refused (EACCES) before it asks
        assumeTrue(Files.isWritable(proc), "/proc is not writable for this user: its answer is permission denied");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(proc.resolve("x.html"), "x"));
        assertEquals("/proc: no file can be created there", IoErrors.reason(e));
    }

    /** Likewise a directory made there (a run directory, a cache directory): not "/proc/run does not exist". */
    @Test
    void aDirectoryWhereNoneCanBeMade() {
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc.resolve("self")), "no procfs here");
        assumeTrue(Files.isWritable(proc), "/proc is not writable for this user: its answer is permission denied");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.createDirectories(proc.resolve("run/ckpt")));
        assertEquals("/proc: no file can be created there", IoErrors.reason(e));
        IOException missing =
                assertThrows(IOException.class, () -> AtomicFile.createDirectories(Path.of("/proc/self/no-such/dir")));
        assertEquals("/proc/self: no file can be created there", IoErrors.reason(missing));
    }
}
