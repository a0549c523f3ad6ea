package org.charrnn.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One measured row. Its JSON line uses the field names of {@code bench/torch_baseline.py} where they mean
 * the same ({@code impl, device, cell, layers, hidden, batch, seq, tf32, ms_per_step, chars_per_s,
 * peak_mem_mib}), so the two outputs join on {@code cell, layers, hidden, batch, seq}.
 *
 * @param impl        "charrnn-reference", "charrnn-cuda", "charrnn-opencl"
 * @param backend     backend name
 * @param device      device name as the backend reports it
 * @param precision   arithmetic (fp64, fp32, tf32, bf16)
 * @param graph       CUDA graphs were enabled (false on other backends)
 * @param rnnKernel   the --rnn-kernel asked for ("auto", "persistent", "stepwise"); what ran is in {@code device}
 * @param knobs       the -Dcharrnn.* knobs set ({@link Knobs}), by name; empty for none
 * @param spec        configuration
 * @param steps       timed plain steps
 * @param warmup      untimed steps before them
 * @param msMedian    median ms per step
 * @param msMin       fastest step, ms
 * @param forwardMs   median forward + loss, ms, of the instrumented steps
 * @param backwardMs  median backward, ms, of the instrumented steps
 * @param updateMs    median clip + Adam, ms, of the instrumented steps
 * @param splitSteps  number of instrumented steps
 * @param peakMemMib  peak memory in MiB
 * @param memKind     "device" (backend allocations) or "heap" (JVM heap peak, an upper bound)
 * @param java        Java runtime version
 * @param date        ISO date of the measurement
 */
public record BenchResult(
        String impl,
        String backend,
        String device,
        String precision,
        boolean graph,
        String rnnKernel,
        Map<String, String> knobs,
        BenchSpec spec,
        int steps,
        int warmup,
        double msMedian,
        double msMin,
        double forwardMs,
        double backwardMs,
        double updateMs,
        int splitSteps,
        double peakMemMib,
        String memKind,
        String java,
        String date) {

    private static final Gson GSON =
            new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    /** Characters per second at the median step time. */
    public double charsPerSecond() {
        return spec.charsPerStep() / msMedian * 1000.0;
    }

    /** Field map in output order. */
    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("impl", impl);
        m.put("backend", backend);
        m.put("device", device);
        m.put("precision", precision);
        m.put("tf32", precision.equals("tf32"));
        m.put("graph", graph);
        m.put("rnn_kernel", rnnKernel);
        m.put("knobs", knobs);
        m.put("cell", spec.cell().id());
        m.put("layers", spec.layers());
        m.put("hidden", spec.hidden());
        m.put("embedding", spec.hidden());
        m.put("vocab", BenchSpec.VOCAB);
        m.put("batch", spec.batch());
        m.put("seq", spec.seq());
        m.put("steps", steps);
        m.put("warmup", warmup);
        m.put("ms_per_step", round(msMedian, 3));
        m.put("ms_min", round(msMin, 3));
        m.put("chars_per_s", Math.round(charsPerSecond()));
        m.put("forward_ms", round(forwardMs, 3));
        m.put("backward_ms", round(backwardMs, 3));
        m.put("update_ms", round(updateMs, 3));
        m.put("split_steps", splitSteps);
        m.put("peak_mem_mib", round(peakMemMib, 1));
        m.put("mem_kind", memKind);
        m.put("java", java);
        m.put("date", date);
        return m;
    }

    /** One JSON object on one line. */
    public String toJsonLine() {
        return GSON.toJson(fields());
    }

    /** {@code v} rounded to {@code digits} decimals; null (written as JSON null) when not finite, as the split without instrumented steps. */
    static Double round(double v, int digits) {
        if (!Double.isFinite(v)) return null;
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
