package org.charrnn.util;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The commands' log on standard error. In a terminal a line wider than the terminal ({@code
 * $COLUMNS}, else 80) is broken at spaces, its continuation lines indented by four, so that the
 * backend and device lines do not wrap mid-word; redirected to a file or a pipe every line is
 * written whole, for grep.
 */
public final class LogLines {
    private static final String INDENT = "    ";

    private LogLines() {}

    /** Writes each line to standard error, wrapped to the terminal's width when it is one. */
    public static Consumer<String> stderr() {
        boolean wrap = ProgressBar.interactive();
        int columns = ProgressBar.terminalColumns();
        return line -> {
            for (String l : wrap ? wrap(line, columns) : List.of(line)) System.err.println(l);
        };
    }

    /**
     * {@code line} broken at spaces into lines of at most {@code width} characters (a word longer
     * than that keeps its own line), continuation lines indented by four.
     */
    public static List<String> wrap(String line, int width) {
        List<String> out = new ArrayList<>();
        if (line.length() <= width || width <= INDENT.length() + 8) return List.of(line);
        String rest = line;
        String prefix = "";
        while (prefix.length() + rest.length() > width) {
            int room = width - prefix.length();
            int cut = rest.lastIndexOf(' ', room);
            if (cut <= 0) cut = rest.indexOf(' ', room); // one word longer than the room
            if (cut <= 0) break;
            out.add(prefix + rest.substring(0, cut).stripTrailing());
            rest = rest.substring(cut + 1).stripLeading();
            prefix = INDENT;
        }
        if (!rest.isEmpty()) out.add(prefix + rest);
        return out;
    }
}
