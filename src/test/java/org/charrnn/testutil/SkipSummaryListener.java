package org.charrnn.testutil;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Lists, at the end of a test run, the tests that did not run and why: those skipped (a
 * {@code @Disabled} reason or an unmet execution condition) and those aborted (a failed
 * assumption, such as "no OpenCL platform" or "python3 cannot import torch"), grouped by reason.
 * Registered for every JUnit Platform launcher (Maven Surefire, the console launcher, IDEs) through
 * {@code META-INF/services/org.junit.platform.launcher.TestExecutionListener}; a run where every
 * test ran prints nothing.
 */
public final class SkipSummaryListener implements TestExecutionListener {

    /** How a test came not to run. */
    public enum Kind {
        SKIPPED,
        ABORTED
    }

    /**
     * One test or container that did not run.
     *
     * @param testClass simple name of its class (or the display name when it has no Java source)
     * @param test      method name, or null for a whole class (skipped or aborted before its tests)
     * @param kind      skipped or aborted
     * @param reason    one line
     */
    public record Skip(String testClass, String test, Kind kind, String reason) {
        /** "Class.method", or "Class (whole class)". */
        String name() {
            return test == null ? testClass + " (whole class)" : testClass + "." + test;
        }
    }

    private final PrintStream out;
    private final List<Skip> skips = new ArrayList<>();

    /** For the service loader: prints to standard output. */
    public SkipSummaryListener() {
        this(System.out);
    }

    SkipSummaryListener(PrintStream out) {
        this.out = out;
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        synchronized (skips) {
            skips.clear();
        }
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        add(id, Kind.SKIPPED, reason);
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (result.getStatus() != TestExecutionResult.Status.ABORTED) return;
        add(id, Kind.ABORTED, abortReason(result.getThrowable()));
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        String text;
        synchronized (skips) {
            text = summary(skips);
        }
        if (!text.isEmpty()) {
            out.print(text);
            out.flush();
        }
    }

    private void add(TestIdentifier id, Kind kind, String reason) {
        Skip s = skip(id.getSource(), id.getDisplayName(), kind, reason);
        synchronized (skips) {
            skips.add(s);
        }
    }

    /** The entry for a test or container with {@code source} (a method or a class) and {@code displayName}. */
    static Skip skip(Optional<TestSource> source, String displayName, Kind kind, String reason) {
        String line = oneLine(reason);
        if (source.isPresent() && source.get() instanceof MethodSource m)
            return new Skip(simpleName(m.getClassName()), m.getMethodName(), kind, line);
        if (source.isPresent() && source.get() instanceof ClassSource c)
            return new Skip(simpleName(c.getClassName()), null, kind, line);
        return new Skip(displayName, null, kind, line);
    }

    /** The assumption's message without JUnit's "Assumption failed: " prefix. */
    static String abortReason(Optional<Throwable> t) {
        if (t.isEmpty()) return "aborted";
        String m = t.get().getMessage();
        if (m == null || m.isBlank()) return t.get().getClass().getSimpleName();
        String prefix = "Assumption failed: ";
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    /**
     * The block printed at the end of a run, empty when nothing was skipped: a header with the
     * count (a whole class skipped or aborted counts once), then per reason (most frequent first) the reason and the tests it kept from running,
     * as "Class.method" or, when several of one class share the reason, "Class (n tests)".
     */
    public static String summary(List<Skip> skips) {
        if (skips.isEmpty()) return "";
        Map<String, List<Skip>> byReason = new LinkedHashMap<>();
        for (Skip s : skips)
            byReason.computeIfAbsent(label(s), k -> new ArrayList<>()).add(s);
        List<Map.Entry<String, List<Skip>>> groups = new ArrayList<>(byReason.entrySet());
        groups.sort((a, b) -> Integer.compare(b.getValue().size(), a.getValue().size())); // stable: ties keep order
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "%nTests not run: %d (%d %s)%n",
                skips.size(),
                groups.size(),
                groups.size() == 1 ? "reason" : "reasons"));
        for (Map.Entry<String, List<Skip>> g : groups) {
            sb.append(String.format(Locale.ROOT, "  [%d] %s%n", g.getValue().size(), g.getKey()));
            sb.append("      ").append(String.join(", ", names(g.getValue()))).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /** "skipped: reason" or "aborted: reason". */
    private static String label(Skip s) {
        return (s.kind() == Kind.SKIPPED ? "skipped: " : "aborted: ") + s.reason();
    }

    /** The tests of one reason: a class's single test by name, several as a count, whole classes as such. */
    private static List<String> names(List<Skip> group) {
        Map<String, List<Skip>> byClass = new LinkedHashMap<>();
        for (Skip s : group)
            byClass.computeIfAbsent(s.testClass(), k -> new ArrayList<>()).add(s);
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<Skip>> c : byClass.entrySet()) {
            List<Skip> list = c.getValue();
            if (list.size() == 1) out.add(list.get(0).name());
            else out.add(c.getKey() + " (" + list.size() + " tests)");
        }
        return out;
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static String oneLine(String reason) {
        if (reason == null || reason.isBlank()) return "no reason given";
        String first = reason.strip().lines().findFirst().orElse("");
        return first.strip();
    }
}
