package org.charrnn.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Joins our rows with bench/torch_baseline.py's on (cell, layers, hidden, batch, seq) and prints, per
 * our row, our ms/step, each PyTorch variant's ms/step (eager or graph, fp32 or tf32, whichever are
 * present) and the time ratio ours / PyTorch: below 1 we are faster. When a variant has several rows
 * for one configuration, the last one read counts (rerun the baseline beside each measurement).
 */
public final class Compare {
    private Compare() {}

    /** One joined row. */
    public record Joined(JsonRows ours, Map<String, Double> torchMs) {
        /** ours / torch time for {@code variant}, NaN when PyTorch lacks the row. */
        public double ratio(String variant) {
            Double t = torchMs.get(variant);
            return t == null ? Double.NaN : ours.msPerStep() / t;
        }
    }

    /** The PyTorch variants present, sorted. */
    public static List<String> torchVariants(List<JsonRows> rows) {
        TreeSet<String> v = new TreeSet<>();
        for (JsonRows r : rows) if (r.isTorch()) v.add(r.variant());
        return new ArrayList<>(v);
    }

    /** Every non-PyTorch row with the PyTorch times of its configuration. */
    public static List<Joined> join(List<JsonRows> rows) {
        Map<JsonRows.Key, Map<String, Double>> torch = new LinkedHashMap<>();
        for (JsonRows r : rows)
            if (r.isTorch())
                torch.computeIfAbsent(r.key(), k -> new LinkedHashMap<>()).put(r.variant(), r.msPerStep());
        List<Joined> out = new ArrayList<>();
        for (JsonRows r : rows) if (!r.isTorch()) out.add(new Joined(r, torch.getOrDefault(r.key(), Map.of())));
        return out;
    }

    /** The Markdown table. */
    public static String markdown(List<JsonRows> rows) {
        List<String> variants = torchVariants(rows);
        List<String> header = new ArrayList<>(List.of("config", "impl", "device", "ms/step"));
        for (String v : variants) {
            header.add(v + " ms");
            header.add("ours/" + v);
        }
        List<String[]> body = new ArrayList<>();
        for (Joined j : join(rows)) {
            List<String> c = new ArrayList<>(List.of(
                    j.ours().key().label(),
                    j.ours().variant(),
                    j.ours().device(),
                    Table.ms(j.ours().msPerStep())));
            for (String v : variants) {
                Double t = j.torchMs().get(v);
                c.add(t == null ? "-" : Table.ms(t));
                c.add(t == null ? "-" : String.format(Locale.ROOT, "%.2f", j.ratio(v)));
            }
            body.add(c.toArray(String[]::new));
        }
        return Table.markdown(header.toArray(String[]::new), body);
    }
}
