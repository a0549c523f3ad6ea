package org.charrnn.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.charrnn.util.UserError;

/**
 * Which checkpoint of a run directory {@code --resume} continues from: the newest with its training
 * state, the files a crash or a full disk cut short passed over and said so, and a damaged pick's
 * error naming the complete checkpoint before it.
 */
public final class Resume {
    private Resume() {}

    /** The newest checkpoint of a run directory that has its training state, for --resume. */
    public static Path resolve(Path dir) {
        if (!Files.isDirectory(dir))
            throw UserError.naming("{Options.resume} expects a run directory, " + dir + " is not one");
        List<Path> complete = Checkpoint.listComplete(dir);
        if (!complete.isEmpty()) return complete.get(complete.size() - 1);
        List<Path> models = Checkpoint.list(dir);
        if (models.isEmpty())
            throw new UserError("no resumable checkpoint (ckpt-*.safetensors with its .state.safetensors) in " + dir);
        Path newest = models.get(models.size() - 1);
        throw UserError.naming("no resumable checkpoint in " + dir + ": " + newest.getFileName()
                + " has no training state (" + Checkpoint.statePath(newest).getFileName()
                + " was never written: a crash or a full disk cut the checkpoint short); its weights can start a new"
                + " run with {Options.initFrom}");
    }

    /**
     * The model files of run directory {@code dir} newer than {@code file} that have no training
     * state (a crash or a full disk cut them short), which {@link #resolve} passed over; empty
     * when {@code file} is the newest.
     */
    static List<Path> cutShortAfter(Path dir, Path file) {
        return Checkpoint.list(dir).stream()
                .filter(p -> Checkpoint.iterationOf(p) > Checkpoint.iterationOf(file)
                        && !Files.isRegularFile(Checkpoint.statePath(p)))
                .toList();
    }

    /** For the resume's log line: " (passing over ...)" naming {@link #cutShortAfter}'s files, or "". */
    public static String cutShortNote(Path dir, Path file) {
        List<Path> cut = cutShortAfter(dir, file);
        if (cut.isEmpty()) return "";
        return " (passing over " + cut.get(cut.size() - 1).getFileName()
                + (cut.size() > 1 ? " and " + (cut.size() - 1) + " before it" : "")
                + ": no training state, a crash or a full disk cut " + (cut.size() > 1 ? "them" : "it") + " short)";
    }

    /**
     * {@code load} applied to {@code file}, the checkpoint of run directory {@code dir} that {@link
     * #resolve} picked. Where that fails (a file damaged after it was written: writes are atomic), the
     * error goes on to name the newest complete checkpoint before it, from which the run resumes once the
     * damaged one is moved out of the directory.
     */
    public static <T> T load(Path dir, Path file, Function<Path, T> load) {
        try {
            return load.apply(file);
        } catch (UserError e) {
            Path earlier = null;
            for (Path p : Checkpoint.listComplete(dir))
                if (Checkpoint.iterationOf(p) < Checkpoint.iterationOf(file)) earlier = p;
            if (earlier == null) throw e;
            String stem = file.getFileName().toString().replaceFirst("\\.safetensors$", "");
            throw e.suffixed("; " + earlier.getFileName() + " before it is complete: move " + stem + ".* out of " + dir
                    + " to resume from it");
        }
    }
}
