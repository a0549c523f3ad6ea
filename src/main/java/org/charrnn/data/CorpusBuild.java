package org.charrnn.data;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * The part every corpus builder shares: checks of {@code --source} and {@code --out}, a temporary
 * file beside the output that the builder writes, then renamed into place (so on any error
 * nothing is left at {@code --out}), and the statistics.
 */
final class CorpusBuild {
    private CorpusBuild() {}

    /** Writes the corpus into the target's {@code tmp}, counting what it writes with {@code counter}. */
    @FunctionalInterface
    interface Body {
        void write(Target target, CorpusCounter counter, Progress progress) throws IOException;
    }

    /**
     * Where a builder reads and writes: {@code source} (resolved to its real path if a directory),
     * the temporary file {@code tmp} to write, and the final {@code out}, both absolute. A tree
     * walk must not pick up either.
     */
    record Target(Path source, Path tmp, Path out) {
        /** Whether {@code p} is the output or the temporary file (which may lie inside the source tree). */
        boolean isOutput(Path p) throws IOException {
            Path name = p.getFileName();
            if (name == null) return false;
            if (name.equals(tmp.getFileName()) && Files.isSameFile(p, tmp)) return true;
            return name.equals(out.getFileName()) && Files.exists(out) && Files.isSameFile(p, out);
        }
    }

    /**
     * Runs {@code body} for {@code source} into a temporary file and renames it to {@code out};
     * {@code what} names the corpus in error messages ("the linux corpus").
     */
    static CorpusStats run(Path source, Path out, String what, CorpusCounter counter, Body body, Progress progress) {
        long t0 = System.nanoTime();
        if (progress == null) progress = Progress.NONE;
        if (!Files.exists(source)) throw new UserError("--source " + source + " does not exist");
        AtomicFile.requireFileTarget("--out", out);
        try {
            if (Files.exists(out) && Files.isSameFile(source, out))
                throw new UserError("--out " + out + " is the --source itself; give another file name");
            if (Files.isDirectory(source)) source = source.toRealPath();
        } catch (IOException e) {
            throw new UserError("cannot read --source " + source + ": " + IoErrors.reason(e), e);
        }
        Path outAbs = out.toAbsolutePath();
        Path tmp;
        try {
            AtomicFile.createDirectories(outAbs.getParent());
            tmp = AtomicFile.createTemp(outAbs.getParent(), "." + outAbs.getFileName() + ".", ".tmp");
        } catch (IOException e) {
            throw new UserError("cannot write --out " + out + ": " + IoErrors.reason(e), e);
        }
        boolean ok = false;
        try {
            body.write(new Target(source, tmp, outAbs), counter, progress);
            try {
                AtomicFile.commit(tmp, outAbs);
            } catch (IOException e) {
                throw new UserError("cannot write --out " + out + ": " + IoErrors.reason(e), e);
            }
            ok = true;
            return counter.stats(out, (System.nanoTime() - t0) / 1e9);
        } catch (AccessDeniedException e) {
            throw new UserError("cannot read " + e.getFile() + ": permission denied", e);
        } catch (IOException e) {
            throw new UserError("cannot build " + what + " from " + source + ": " + IoErrors.reason(e), e);
        } finally {
            progress.finish();
            if (!ok) deleteQuietly(tmp);
        }
    }

    /** Removes a temporary file after a failed build; the build's own error is the one reported. */
    static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            // what is left is a hidden .tmp file beside --out; the failure that got us here matters more
            tmp.toFile().deleteOnExit();
        }
    }
}
