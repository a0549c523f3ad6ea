package org.charrnn.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line text progress bar on stderr, redrawn at most every {@code minIntervalMs}:
 * {@code label [#####.....]  42%  detail  ETA 0:13}. The line always fits the terminal width
 * ({@code $COLUMNS}, else 80): as it narrows the bar shrinks to 10 cells, then the detail loses its
 * fields (separated by two spaces) from the last one, then the ETA goes, so a redraw never wraps. The ETA is the rate of this
 * process only (a resumed run's earlier iterations do not count as time spent here). When the
 * stream is not a terminal (or quiet is set) it prints nothing, so logs stay clean.
 */
public final class ProgressBar implements Progress {
    private static final int WIDTH = 30, MIN_WIDTH = 10;
    private final PrintStream out;
    private final String label;
    private final boolean enabled;
    private final java.util.function.LongSupplier clock;
    private final int columns;
    private final long minIntervalNanos;
    private long startNanos = -1, startDone; // the first update: where this process's rate is measured from
    private long lastDraw;
    private int lastLen;

    public ProgressBar(PrintStream out, String label, boolean enabled) {
        this(out, label, enabled, 200);
    }

    public ProgressBar(PrintStream out, String label, boolean enabled, long minIntervalMs) {
        this(out, label, enabled, minIntervalMs, terminalColumns(), System::nanoTime);
    }

    /** A bar for a terminal of {@code columns} and the given nanosecond clock (tests). */
    ProgressBar(
            PrintStream out,
            String label,
            boolean enabled,
            long minIntervalMs,
            int columns,
            java.util.function.LongSupplier clock) {
        this.out = out;
        this.label = label;
        this.enabled = enabled;
        this.minIntervalNanos = minIntervalMs * 1_000_000L;
        this.columns = Math.max(20, columns);
        this.clock = clock;
    }

    /** {@code $COLUMNS} when the shell exports it, else 80. */
    public static int terminalColumns() {
        try {
            String c = System.getenv("COLUMNS");
            return c == null || c.isBlank() ? 80 : Integer.parseInt(c.trim());
        } catch (NumberFormatException e) {
            return 80;
        }
    }

    /**
     * Set by the ./charrnn launcher: "true" or "false", whether stderr (where the bars and the log
     * lines go) is a terminal, which System.console() cannot tell (it asks of stdin and stdout, and
     * the launcher's filter of the JVM's start-up warning leaves the JVM a pipe).
     */
    public static final String TERMINAL_PROPERTY = "charrnn.terminal";

    /**
     * True when stderr is an interactive terminal: as the launcher says, else (a library's JVM)
     * where stdin and stdout are one, as System.console() says; never where TERM is dumb.
     */
    @SuppressWarnings("SystemConsoleNull") // Java 17: null when stdin/stdout are not a terminal
    public static boolean interactive() {
        String said = System.getProperty(TERMINAL_PROPERTY);
        boolean terminal = said != null ? Boolean.parseBoolean(said) : System.console() != null;
        return terminal && !"dumb".equals(System.getenv("TERM"));
    }

    @Override
    public synchronized void update(long done, long total, String detail) {
        if (!enabled) return;
        long now = clock.getAsLong();
        if (startNanos < 0) {
            startNanos = now;
            startDone = done;
        }
        if (now - lastDraw < minIntervalNanos && done < total && lastDraw != 0) return;
        lastDraw = now;
        String line = render(done, total, detail == null ? "" : detail, (now - startNanos) / 1e9);
        StringBuilder sb = new StringBuilder("\r").append(line);
        if (line.length() < lastLen) sb.append(" ".repeat(lastLen - line.length()));
        lastLen = line.length();
        out.print(sb);
        out.flush();
    }

    /** The line for this state, at most columns - 1 characters (the cursor must not wrap). */
    String render(long done, long total, String detail, double elapsed) {
        int room = columns - 1;
        if (total <= 0) return fit(label + " " + done + (detail.isEmpty() ? "" : "  " + detail), room);
        double f = Math.min(1.0, Math.max(0.0, done / (double) total));
        String pct = String.format(Locale.ROOT, " %3d%%", (int) Math.floor(f * 100));
        double rate = (done - startDone) / Math.max(1e-9, elapsed);
        String eta = f < 1 && done > startDone ? "  ETA " + formatDuration((total - done) / rate) : "";
        String[] fields = detail.isEmpty() ? new String[0] : detail.split("  "); // fields: two spaces apart
        for (boolean withEta : new boolean[] {true, false}) {
            for (int keep = fields.length; keep >= 0; keep--) {
                String d = keep == 0 ? "" : "  " + String.join("  ", java.util.Arrays.copyOf(fields, keep));
                String tail = pct + d + (withEta ? eta : "");
                int bar = room - label.length() - 3 - tail.length();
                if (bar >= MIN_WIDTH) return label + " " + bar(Math.min(WIDTH, bar), f) + tail;
            }
        }
        return fit(label + " " + bar(MIN_WIDTH, f) + pct, room);
    }

    private static String bar(int width, double f) {
        int fill = (int) Math.round(f * width);
        return "[" + "#".repeat(fill) + ".".repeat(width - fill) + "]";
    }

    private static String fit(String s, int room) {
        return s.length() <= room ? s : s.substring(0, room);
    }

    @Override
    public synchronized void finish() {
        if (!enabled || lastLen == 0) return;
        out.print("\r" + " ".repeat(lastLen) + "\r");
        out.flush();
        lastLen = 0;
    }

    /** h:mm:ss or m:ss. */
    public static String formatDuration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
        return h > 0
                ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
                : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}
