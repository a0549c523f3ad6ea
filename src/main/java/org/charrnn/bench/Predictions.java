package org.charrnn.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.cuda.StepCostModel;

/**
 * {@code charrnn bench --predict}: the step cost model's ms per training step of the CUDA backend
 * on an H200 for each configuration, where its time goes, and, beside PyTorch's rows with a CUDA
 * graph at the same precision where given, the factor the bar needs ({@link Bar#needed}) against
 * the one predicted and the most any kernels could reach (PyTorch's time over the step's FLOPs at
 * the precision's peak); its peak device memory beside eager PyTorch's. A prediction, not a
 * measurement: the output says so.
 */
public final class Predictions {
    private Predictions() {}

    /**
     * One configuration's prediction, PyTorch's graph ms and eager peak MiB for it and our measured
     * ms for it (each NaN without a row), and which passes that measured run ran persistent (null
     * where its row does not say, or there is none).
     */
    public record Row(
            BenchSpec spec,
            StepCostModel.Prediction p,
            double graphMs,
            double eagerPeakMib,
            double measuredMs,
            Passes measuredPasses) {
        public double speedup() {
            return graphMs / p.total();
        }

        /** The prediction over the measurement: above 1 the model is too slow. NaN without a measured row. */
        public double modelError() {
            return p.total() / measuredMs;
        }

        /** Whether the predicted step is fast enough for the bar; false without PyTorch's row. */
        public boolean meets() {
            return speedup() >= Bar.needed(spec.batch());
        }

        /** PyTorch's step over the FLOP floor: the most any kernels could reach at the precision's peak. */
        public double ceiling() {
            return graphMs / p.flopFloor();
        }

        /** Whether the predicted peak memory is no higher than eager PyTorch's; false without its row. */
        public boolean lean() {
            return p.peakMib() <= eagerPeakMib;
        }

        /** Whether even the FLOP floor is too slow for the bar: no kernel can meet it at this precision. */
        public boolean outOfReach() {
            return ceiling() < Bar.needed(spec.batch());
        }

        /** Whether the measured run chose other passes persistent than the prediction did (false where unknown). */
        public boolean otherPasses() {
            return measuredPasses != null && !measuredPasses.equals(Passes.ofPrediction(p.recurrence()));
        }
    }

    /**
     * Which passes of the recurrence run persistent, and whether stacked layers run two a launch
     * (the RNN's wavefront, persistent_rnn_pair.cu).
     */
    public record Passes(boolean forward, boolean backward, boolean pairs) {
        private static final Pattern AUTO =
                Pattern.compile("B (\\d+): forward (persistent|stepwise), backward (persistent|stepwise)");
        /** What a prediction's recurrence, and a device line, add where layers ran two a launch. */
        private static final String PAIRS = "layers two a launch";

        /** Of a prediction's recurrence: "stepwise", or "persistent both passes|forward|backward (..., layers two a launch)". */
        static Passes ofPrediction(String recurrence) {
            boolean both = recurrence.startsWith("persistent both passes");
            return new Passes(
                    both || recurrence.startsWith("persistent forward"),
                    both || recurrence.startsWith("persistent backward"),
                    recurrence.contains(PAIRS));
        }

        /**
         * Of a bench row's device line at batch B (CudaOps: "rnn auto (B 50: forward persistent,
         * backward stepwise ...)", "rnn persistent (...)" or "rnn stepwise ...", with ", layers two a
         * launch as a wavefront" where some window ran so); null where it says none.
         */
        static Passes ofDevice(String device, int batch) {
            boolean pairs = device.contains(PAIRS);
            Matcher m = AUTO.matcher(device);
            while (m.find())
                if (Integer.parseInt(m.group(1)) == batch)
                    return new Passes(
                            m.group(2).equals("persistent"), m.group(3).equals("persistent"), pairs);
            if (device.contains("rnn persistent (")) return new Passes(true, true, pairs);
            if (device.contains("rnn stepwise")) return new Passes(false, false, false);
            return null;
        }

        @Override
        public String toString() {
            return "forward " + (forward ? "persistent" : "stepwise") + ", backward "
                    + (backward ? "persistent" : "stepwise") + (pairs ? ", " + PAIRS : "");
        }
    }

    /** The impl of PyTorch's rows with the whole step as one CUDA graph (bench/torch_baseline.py --graph 1). */
    public static final String GRAPH_IMPL = "pytorch-cudagraph";

    /** The impl of PyTorch's eager rows (bench/torch_baseline.py --graph 0), whose peak memory the bar weighs ours against. */
    public static final String EAGER_IMPL = "pytorch";

    /** ms per step of {@code rows}' {@link #GRAPH_IMPL} rows at precision p, by configuration. */
    public static Map<JsonRows.Key, Double> graphMs(List<JsonRows> rows, Precision p) {
        return torch(rows, p, GRAPH_IMPL, JsonRows::msPerStep);
    }

    /** Peak MiB of {@code rows}' {@link #EAGER_IMPL} rows at precision p, by configuration. */
    public static Map<JsonRows.Key, Double> eagerPeakMib(List<JsonRows> rows, Precision p) {
        return torch(rows, p, EAGER_IMPL, JsonRows::peakMemMib);
    }

    private static Map<JsonRows.Key, Double> torch(
            List<JsonRows> rows, Precision p, String impl, ToDoubleFunction<JsonRows> value) {
        Map<JsonRows.Key, Double> out = new HashMap<>();
        for (JsonRows r : rows)
            if (r.impl().equals(impl) && r.precision().equals(p.id())) out.put(r.key(), value.applyAsDouble(r));
        return out;
    }

    /**
     * {@code rows}' CUDA rows of what --predict models: precision p, the whole step as a graph, the
     * recurrence kernel k, no -D knob; by configuration, the last one read counting.
     */
    public static Map<JsonRows.Key, JsonRows> measured(List<JsonRows> rows, Precision p, RnnKernel k) {
        Map<JsonRows.Key, JsonRows> ours = new HashMap<>();
        for (JsonRows r : rows)
            if (r.impl().equals("charrnn-cuda")
                    && r.precision().equals(p.id())
                    && r.graph()
                    && r.rnnKernel().equals(k.id())
                    && r.knobs().isEmpty()) ours.put(r.key(), r);
        return ours;
    }

    /**
     * The prediction of every spec at precision p with the recurrence kernel k, beside {@code rows}'
     * PyTorch ones and our measured ones of the same kind ({@link #measured}).
     */
    public static List<Row> predict(List<BenchSpec> specs, Precision p, RnnKernel k, List<JsonRows> rows) {
        Map<JsonRows.Key, Double> graph = graphMs(rows, p), eager = eagerPeakMib(rows, p);
        Map<JsonRows.Key, JsonRows> measured = measured(rows, p, k);
        List<Row> out = new ArrayList<>();
        for (BenchSpec s : specs) {
            JsonRows.Key key = new JsonRows.Key(s.cell().id(), s.layers(), s.hidden(), s.batch(), s.seq());
            JsonRows ours = measured.get(key);
            out.add(new Row(
                    s,
                    StepCostModel.predict(s.modelConfig(), s.batch(), s.seq(), p, k),
                    graph.getOrDefault(key, Double.NaN),
                    eager.getOrDefault(key, Double.NaN),
                    ours == null ? Double.NaN : ours.msPerStep(),
                    ours == null ? null : Passes.ofDevice(ours.device(), s.batch())));
        }
        return out;
    }

    /**
     * The Markdown table of {@code rows}, a line naming the model's device, with PyTorch rows a count
     * of those predicted to meet the bar, of those whose peak memory is at or under eager PyTorch's
     * ({@link Row#lean}) and a line naming those out of reach ({@link Row#outOfReach}), and where any row was measured two more columns (our measured ms, the
     * prediction over it, marked {@code *} where that run chose other passes: {@link
     * Row#otherPasses}), a line with the range of that ratio and one naming the marked rows' passes.
     */
    public static String markdown(List<Row> rows, Precision p) {
        boolean measured = rows.stream().anyMatch(r -> Double.isFinite(r.measuredMs()));
        String[] header = measured ? concat(COLUMNS, "measured ms/step", "predicted / measured") : COLUMNS;
        List<String[]> body = new ArrayList<>();
        Tally tally = new Tally();
        for (Row r : rows) {
            tally.add(r);
            body.add(cells(r, measured));
        }
        String device = rows.isEmpty() ? "" : rows.get(0).p().device();
        return Table.markdown(header, body)
                + String.format(Locale.ROOT, "%npredicted, not measured: charrnn-cuda %s on the %s%n", p.id(), device)
                + tally.lines(p);
    }

    private static final String[] COLUMNS = {
        "config",
        "recurrence",
        "fwd rec ms",
        "bwd rec ms",
        "GEMMs ms (n)",
        "other kernels ms (n)",
        "norm+update ms",
        "host ms",
        "hidden ms",
        "predicted ms/step",
        "FLOP floor ms",
        "PyTorch graph ms",
        "predicted speedup",
        "at most",
        "needed",
        "peak MiB",
        "PyTorch eager peak MiB"
    };

    /** A row's cells under {@link #COLUMNS}, and under the two measured columns where {@code measured}. */
    private static String[] cells(Row r, boolean measured) {
        StepCostModel.Prediction q = r.p();
        boolean torch = Double.isFinite(r.graphMs()), eager = Double.isFinite(r.eagerPeakMib());
        String[] cells = {
            r.spec().label(),
            q.recurrence(),
            ms(q.forwardRecurrence()),
            ms(q.backwardRecurrence()),
            ms(q.gemms()) + " (" + q.gemmCount() + ")",
            ms(q.kernels()) + " (" + q.kernelCount() + ")",
            ms(q.update()),
            ms(q.host()),
            ms(q.overlapped()),
            ms(q.total()),
            ms(q.flopFloor()),
            torch ? Table.ms(r.graphMs()) : "-",
            torch ? String.format(Locale.ROOT, "%.2fx", r.speedup()) : "-",
            torch ? String.format(Locale.ROOT, "%.2fx", r.ceiling()) : "-",
            String.format(Locale.ROOT, "%.0fx", Bar.needed(r.spec().batch())),
            String.format(Locale.ROOT, "%.1f", q.peakMib()),
            eager ? String.format(Locale.ROOT, "%.1f", r.eagerPeakMib()) : "-"
        };
        if (!measured) return cells;
        if (!Double.isFinite(r.measuredMs())) return concat(cells, "-", "-");
        return concat(
                cells,
                Table.ms(r.measuredMs()),
                String.format(Locale.ROOT, "%.2f", r.modelError()) + (r.otherPasses() ? " *" : ""));
    }

    /** The counts under the table: the bar, memory, rows out of reach, the model against measured rows. */
    private static final class Tally {
        private int judged, meet, weighed, lean, compared;
        private double lowest = Double.POSITIVE_INFINITY, highest = 0;
        private final List<String> outOfReach = new ArrayList<>(), otherPasses = new ArrayList<>();
        private final List<String> over = new ArrayList<>();

        void add(Row r) {
            if (Double.isFinite(r.graphMs())) {
                judged++;
                if (r.meets()) meet++;
                if (r.outOfReach())
                    outOfReach.add(String.format(
                            Locale.ROOT, "%s at most %.2fx", r.spec().label(), r.ceiling()));
            }
            if (Double.isFinite(r.eagerPeakMib())) {
                weighed++;
                if (r.lean()) lean++;
                else
                    over.add(String.format(
                            Locale.ROOT, "%s %.1f MiB > %.1f", r.spec().label(), r.p().peakMib(), r.eagerPeakMib()));
            }
            if (Double.isFinite(r.measuredMs())) {
                compared++;
                lowest = Math.min(lowest, r.modelError());
                highest = Math.max(highest, r.modelError());
                if (r.otherPasses()) otherPasses.add(r.spec().label() + ": " + r.measuredPasses());
            }
        }

        /** One line per kind of row seen, each ending in a newline; empty where there are none. */
        String lines(Precision p) {
            StringBuilder sb = new StringBuilder();
            if (judged > 0)
                sb.append(String.format(
                        Locale.ROOT,
                        "bar (speed only): %d of %d rows with a PyTorch graph row are predicted to meet it%n",
                        meet,
                        judged));
            if (weighed > 0)
                sb.append(String.format(
                        Locale.ROOT,
                        "memory: %d of %d rows with a PyTorch eager row are predicted at or under its peak%s%n",
                        lean,
                        weighed,
                        over.isEmpty() ? "" : " (over: " + String.join("; ", over) + ")"));
            if (!outOfReach.isEmpty())
                sb.append(String.format(
                        Locale.ROOT,
                        "out of reach in %s: %d row(s) whose matrix products at the %s peak alone take longer than"
                                + " the bar allows (%s)%n",
                        p.id(),
                        outOfReach.size(),
                        p.id(),
                        String.join("; ", outOfReach)));
            if (compared > 0)
                sb.append(String.format(
                        Locale.ROOT,
                        "model against %d measured row(s) of charrnn-cuda %s: predicted / measured %.2f to %.2f%n",
                        compared,
                        p.id(),
                        lowest,
                        highest));
            if (!otherPasses.isEmpty())
                sb.append(String.format(
                        Locale.ROOT,
                        "* the measured run chose other passes persistent than the prediction (%s)%n",
                        String.join("; ", otherPasses)));
            return sb.toString();
        }
    }

    private static String[] concat(String[] a, String... more) {
        String[] out = Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
