package org.charrnn.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * The files that make a directory a run's, so that a fresh run of either kind refuses a directory
 * whose files it would overwrite: {@code charrnn train}'s checkpoints ({@link Checkpoint}) and
 * {@code charrnn caption train}'s model and resume state, named here.
 */
public final class RunFiles {
    /** A caption run's best model by val loss. */
    public static final String CAPTION_MODEL = "caption.safetensors";
    /** A caption run's state after its last whole epoch. */
    public static final String CAPTION_STATE = "resume.safetensors";

    private RunFiles() {}

    /** The caption run files in {@code dir}, model first; empty where there are none (or no dir). */
    public static List<String> captionRun(Path dir) {
        List<String> held = new ArrayList<>();
        for (String name : List.of(CAPTION_MODEL, CAPTION_STATE)) if (Files.exists(dir.resolve(name))) held.add(name);
        return held;
    }

    /**
     * Deletes the temp files that writes of a caption run's model or state left in {@code dir} when
     * a crash cut them short (the files themselves are replaced whole or not at all); returns how
     * many. Only while the run's lock is held.
     */
    public static int removeCaptionLeftovers(Path dir) {
        try {
            return AtomicFile.removeLeftovers(dir, Pattern.quote(CAPTION_MODEL) + "|" + Pattern.quote(CAPTION_STATE));
        } catch (IOException e) {
            throw new UserError("cannot clean " + dir + ": " + IoErrors.reason(e), e);
        }
    }
}
