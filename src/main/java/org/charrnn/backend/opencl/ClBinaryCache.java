package org.charrnn.backend.opencl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;

/**
 * Built OpenCL program binaries on disk, so that a later process loads the kernels instead of
 * compiling them: one file {@code <dir>/<key>.bin} per program, where the key hashes everything
 * the binary depends on (platform, device, driver, build options and source). A file holds a magic
 * string, the SHA-256 of the binary and the binary; one that is missing, truncated or altered reads
 * as absent. Files are written atomically, and only the {@value #KEEP} most recently written stay.
 * A cache that cannot be written (a read-only directory) costs a compile at every start and one
 * warning per process, never an error.
 */
final class ClBinaryCache {
    /** How many binaries the directory keeps (older kernel sources, other devices and drivers). */
    static final int KEEP = 16;

    private static final byte[] MAGIC = "charrnn-cl-binary-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BYTES = 32;
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final Path dir;
    private final AtomicBoolean warned;

    /** A cache in {@code dir} that warns at most once per process. */
    ClBinaryCache(Path dir) {
        this(dir, WARNED);
    }

    /** A cache in {@code dir} that warns at most once per {@code warned} flag (tests pass their own). */
    ClBinaryCache(Path dir, AtomicBoolean warned) {
        this.dir = dir;
        this.warned = warned;
    }

    Path dir() {
        return dir;
    }

    /**
     * The key of a program: SHA-256 (hex) over the platform's name and version, the device's name,
     * vendor and version, the driver version, the build options and the source.
     */
    static String key(List<String> deviceAndDriver, String buildOptions, String source) {
        MessageDigest md = sha256();
        List<String> parts = new ArrayList<>(deviceAndDriver);
        parts.add(buildOptions);
        parts.add(source);
        for (String s : parts) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            md.update(ByteBuffer.allocate(8).putLong(b.length).array()); // lengths keep the parts apart
            md.update(b);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The file of {@code key}. */
    Path file(String key) {
        return dir.resolve(key + ".bin");
    }

    /**
     * The binary stored under {@code key}, or null when there is none, the file is damaged or it
     * cannot be read (then the program is compiled and {@link #write} replaces the file or, where
     * the directory is unusable, warns).
     */
    byte[] read(String key) {
        byte[] all;
        try {
            all = Files.readAllBytes(file(key));
        } catch (IOException e) {
            return null; // absent or unreadable: a cache miss
        }
        int head = MAGIC.length + DIGEST_BYTES;
        if (all.length <= head || !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) return null;
        byte[] binary = Arrays.copyOfRange(all, head, all.length);
        byte[] want = Arrays.copyOfRange(all, MAGIC.length, head);
        return MessageDigest.isEqual(want, sha256().digest(binary)) ? binary : null;
    }

    /**
     * Stores {@code binary} under {@code key} (replacing any file there) and removes all but the
     * {@value #KEEP} newest binaries; where the directory cannot be written, warns once and goes on.
     */
    void write(String key, byte[] binary, Consumer<String> log) {
        byte[] digest = sha256().digest(binary);
        try {
            AtomicFile.write(file(key), ch -> {
                ByteBuffer buf = ByteBuffer.allocate(MAGIC.length + DIGEST_BYTES + binary.length);
                buf.put(MAGIC).put(digest).put(binary).flip();
                while (buf.hasRemaining()) ch.write(buf);
            });
            prune();
        } catch (IOException e) {
            warnOnce(
                    log,
                    "cannot write the OpenCL kernel cache in " + dir + " (" + IoErrors.reason(e)
                            + "); the kernels will be compiled again at every start");
        }
    }

    /** Deletes all but the {@value #KEEP} most recently written binaries. */
    private void prune() throws IOException {
        record Entry(Path path, FileTime written) {}
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p :
                    s.filter(p -> p.getFileName().toString().endsWith(".bin")).toList())
                entries.add(new Entry(p, written(p)));
        }
        entries.sort(Comparator.comparing(Entry::written).reversed());
        for (int i = KEEP; i < entries.size(); i++)
            Files.deleteIfExists(entries.get(i).path());
    }

    private static FileTime written(Path p) throws IOException {
        try {
            return Files.getLastModifiedTime(p);
        } catch (NoSuchFileException e) {
            return FileTime.fromMillis(0); // removed meanwhile by another process: the oldest
        }
    }

    private void warnOnce(Consumer<String> log, String message) {
        if (warned.compareAndSet(false, true)) log.accept("WARNING: " + message);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
