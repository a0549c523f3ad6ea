package org.charrnn.testutil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the project's Python scripts (bench/*.py) for tests, with {@code $CHARRNN_PYTHON}, else
 * {@code python3}; the script's path comes from a system property the build sets.
 */
public final class PythonScript {
    private PythonScript() {}

    /** Exit code, stdout and stderr of one run. */
    public record Result(int code, String out, String err) {
        /** Both streams, for failure messages. */
        public String output() {
            return out + err;
        }
    }

    /** {@code $CHARRNN_PYTHON}, else {@code python3}. */
    public static String interpreter() {
        String env = System.getenv("CHARRNN_PYTHON");
        return env != null && !env.isBlank() ? env : "python3";
    }

    /** The script named by system property {@code property}, or null when the build did not set it or it is absent. */
    public static Path script(String property) {
        String p = System.getProperty(property);
        if (p == null || p.isBlank()) return null;
        Path path = Path.of(p);
        return Files.isRegularFile(path) ? path : null;
    }

    /**
     * Why the interpreter cannot import {@code modules} (a sentence for a skipped test), or null
     * when it can.
     */
    public static String missing(String... modules) throws InterruptedException {
        String imports = "import " + String.join(", ", modules);
        Result r;
        try {
            r = run(List.of(interpreter(), "-c", imports), 120);
        } catch (IOException e) {
            return interpreter() + " cannot be run (" + e.getMessage() + "; set CHARRNN_PYTHON)";
        }
        if (r == null) return interpreter() + " did not answer '" + imports + "' within 120 s";
        if (r.code() != 0) return interpreter() + " cannot " + imports + " (set CHARRNN_PYTHON)";
        return null;
    }

    /**
     * Runs {@code command}, returning its exit code and output, or null if it runs longer than
     * {@code timeoutSeconds} (it is then killed); IOException when it cannot start.
     */
    public static Result run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        return run(command, Map.of(), timeoutSeconds);
    }

    /** As {@link #run(List, int)}, with {@code env} added to the environment. */
    public static Result run(List<String> command, Map<String, String> env, int timeoutSeconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("charrnn-py", ".out"), err = Files.createTempFile("charrnn-py", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command));
            pb.environment().putAll(env);
            Process p =
                    pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return null;
            }
            return new Result(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
