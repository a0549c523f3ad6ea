package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Files written atomically get the permissions any new file of the user gets (the umask's), not owner-only ones. */
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
}
