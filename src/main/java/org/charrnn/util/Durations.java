package org.charrnn.util;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people write them: {@code 90s}, {@code 45m}, {@code 2h}, {@code 1h30m}, {@code 1d12h}. */
public final class Durations {
    private Durations() {}

    /** The longest duration parsed: 100,000 days, well inside what {@link Duration#toNanos} holds. */
    static final long MAX_DAYS = 100_000;

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)([dhms])");

    /** Parses {@code text}; an IllegalArgumentException says what is accepted. */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("0")) return Duration.ZERO;
        Matcher m = PART.matcher(s);
        double seconds = 0;
        int end = 0;
        while (m.find() && m.start() == end) {
            double v = Double.parseDouble(m.group(1));
            seconds += v
                    * switch (m.group(2)) {
                        case "d" -> 86400;
                        case "h" -> 3600;
                        case "m" -> 60;
                        default -> 1;
                    };
            end = m.end();
        }
        if (end == 0 || end != s.length())
            throw new IllegalArgumentException(
                    "invalid duration '" + text + "': use a number with a unit, e.g. 90s, 45m, 2h, 1h30m or 1d");
        if (seconds > MAX_DAYS * 86400.0)
            throw new IllegalArgumentException("duration '" + text + "' is longer than " + MAX_DAYS + "d");
        return Duration.ofMillis(Math.round(seconds * 1000));
    }

    /** The shortest form {@link #parse} reads back: {@code 1h30m}, {@code 45s}, {@code 0}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) return "0";
        StringBuilder sb = new StringBuilder();
        long days = ms / 86_400_000, hours = ms / 3_600_000 % 24, minutes = ms / 60_000 % 60;
        double seconds = ms % 60_000 / 1000.0;
        if (days > 0) sb.append(days).append('d');
        if (hours > 0) sb.append(hours).append('h');
        if (minutes > 0) sb.append(minutes).append('m');
        if (seconds > 0)
            sb.append(seconds == Math.rint(seconds) ? String.valueOf((long) seconds) : String.valueOf(seconds))
                    .append('s');
        return sb.toString();
    }
}
