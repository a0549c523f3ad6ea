package org.charrnn.testutil;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A tmpfs of a given size mounted on a test's directory, for the tests of a disk that fills up
 * during a run. Where this process may not mount one (not Linux, not root, or no CAP_SYS_ADMIN in
 * a container) {@link #mount} skips the test.
 */
public final class SmallDisk implements AutoCloseable {
    /** tmpfs allocates whole pages. */
    public static final long PAGE = 4096;

    private final Path at;

    private SmallDisk(Path at) {
        this.at = at;
    }

    /** Mounts a tmpfs of {@code size} (as mount(8) reads it: "1m") on the empty directory {@code at}. */
    public static SmallDisk mount(Path at, String size) throws IOException, InterruptedException {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "a tmpfs of a given size needs Linux's mount");
        assumeTrue(
                command("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString()),
                "mounting a small tmpfs needs root (CAP_SYS_ADMIN in a container)");
        return new SmallDisk(at);
    }

    /** The pages {@code file} takes on a tmpfs. */
    public static long pages(Path file) throws IOException {
        return (Files.size(file) + PAGE - 1) / PAGE;
    }

    /** Fills the disk with one file until {@code pages} pages are left free; returns that file. */
    public Path fillUpTo(long pages) throws IOException {
        Path filler = at.resolve("filler");
        Files.write(filler, new byte[(int) (Files.getFileStore(at).getUsableSpace() - pages * PAGE)]);
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (!command("umount", at.toString()))
            throw new IllegalStateException("could not unmount the test's tmpfs at " + at);
    }

    private static boolean command(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
