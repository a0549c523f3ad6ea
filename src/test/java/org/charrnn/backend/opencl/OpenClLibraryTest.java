package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The look for libOpenCL.so before JOCL prints its own "Could not load" line. */
class OpenClLibraryTest {

    @Test
    void onlyTheVersionedNameIsAOneLineReason(@TempDir Path dir) throws Exception {
        Path a = Files.createDirectories(dir.resolve("a")), b = Files.createDirectories(dir.resolve("b"));
        Files.createFile(b.resolve("libOpenCL.so.1"));
        String why = OpenClLibrary.missingReason("Linux", List.of(a, b));
        assertTrue(why.startsWith("only " + b.resolve("libOpenCL.so.1") + " is installed"), why);
        assertTrue(why.contains("ocl-icd-opencl-dev") && !why.contains("\n"), why);

        Files.createFile(a.resolve("libOpenCL.so"));
        assertNull(OpenClLibrary.missingReason("Linux", List.of(a, b)));
    }

    @Test
    void noLibraryAtAllSaysWhatToInstall(@TempDir Path dir) {
        String why = OpenClLibrary.missingReason("Linux", List.of(dir));
        assertTrue(why.startsWith("no OpenCL library (libOpenCL.so) found"), why);
        assertNull(OpenClLibrary.missingReason("Mac OS X", List.of(dir)), "JOCL's own search elsewhere");
    }

    @Test
    void searchPathPutsLdLibraryPathFirst() {
        List<Path> dirs = OpenClLibrary.searchPath("/opt/x/lib::/opt/y");
        assertTrue(dirs.get(0).equals(Path.of("/opt/x/lib")) && dirs.get(1).equals(Path.of("/opt/y")), dirs.toString());
        assertTrue(dirs.contains(Path.of("/usr/lib/x86_64-linux-gnu")), dirs.toString());
    }
}
