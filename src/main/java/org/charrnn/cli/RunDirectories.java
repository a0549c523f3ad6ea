package org.charrnn.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.charrnn.train.RunConfig;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * The run directories {@code charrnn train} makes where no {@code --out} is given: {@code runs/DATE-TIME}
 * below the working directory, as a shell user expects of a command's output.
 */
final class RunDirectories {
    /** Where train puts a run without {@code --out}. */
    static final Path ROOT = Path.of("runs");

    /** The metrics file a run appends to at every log line (train's MetricsLog.FILE). */
    private static final String METRICS = "metrics.jsonl";

    private RunDirectories() {}

    /** A directory under {@code root} named for this second that does not exist yet. */
    static Path fresh(Path root) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        Path dir = root.resolve(stamp);
        for (int i = 2; Files.exists(dir); i++) dir = root.resolve(stamp + "-" + i);
        return dir;
    }

    /**
     * The run under {@code root} (a directory with a config.json) that wrote last: its metrics.jsonl, else
     * its config.json, modified last. A one-line error where {@code root} holds none.
     */
    static Path newest(Path root) {
        String none = "no run directory under " + root + " (where charrnn train writes without --out); give --run";
        if (!Files.isDirectory(root)) throw new UserError(none);
        try (Stream<Path> dirs = Files.list(root)) {
            Optional<Path> last = dirs.filter(d -> Files.isRegularFile(d.resolve(RunConfig.FILE)))
                    .max(Comparator.comparing(RunDirectories::lastWritten).thenComparing(Path::getFileName));
            return last.orElseThrow(() -> new UserError(none));
        } catch (IOException e) {
            throw new UserError("cannot list " + root + ": " + IoErrors.reason(e), e);
        }
    }

    private static FileTime lastWritten(Path run) {
        Path metrics = run.resolve(METRICS);
        try {
            return Files.getLastModifiedTime(Files.exists(metrics) ? metrics : run.resolve(RunConfig.FILE));
        } catch (IOException e) {
            return FileTime.fromMillis(0); // removed while listing: the oldest
        }
    }
}
