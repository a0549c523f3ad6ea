package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./charrnn} launcher's first-use build: Maven's output reaches a redirected stderr
 * without its colour codes, and a failed build is one closing line and exit 1. A stand-in
 * {@code mvn} on the PATH prints coloured output and fails, in a copy of the launcher with no jar.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("charrnn.basedir"), "charrnn");

    @Test
    void aFailedBuildReachesALogWithoutColourCodes(@TempDir Path dir) throws IOException, InterruptedException {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.copy(LAUNCHER, root.resolve("charrnn"));
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path mvn = Files.writeString(
                bin.resolve("mvn"),
                "#!/bin/sh\nprintf '\\033[1;31m[ERROR]\\033[m COMPILATION ERROR in Foo.java\\n'\nexit 1\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path err = dir.resolve("stderr.log");
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("charrnn").toString(), "--help")
                .redirectErrorStream(false)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        String log = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(1, p.exitValue(), log);
        assertTrue(log.contains("[ERROR] COMPILATION ERROR in Foo.java"), log);
        assertFalse(log.contains("\u001b"), "colour codes in a redirected log: " + log);
        assertTrue(log.strip().endsWith("charrnn: build failed (see the Maven output above)"), log);
    }
}
