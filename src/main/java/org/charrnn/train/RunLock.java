package org.charrnn.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * An exclusive lock on a run directory for the life of a run, so that a second trainer on the same
 * --out (a fresh run or a --resume) fails with one line naming the process that holds it instead of
 * silently overwriting checkpoints and metrics. It is the operating system's lock on
 * {@code DIR/.lock}, which dies with its process: the lock of a killed run is simply taken over.
 * The file holds the holder's pid and start time, for the message. {@code charrnn caption train}
 * takes the same lock on its --out.
 */
public final class RunLock implements AutoCloseable {
    static final String FILE = ".lock";

    private final FileChannel channel;
    private final FileLock lock;
    private final Path made; // the directory where the run made it, else null

    private RunLock(FileChannel channel, FileLock lock, Path made) {
        this.channel = channel;
        this.lock = lock;
        this.made = made;
    }

    /** Takes the lock of {@code dir} (which exists) or throws a one-line UserError naming the holder. */
    public static RunLock acquire(Path dir) {
        return acquire(dir, false);
    }

    /**
     * As {@link #acquire(Path)}; {@code made}: the run made {@code dir}, which {@link #close} then
     * removes where the run wrote nothing into it (refused before its first file: no CUDA, a model
     * too large), so that no empty run directory is left behind, one more per try.
     */
    public static RunLock acquire(Path dir, boolean made) {
        Path file = dir.resolve(FILE);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // held by this very process (another trainer in the same JVM)
            }
            if (l == null) {
                String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
                ch.close();
                throw UserError.naming("{Checkpointing.out} " + dir + " is in use by another charrnn run ("
                        + (holder.isEmpty() ? "holder unknown" : holder)
                        + "); wait for it to end or give another {Checkpointing.out}");
            }
            byte[] me = ("pid " + ProcessHandle.current().pid() + ", started " + Instant.now())
                    .getBytes(StandardCharsets.UTF_8);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me), 0);
            ch.force(false);
            return new RunLock(ch, l, made ? dir : null);
        } catch (IOException e) {
            try {
                if (ch != null) ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UserError("cannot lock the run directory " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * Releases the lock. The file stays (removing it could race with a process about to lock it),
     * but for a directory the run made and left with nothing else in it: the lock file and the
     * directory are removed while the lock is still held. A process that opened the file meanwhile
     * then finds the lock taken or the directory gone, and says so in one line.
     */
    @Override
    public void close() {
        try {
            if (made != null) removeIfUnused(made);
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UserError("cannot release the lock of the run directory: " + IoErrors.reason(e), e);
        }
    }

    /** Removes {@code dir} where it holds only the lock file; anything else there keeps it. */
    private static void removeIfUnused(Path dir) {
        try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
            if (!entries.map(p -> p.getFileName().toString()).toList().equals(java.util.List.of(FILE))) return;
            Files.delete(dir.resolve(FILE));
            Files.delete(dir);
        } catch (IOException e) {
            // written into meanwhile, or gone already: nothing of this run's to remove, and no error of it
        }
    }
}
