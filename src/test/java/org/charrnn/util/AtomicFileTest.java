package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written atomically get the permissions any new file of the user gets (the umask's), not
 * owner-only ones; a command's output path is checked before its work.
 */
class AtomicFileTest {

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void writtenFilesHaveUmaskPermissions(@TempDir Path dir) throws Exception {
        Path plain = Files.createFile(dir.resolve("plain.txt")); // what the umask gives
        Path written = dir.resolve("config.json");
        AtomicFile.writeString(written, "{}\n");
        assertEquals(
                PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(written)));
        assertEquals("{}\n", Files.readString(written));
    }

    private static List<Path> listing(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    /** Where no file can go is said before the work that would write it, and the check leaves nothing behind. */
    @Test
    @EnabledOnOs(OS.LINUX)
    void requireFileTargetTriesTheDirectoryFirst(@TempDir Path dir) throws Exception {
        Path blocker = Files.writeString(dir.resolve("blocker"), "a file, not a directory");
        UserError e = assertThrows(
                UserError.class, () -> AtomicFile.requireFileTarget("--out", blocker.resolve("sub/page.html")));
        assertEquals(
                "cannot write --out " + blocker.resolve("sub/page.html") + ": " + blocker + " is not a directory",
                e.getMessage());
        // procfs takes no new files (mkdir there says "no such file")
        Path proc = Path.of("/proc/charrnn-absent/page.html");
        e = assertThrows(UserError.class, () -> AtomicFile.requireFileTarget("--out", proc));
        assertEquals("cannot write --out " + proc + ": /proc: no file can be created there", e.getMessage());

        List<Path> before = listing(dir);
        AtomicFile.requireFileTarget("--out", dir.resolve("new/deeper/page.html"));
        AtomicFile.requireFileTarget("--out", dir.resolve("page.html"));
        assertEquals(before, listing(dir), "no directory made, no temp file left");
    }
}
