package org.charrnn.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bar the CUDA backend is held to on a GPU, judged from bench rows: on every row of the bench
 * grids, ms per training step against PyTorch with a whole-step CUDA graph at the same precision (fp32
 * against fp32, TF32 against TF32) at least {@link #SMALL_FACTOR} times faster where B <= {@link
 * #SMALL_BATCH} and {@link #LARGE_FACTOR} times faster on the larger rows, and peak device memory no
 * higher than eager PyTorch's at that precision.
 *
 * <p>Judged: our CUDA rows ({@code impl} charrnn-cuda) in fp32 or TF32 that let auto choose the
 * recurrence's kernel and set no -D knob (rows of a forced {@code --rnn-kernel} or a knob, {@link
 * Knobs}, are comparisons, not the product). A row
 * without its PyTorch counterpart, or without peak memory on either side, is not met: nothing shows
 * it. Where several rows share a configuration and series, the last one read counts, as in {@link
 * Compare}.
 */
public final class Bar {
    private Bar() {}

    /** The largest batch of a row held to {@link #SMALL_FACTOR}. */
    public static final int SMALL_BATCH = 50;
    /** How many times faster than PyTorch-with-graph a row of B <= {@link #SMALL_BATCH} must be. */
    public static final double SMALL_FACTOR = 5.0;
    /** How many times faster the larger rows must be. */
    public static final double LARGE_FACTOR = 2.0;

    /**
     * One judged row.
     *
     * @param ours      our row
     * @param graphMs   PyTorch's ms per step with a CUDA graph at our precision, NaN if absent
     * @param eagerPeak eager PyTorch's peak device memory in MiB at our precision, NaN if absent
     * @param needed    the factor this row must reach
     */
    public record Verdict(JsonRows ours, double graphMs, double eagerPeak, double needed) {
        /** PyTorch's time over ours: above 1 we are faster. NaN without PyTorch's row. */
        public double speedup() {
            return graphMs / ours.msPerStep();
        }

        public boolean fastEnough() {
            return speedup() >= needed; // false for NaN
        }

        public boolean leanEnough() {
            return ours.peakMemMib() <= eagerPeak; // false for NaN on either side
        }

        public boolean met() {
            return fastEnough() && leanEnough();
        }
    }

    /** The factor a row of batch {@code B} must reach. */
    public static double needed(int batch) {
        return batch <= SMALL_BATCH ? SMALL_FACTOR : LARGE_FACTOR;
    }

    /** Whether {@code r} is one of the rows the bar judges. */
    static boolean judged(JsonRows r) {
        return r.impl().equals("charrnn-cuda")
                && r.rnnKernel().equals("auto")
                && r.knobs().isEmpty()
                && (r.precision().equals("fp32") || r.precision().equals("tf32"));
    }

    /** Every judged row of {@code rows} (last one per configuration and series), in first-seen order. */
    public static List<Verdict> judge(List<JsonRows> rows) {
        Map<String, JsonRows> torch = new LinkedHashMap<>();
        Map<String, JsonRows> ours = new LinkedHashMap<>();
        for (JsonRows r : rows) {
            if (r.isTorch()) torch.put(r.variant() + "|" + r.key(), r);
            else if (judged(r)) ours.put(r.variant() + "|" + r.key(), r);
        }
        List<Verdict> out = new ArrayList<>();
        for (JsonRows r : ours.values()) {
            JsonRows graph = torch.get("pytorch-cudagraph " + r.precision() + "|" + r.key());
            JsonRows eager = torch.get("pytorch " + r.precision() + "|" + r.key());
            out.add(new Verdict(
                    r,
                    graph == null ? Double.NaN : graph.msPerStep(),
                    eager == null ? Double.NaN : eager.peakMemMib(),
                    needed(r.batch())));
        }
        return out;
    }

    /** The Markdown table of {@code verdicts} and a last line saying how many rows met the bar. */
    public static String markdown(List<Verdict> verdicts) {
        String[] header = {
            "config",
            "impl",
            "ms/step",
            "PyTorch graph ms",
            "speedup",
            "needed",
            "peak MiB",
            "PyTorch eager peak MiB",
            "met"
        };
        List<String[]> body = new ArrayList<>();
        int met = 0;
        for (Verdict v : verdicts) {
            if (v.met()) met++;
            body.add(new String[] {
                v.ours().key().label(),
                v.ours().variant(),
                Table.ms(v.ours().msPerStep()),
                Table.ms(v.graphMs()),
                Double.isFinite(v.speedup()) ? String.format(Locale.ROOT, "%.2fx", v.speedup()) : "-",
                String.format(Locale.ROOT, "%.0fx", v.needed()),
                mib(v.ours().peakMemMib()),
                mib(v.eagerPeak()),
                v.met() ? "yes" : "no (" + why(v) + ")"
            });
        }
        return Table.markdown(header, body)
                + String.format(
                        Locale.ROOT,
                        "%nbar: %d of %d rows met (%.0fx PyTorch with a CUDA graph at B <= %d, %.0fx above; "
                                + "peak memory <= eager PyTorch's)%n",
                        met,
                        verdicts.size(),
                        SMALL_FACTOR,
                        SMALL_BATCH,
                        LARGE_FACTOR);
    }

    private static String why(Verdict v) {
        List<String> w = new ArrayList<>();
        if (Double.isNaN(v.graphMs())) w.add("no PyTorch graph row");
        else if (!v.fastEnough()) w.add("speed");
        if (Double.isNaN(v.eagerPeak()) || Double.isNaN(v.ours().peakMemMib())) w.add("no peak memory");
        else if (!v.leanEnough()) w.add("memory");
        return String.join(", ", w);
    }

    private static String mib(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : "-";
    }
}
