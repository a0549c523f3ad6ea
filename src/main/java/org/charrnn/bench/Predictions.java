package org.charrnn.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.cuda.StepCostModel;

/**
 * {@code charrnn bench --predict}: the step cost model's ms per training step of the CUDA backend
 * on an H200 for each configuration, where its time goes, and, beside PyTorch's rows with a CUDA
 * graph at the same precision where given, the factor the bar needs ({@link Bar#needed}) against
 * the one predicted and the most any kernels could reach (PyTorch's time over the step's FLOPs at
 * the precision's peak). A prediction, not a measurement: the output says so.
 */
public final class Predictions {
    private Predictions() {}

    /** One configuration's prediction and PyTorch's graph ms for it (NaN without a row). */
    public record Row(BenchSpec spec, StepCostModel.Prediction p, double graphMs) {
        public double speedup() {
            return graphMs / p.total();
        }

        /** Whether the predicted step is fast enough for the bar; false without PyTorch's row. */
        public boolean meets() {
            return speedup() >= Bar.needed(spec.batch());
        }
    }

    /** The impl of PyTorch's rows with the whole step as one CUDA graph (bench/torch_baseline.py --graph 1). */
    public static final String GRAPH_IMPL = "pytorch-cudagraph";

    /** ms per step of {@code rows}' {@link #GRAPH_IMPL} rows at precision p, by configuration. */
    public static Map<JsonRows.Key, Double> graphMs(List<JsonRows> rows, Precision p) {
        Map<JsonRows.Key, Double> graph = new HashMap<>();
        for (JsonRows r : rows)
            if (r.impl().equals(GRAPH_IMPL) && r.precision().equals(p.id())) graph.put(r.key(), r.msPerStep());
        return graph;
    }

    /** The prediction of every spec at precision p with the recurrence kernel k, beside {@code rows}' PyTorch ones. */
    public static List<Row> predict(List<BenchSpec> specs, Precision p, RnnKernel k, List<JsonRows> rows) {
        Map<JsonRows.Key, Double> graph = graphMs(rows, p);
        List<Row> out = new ArrayList<>();
        for (BenchSpec s : specs) {
            JsonRows.Key key = new JsonRows.Key(s.cell().id(), s.layers(), s.hidden(), s.batch(), s.seq());
            out.add(new Row(
                    s,
                    StepCostModel.predict(s.modelConfig(), s.batch(), s.seq(), p, k),
                    graph.getOrDefault(key, Double.NaN)));
        }
        return out;
    }

    /** The Markdown table of {@code rows}, a line naming the model's device, and with PyTorch rows a count of those predicted to meet the bar. */
    public static String markdown(List<Row> rows, Precision p) {
        String[] header = {
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
            "needed"
        };
        List<String[]> body = new ArrayList<>();
        int judged = 0, meet = 0;
        for (Row r : rows) {
            StepCostModel.Prediction q = r.p();
            boolean torch = Double.isFinite(r.graphMs());
            if (torch) {
                judged++;
                if (r.meets()) meet++;
            }
            body.add(new String[] {
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
                torch ? String.format(Locale.ROOT, "%.2fx", r.graphMs() / q.flopFloor()) : "-",
                String.format(Locale.ROOT, "%.0fx", Bar.needed(r.spec().batch()))
            });
        }
        String device = rows.isEmpty() ? "" : rows.get(0).p().device();
        StringBuilder sb = new StringBuilder()
                .append(Table.markdown(header, body))
                .append(String.format(
                        Locale.ROOT, "%npredicted, not measured: charrnn-cuda %s on the %s%n", p.id(), device));
        if (judged > 0)
            sb.append(String.format(
                    Locale.ROOT,
                    "bar (speed only): %d of %d rows with a PyTorch graph row are predicted to meet it%n",
                    meet,
                    judged));
        return sb.toString();
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
