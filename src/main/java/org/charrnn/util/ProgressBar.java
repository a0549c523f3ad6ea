package org.charrnn.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line text progress bar on stderr, redrawn at most every {@code minIntervalMs}:
 * {@code label [#####.....]  42%  detail  ETA 0:13}. When the stream is not a terminal (or quiet
 * is set) it prints nothing, so logs stay clean.
 */
public final class ProgressBar implements Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final boolean enabled;
    private final long startNanos = System.nanoTime();
    private final long minIntervalNanos;
    private long lastDraw;
    private int lastLen;

    public ProgressBar(PrintStream out, String label, boolean enabled) {
        this(out, label, enabled, 200);
    }

    public ProgressBar(PrintStream out, String label, boolean enabled, long minIntervalMs) {
        this.out = out;
        this.label = label;
        this.enabled = enabled;
        this.minIntervalNanos = minIntervalMs * 1_000_000L;
    }

    /** True when stderr looks like an interactive terminal. */
    @SuppressWarnings("SystemConsoleNull") // Java 17: null when stdin/stdout are not a terminal
    public static boolean interactive() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    @Override
    public synchronized void update(long done, long total, String detail) {
        if (!enabled) return;
        long now = System.nanoTime();
        if (now - lastDraw < minIntervalNanos && done < total) return;
        lastDraw = now;
        StringBuilder sb = new StringBuilder("\r").append(label).append(' ');
        double elapsed = (now - startNanos) / 1e9;
        if (total > 0) {
            double f = Math.min(1.0, Math.max(0.0, done / (double) total));
            int fill = (int) Math.round(f * WIDTH);
            sb.append('[')
                    .append("#".repeat(fill))
                    .append(".".repeat(WIDTH - fill))
                    .append(']');
            sb.append(String.format(Locale.ROOT, " %3d%%", (int) Math.floor(f * 100)));
            if (detail != null && !detail.isEmpty()) sb.append("  ").append(detail);
            if (f > 0 && f < 1) sb.append("  ETA ").append(formatDuration(elapsed * (1 - f) / f));
        } else {
            sb.append(done);
            if (detail != null && !detail.isEmpty()) sb.append("  ").append(detail);
        }
        int len = sb.length();
        if (len < lastLen) sb.append(" ".repeat(lastLen - len));
        lastLen = len;
        out.print(sb);
        out.flush();
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
