package org.charrnn.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.RunFiles;
import org.charrnn.train.RunLock;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/** The --out of a caption run: locked while it runs, and refused to a fresh run where it holds one. */
final class CaptionRunDirectory {
    private CaptionRunDirectory() {}

    /**
     * Takes {@code out} for a caption run: creates it and locks it for this process (a second run on
     * it fails with one line naming the holder, as {@code charrnn train}'s does); a fresh run then
     * refuses a directory that holds another run, whose model, state and metrics it would overwrite.
     * Once it holds the lock, it deletes the temp files of model and state writes that a crash (kill
     * -9, power loss) cut short, and says how many.
     */
    static RunLock claim(Path out, boolean fresh, Consumer<String> log) {
        boolean made = !Files.exists(out);
        create(out);
        RunLock lock = RunLock.acquire(out, made);
        try {
            if (fresh)
                refuseTaken(out, "continue it with --resume (and a higher --epochs), or give a new --out directory");
            int partial = RunFiles.removeCaptionLeftovers(out);
            if (partial > 0)
                log.accept("removed " + partial + " unfinished file" + (partial == 1 ? "" : "s")
                        + " (a crash cut their writing short) from " + out);
        } catch (UserError e) {
            lock.close();
            throw e;
        }
        return lock;
    }

    /** Creates {@code out} (and its parents) and checks it takes files; a one-line error if not. */
    static void create(Path out) {
        try {
            AtomicFile.createDirectories(out);
            Files.delete(Files.createTempFile(out, ".write-test", ".tmp"));
        } catch (IOException | SecurityException e) {
            throw new UserError("cannot write to --out " + out + ": "
                    + (e instanceof IOException io ? IoErrors.reason(io) : e.getMessage()));
        }
    }

    /**
     * A one-line error when {@code out} holds a run a fresh caption run would overwrite: a caption
     * run's model or state (the message ends in {@code whatToDo} where the state is there to resume
     * from), or a training run's checkpoints.
     */
    static void refuseTaken(Path out, String whatToDo) {
        List<String> caption = RunFiles.captionRun(out);
        if (!caption.isEmpty())
            throw new UserError(out + " already holds a run (" + String.join(", ", caption) + "); "
                    + (caption.contains(RunFiles.CAPTION_STATE)
                            ? whatToDo
                            : "without its " + RunFiles.CAPTION_STATE + " (a full disk?) it cannot be resumed: give a"
                                    + " new --out directory"));
        List<Path> checkpoints = Checkpoint.list(out);
        if (!checkpoints.isEmpty())
            throw new UserError(out + " holds a training run (newest checkpoint "
                    + checkpoints.get(checkpoints.size() - 1).getFileName()
                    + "), whose metrics a caption run would overwrite; give a new --out directory");
    }
}
