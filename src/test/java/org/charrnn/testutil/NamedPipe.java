package org.charrnn.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

/** Named pipes (mkfifo) for the tests of output paths that are not regular files. */
public final class NamedPipe {
    private NamedPipe() {}

    /** A new named pipe at {@code p}. */
    public static Path at(Path p) throws Exception {
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor(), "mkfifo " + p);
        return p;
    }
}
