package org.charrnn.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.RunFiles;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * What a run keeps in its directory, apart from writing checkpoints: taking the directory (created,
 * writable, locked for the run), pruning old checkpoints, and cleaning the metrics a resume
 * continues.
 */
final class RunDirectory {
    private RunDirectory() {}

    /**
     * Creates the run directory, checks it is writable and locks it for this run (a second run on
     * it fails with one line naming the holder). A fresh run refuses a directory that already holds
     * another run's checkpoints, or a caption run's files: it would overwrite them and mix the metrics.
     */
    static RunLock prepare(Path out, boolean fresh) {
        boolean made = !Files.exists(out);
        try {
            AtomicFile.createDirectories(out);
            Path probe = Files.createTempFile(out, ".write-test", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw UserError.naming("cannot write to {Checkpointing.out} " + out + ": "
                    + (e instanceof IOException io ? IoErrors.reason(io) : e.getMessage()));
        }
        RunLock lock = RunLock.acquire(out, made); // one run per directory, checked before anything else there
        if (fresh) {
            List<Path> existing = Checkpoint.list(out);
            if (!existing.isEmpty()) {
                lock.close();
                throw UserError.naming(out + " already holds a run (newest checkpoint "
                        + existing.get(existing.size() - 1).getFileName() + "); continue it with {Options.resume} "
                        + out
                        + ", or give a new {Checkpointing.out} directory");
            }
            List<String> caption = RunFiles.captionRun(out);
            if (!caption.isEmpty()) {
                lock.close();
                throw UserError.naming(out + " holds a caption run (" + String.join(", ", caption)
                        + "), whose metrics a training run would overwrite; give a new {Checkpointing.out} directory");
            }
        }
        return lock;
    }

    /**
     * Keeps the newest {@code keep} complete checkpoints plus the best complete one by val loss; deletes
     * the other complete ones (model, state and sample). Only complete checkpoints count: a model
     * file without its state file (a crash between the two writes) neither displaces a complete one
     * nor is deleted here. Deletion goes oldest first, and the newest complete one is always kept.
     */
    static void prune(Path out, int keep) throws IOException {
        List<Path> all = Checkpoint.listComplete(out);
        if (all.size() <= keep) return;
        Path best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (Path p : all) {
            double v = Checkpoint.valLoss(p); // NaN (none, or damaged): not the best
            if (v < bestLoss) {
                bestLoss = v;
                best = p;
            }
        }
        for (int i = 0; i < all.size() - keep; i++) {
            Path p = all.get(i);
            if (p.equals(best)) continue;
            Files.deleteIfExists(Checkpoint.statePath(p));
            Files.deleteIfExists(Checkpoint.samplePath(p));
            Files.deleteIfExists(p);
        }
    }

    /**
     * Drops the metrics rows past {@code iteration} (written after the checkpoint a resume starts
     * from, by a run that was then killed) and any partial last line, so that every iteration has
     * one row after the resume. Rewritten atomically.
     */
    static void truncateMetrics(Path file, long iteration) {
        if (!Files.isRegularFile(file)) return;
        try {
            StringBuilder kept = new StringBuilder();
            // bytes that are not UTF-8 (a damaged file) decode to U+FFFD: their line fails to parse and
            // is dropped as a cut-short one is
            for (String line : new String(Files.readAllBytes(file), StandardCharsets.UTF_8)
                    .lines()
                    .toList()) {
                long it;
                try {
                    it = com.google.gson.JsonParser.parseString(line)
                            .getAsJsonObject()
                            .get("iter")
                            .getAsLong();
                } catch (RuntimeException e) {
                    continue; // a line cut off by the kill
                }
                if (it <= iteration) kept.append(line).append('\n');
            }
            org.charrnn.util.AtomicFile.writeString(file, kept.toString());
        } catch (IOException e) {
            throw new UserError("cannot rewrite " + file + ": " + IoErrors.reason(e), e);
        }
    }
}
