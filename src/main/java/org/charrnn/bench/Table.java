package org.charrnn.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Aligned text and Markdown tables. */
public final class Table {
    private Table() {}

    static final String[] HEADER = {
        "impl",
        "precision",
        "cell",
        "L",
        "H",
        "B",
        "T",
        "ms/step",
        "min ms",
        "chars/s",
        "fwd ms",
        "bwd ms",
        "upd ms",
        "peak MiB",
        "device"
    };

    /** Cells of one result row, as {@link #HEADER}. */
    static String[] cells(BenchResult r) {
        BenchSpec s = r.spec();
        return new String[] {
            r.impl(),
            r.precision() + (r.graph() ? " graph" : ""),
            s.cell().id(),
            Integer.toString(s.layers()),
            Integer.toString(s.hidden()),
            Integer.toString(s.batch()),
            Integer.toString(s.seq()),
            ms(r.msMedian()),
            ms(r.msMin()),
            grouped(Math.round(r.charsPerSecond())),
            ms(r.forwardMs()),
            ms(r.backwardMs()),
            ms(r.updateMs()),
            String.format(Locale.ROOT, "%.1f%s", r.peakMemMib(), r.memKind().equals("heap") ? " (heap)" : ""),
            r.device()
        };
    }

    /** An aligned plain-text table of {@code rows} (numbers right-aligned). */
    public static String text(List<BenchResult> rows) {
        List<String[]> all = new ArrayList<>();
        all.add(HEADER);
        for (BenchResult r : rows) all.add(cells(r));
        return align(all, 3, 13);
    }

    /** A Markdown table of {@code rows}. */
    public static String markdown(List<BenchResult> rows) {
        List<String[]> all = new ArrayList<>();
        for (BenchResult r : rows) all.add(cells(r));
        return markdown(HEADER, all);
    }

    /** A Markdown table. */
    public static String markdown(String[] header, List<String[]> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.length; i++) sb.append("---|");
        sb.append('\n');
        for (String[] r : rows) sb.append("| ").append(String.join(" | ", r)).append(" |\n");
        return sb.toString();
    }

    /** Columns from {@code firstNumeric} to {@code lastNumeric} (inclusive) are right-aligned. */
    static String align(List<String[]> rows, int firstNumeric, int lastNumeric) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int c = 0; c < cols; c++) w[c] = Math.max(w[c], r[c].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                if (c > 0) line.append("  ");
                boolean right = c >= firstNumeric && c <= lastNumeric;
                String pad = " ".repeat(w[c] - r[c].length());
                line.append(right ? pad + r[c] : r[c] + (c == cols - 1 ? "" : pad));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    static String ms(double v) {
        if (!Double.isFinite(v)) return "-";
        if (v >= 100) return String.format(Locale.ROOT, "%.1f", v);
        if (v >= 1) return String.format(Locale.ROOT, "%.2f", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String grouped(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }
}
