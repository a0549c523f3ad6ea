package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {
    @Test
    void aSecondLockNamesTheHolderAndTheFirstIsReleased(@TempDir Path dir) {
        try (RunLock first = RunLock.acquire(dir)) {
            UserError e = assertThrows(UserError.class, () -> RunLock.acquire(dir));
            assertTrue(
                    e.getMessage()
                            .contains("is in use by another charrnn run (pid "
                                    + ProcessHandle.current().pid()),
                    e.getMessage());
        }
        RunLock.acquire(dir).close(); // free again
    }

    @Test
    void aLockFileThatCannotBeOpenedIsOneLineInWords(@TempDir Path dir) throws Exception {
        Files.createDirectory(dir.resolve(RunLock.FILE));
        UserError e = assertThrows(UserError.class, () -> RunLock.acquire(dir));
        assertEquals(
                "cannot lock the run directory " + dir + ": " + dir.resolve(RunLock.FILE) + " is a directory",
                e.getMessage());
    }
}
