package org.charrnn.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * The kernels of training steps as Nsight Compute measured them, beside the step cost model's
 * operations of the same step ({@link StepTrace}): where the model's price of a kernel is wrong,
 * kernel by kernel, which a whole step's time cannot say. The profile is ncu's CSV of a bench run
 * of one row without graphs, one metric:
 *
 * <pre>
 * ncu --csv --metrics gpu__time_duration.sum --print-units base --print-kernel-base function \
 *     --cache-control none --clock-control none --log-file FILE \
 *     java ... bench --backend cuda --no-graph --warmup 2 --steps 3 --split-steps 0 (one row)
 * </pre>
 *
 * Steps are told apart by the optimizer's kernel, which ends each; the launches before the first
 * one (the first step, with whatever runs once) are left out, so every step counted is whole. ncu
 * runs the kernels one at a time: the sums are of kernel durations, not a step's time (no overlap of
 * the side stream, no launch gaps). Each launch and each operation of the model counts under a
 * {@link #kernelKey key}: our kernel's name less its variant suffix, "persistent forward" or
 * "persistent backward" for the persistent kernels, {@value #GEMM} for every library kernel
 * (cuBLAS's: one GEMM may take more than one launch). The model's memsets, copies and host work are
 * no kernels and are left out. Where every step's launches follow the model's kernel operations in
 * order ({@link #align}), a second table sets them side by side operation by operation.
 */
public final class KernelProfile {
    /** The key of cuBLAS's kernels (any kernel not ours) and of our tiled GEMM. */
    static final String GEMM = "GEMM";

    /**
     * Every kernel of kernels/cuda (their extern "C" names; KernelProfileTest checks this against the
     * sources), so that any other kernel is a library's.
     */
    static final Set<String> OURS = Set.of(
            "adagrad_step",
            "adagrad_step_dev",
            "adam_step",
            "adam_step_dev",
            "add_bias_rows",
            "clip_value",
            "column_sum",
            "copy_rows",
            "decoder_xent",
            "dropout_backward",
            "dropout_backward_dev",
            "dropout_forward",
            "dropout_forward_dev",
            "embedding_backward",
            "embedding_forward",
            "f32_to_bf16",
            "gather_embed_u16",
            "gather_embed_u8",
            "gather_window_u16",
            "gather_window_u8",
            "gemm_tiled",
            "global_norm",
            "gru_backward_step",
            "gru_forward_step",
            "lstm_backward_step",
            "lstm_forward_step",
            "mask_xent",
            "mut_candidate_backward",
            "mut_candidate_forward",
            "mut_gates_backward",
            "mut_gates_forward",
            "mut_tanh_backward",
            "mut_tanh_h",
            "persistent_gru_backward",
            "persistent_gru_backward_cluster",
            "persistent_gru_backward_cluster_rows",
            "persistent_gru_backward_rows",
            "persistent_gru_forward",
            "persistent_gru_forward_cluster",
            "persistent_lstm_backward",
            "persistent_lstm_backward_cluster",
            "persistent_lstm_backward_cluster_rows",
            "persistent_lstm_backward_rows",
            "persistent_lstm_forward",
            "persistent_lstm_forward_cluster",
            "persistent_rnn_backward",
            "persistent_rnn_backward_cluster",
            "persistent_rnn_forward",
            "persistent_rnn_forward_cluster",
            "persistent_rnn_pair_backward_cluster",
            "persistent_rnn_pair_forward_cluster",
            "rmsprop_step",
            "rmsprop_step_dev",
            "rnn_backward_step",
            "rnn_forward_step",
            "sgd_step",
            "sgd_step_dev",
            "softmax_xent",
            "sum_final",
            "target_weights");

    /** The optimizers' kernels (keys): the last launches of a training step. */
    private static final Set<String> OPTIMIZERS = Set.of("adam_step", "adagrad_step", "rmsprop_step", "sgd_step");

    /** Operations of the model that launch no kernel. */
    private static final Set<String> NO_KERNEL = Set.of("memset", "memcpy", "copy step values");

    /** One kernel launch: its name as ncu prints it and its duration, µs. */
    record Launch(String kernel, double us) {}

    private final List<List<Launch>> steps; // whole steps, each ending with the optimizer's kernels
    private final int launchesBefore; // the launches before the first whole step

    private KernelProfile(List<List<Launch>> steps, int launchesBefore) {
        this.steps = steps;
        this.launchesBefore = launchesBefore;
    }

    /** The whole steps of ncu's CSV {@code file}; a {@link UserError} naming it where it is none or holds none. */
    static KernelProfile read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        return of(launches(lines, file.toString()), file.toString());
    }

    /**
     * The launches of ncu's CSV lines, in the order ncu lists them (its IDs, the order of launch):
     * the rows of metric gpu__time_duration.sum after the header line; ncu's own lines (==PROF==)
     * and other metrics are skipped.
     */
    static List<Launch> launches(List<String> lines, String source) {
        int header = -1;
        for (int i = 0; i < lines.size() && header < 0; i++) if (lines.get(i).startsWith("\"ID\",")) header = i;
        if (header < 0)
            throw new UserError(source + " is not ncu's CSV (no \"ID\",... header line: ncu's CSV of metric"
                    + " gpu__time_duration.sum)");
        List<String> names = fields(lines.get(header));
        int kernel = column(names, "Kernel Name", source),
                metric = column(names, "Metric Name", source),
                unit = column(names, "Metric Unit", source),
                value = column(names, "Metric Value", source);
        List<Launch> out = new ArrayList<>();
        for (int i = header + 1; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("\"")) continue; // ncu's messages
            List<String> f = fields(lines.get(i));
            if (f.size() != names.size())
                throw new UserError(
                        source + " line " + (i + 1) + " has " + f.size() + " fields, its" + " header " + names.size());
            if (!f.get(metric).equals("gpu__time_duration.sum")) continue;
            out.add(new Launch(baseName(f.get(kernel)), micros(f.get(value), f.get(unit), source, i + 1)));
        }
        if (out.isEmpty())
            throw new UserError(source + " has no rows of metric gpu__time_duration.sum (the kernels' durations"
                    + " ncu measures)");
        return out;
    }

    /** The whole steps of {@code launches}: each ends with its run of optimizer launches; the first is left out. */
    static KernelProfile of(List<Launch> launches, String source) {
        List<List<Launch>> segments = new ArrayList<>();
        List<Launch> cur = new ArrayList<>();
        boolean updating = false;
        for (Launch l : launches) {
            boolean optimizer = OPTIMIZERS.contains(kernelKey(l.kernel()));
            if (updating && !optimizer) {
                segments.add(cur);
                cur = new ArrayList<>();
            }
            cur.add(l);
            updating = optimizer;
        }
        if (updating) segments.add(cur);
        if (segments.size() < 2)
            throw new UserError(source + " holds " + segments.size() + " training step(s) ending"
                    + " with an optimizer kernel; profile at least 2 (the first is left out)");
        int before = segments.get(0).size();
        return new KernelProfile(List.copyOf(segments.subList(1, segments.size())), before);
    }

    /** The whole steps counted. */
    int steps() {
        return steps.size();
    }

    /**
     * The key a launch of {@code kernel} counts under: {@value #GEMM} for a kernel not ours and our
     * tiled GEMM; "persistent pair forward" / "persistent pair backward" for the RNN's two layers as
     * one launch (persistent_rnn_pair.cu); "persistent forward" / "persistent backward" for the other
     * persistent kernels of every cell and layout; else the name less its token-width (_u8, _u16) and
     * device-lr (_dev) suffix.
     */
    static String kernelKey(String kernel) {
        if (!OURS.contains(kernel) || kernel.equals("gemm_tiled")) return GEMM;
        if (kernel.startsWith("persistent_"))
            return (kernel.startsWith("persistent_rnn_pair_") ? "persistent pair " : "persistent ")
                    + (kernel.contains("_forward") ? "forward" : "backward");
        return kernel.replaceFirst("_(u8|u16)$", "").replaceFirst("_dev$", "");
    }

    /**
     * The key of a model operation named {@code op} ({@link StepTrace.Op#name}), as {@link #kernelKey}
     * of the kernel it launches: "gemm MxNxK" a GEMM, "softmax_xent + loss sum" softmax_xent, "column_sum
     * (two outputs)" column_sum, a stepwise cell "lstm_forward" lstm_forward_step.
     */
    static String opKey(String op) {
        if (op.startsWith("gemm ")) return GEMM;
        String k = op.split(" [(+]", 2)[0];
        return k.matches("(lstm|gru|rnn)_(forward|backward)") ? k + "_step" : k;
    }

    /** Whether a model operation launches a kernel (not a memset, a copy or host work). */
    static boolean launchesKernel(StepTrace.Op op) {
        return op.part() != StepPart.HOST && !NO_KERNEL.contains(op.name());
    }

    /** Where a key's time goes: by the kind of kernel (every GEMM a GEMM, the stepwise recurrence's too). */
    static StepPart part(String key) {
        if (key.equals(GEMM)) return StepPart.GEMM;
        if (key.startsWith("persistent ")) return key.endsWith("forward") ? forward(true) : forward(false);
        if (key.matches("(lstm|gru|rnn)_\\w+_step|mut_\\w+"))
            return forward(key.contains("forward") || key.equals("mut_tanh_h"));
        if (OPTIMIZERS.contains(key) || key.equals("global_norm") || key.equals("clip_value")) return StepPart.UPDATE;
        return StepPart.KERNELS;
    }

    private static StepPart forward(boolean forward) {
        return forward ? StepPart.FORWARD_RECURRENCE : StepPart.BACKWARD_RECURRENCE;
    }

    /**
     * Markdown: the profiled steps of {@code file} beside the step cost model's operations of the same
     * row ({@code label}: config at batch B, T steps a window, precision p, the recurrence as {@code
     * kernel} runs it), launches and µs a step by key and by part, then op by op where the launches
     * follow the model's operations.
     */
    public static String markdown(
            ModelConfig config, int B, int T, Precision p, RnnKernel kernel, String label, Path file) {
        if (p != Precision.FP32 && p != Precision.TF32)
            throw new UserError("the step cost model prices fp32 and tf32 steps, not " + p.id());
        KernelProfile measured = read(file);
        Map<String, double[]> rows = new LinkedHashMap<>(); // key -> predicted launches, µs; measured launches, µs
        List<StepTrace.Op> kernelOps = StepCostModel.trace(config, B, T, p, kernel).ops().stream()
                .filter(KernelProfile::launchesKernel)
                .toList();
        for (StepTrace.Op op : kernelOps) {
            double[] r = rows.computeIfAbsent(opKey(op.name()), k -> new double[4]);
            r[0]++;
            r[1] += op.us();
        }
        for (List<Launch> step : measured.steps)
            for (Launch l : step) {
                double[] r = rows.computeIfAbsent(kernelKey(l.kernel()), k -> new double[4]);
                r[2] += 1.0 / measured.steps();
                r[3] += l.us() / measured.steps();
            }
        List<Map.Entry<String, double[]>> byPart = new ArrayList<>(rows.entrySet());
        byPart.sort(Comparator.comparing(e -> part(e.getKey()))); // stable: in order of launch within a part
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "%n%s %s under Nsight Compute (%s): %d whole steps after %d launches, kernel durations a step (mean)"
                        + " against the step cost model's price of each operation%n%n",
                label,
                p.id(),
                file,
                measured.steps(),
                measured.launchesBefore));
        sb.append(
                "| kernel | part | launches: predicted | measured | µs: predicted | measured | measured / predicted |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        Map<StepPart, double[]> parts = new EnumMap<>(StepPart.class);
        double[] all = new double[4];
        byPart.forEach(e -> {
            String key = e.getKey();
            double[] r = e.getValue();
            sb.append(row(key, part(key).label, r));
            double[] t = parts.computeIfAbsent(part(key), k -> new double[4]);
            for (int i = 0; i < 4; i++) {
                t[i] += r[i];
                all[i] += r[i];
            }
        });
        parts.forEach((part, r) -> sb.append(row("all " + part.label, "", r)));
        sb.append(row("all kernels", "", all));
        sb.append(byOperation(kernelOps, measured));
        sb.append("\nncu runs one kernel at a time: these are sums of kernel durations, not a step's time (no"
                + " overlap, no launch gaps); the model's prices include a graph node's floor each.\n");
        return sb.toString();
    }

    /** The most operations a step may have for the table of {@link #byOperation}. */
    static final int MOST_OPERATIONS = 80;

    /**
     * Markdown: each of the model's kernel operations {@code ops} beside its launches' µs (the mean
     * over the whole steps), where every step's launches follow them ({@link #align}); else a line
     * saying why not.
     */
    private static String byOperation(List<StepTrace.Op> ops, KernelProfile measured) {
        if (ops.size() > MOST_OPERATIONS)
            return "\nop by op: left out (" + ops.size() + " operations a step, more than " + MOST_OPERATIONS + ")\n";
        double[] mean = new double[ops.size()];
        for (List<Launch> step : measured.steps) {
            String[] why = new String[1];
            double[] us = align(ops, step, why);
            if (us == null) return "\nop by op: the launches do not follow the model's operations: " + why[0] + "\n";
            for (int i = 0; i < us.length; i++) mean[i] += us[i] / measured.steps();
        }
        StringBuilder sb = new StringBuilder("\nop by op, in the order of launch (a GEMM's launches together):\n\n");
        sb.append("| # | operation | stream | part | µs: predicted | measured | measured / predicted |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < ops.size(); i++) {
            StepTrace.Op op = ops.get(i);
            sb.append(String.format(
                    Locale.ROOT,
                    "| %d | %s | %s | %s | %.1f | %.1f | %.2f |%n",
                    i + 1,
                    op.name(),
                    op.side() ? "side" : "main",
                    part(opKey(op.name())).label,
                    op.us(),
                    mean[i],
                    mean[i] / op.us()));
        }
        return sb.toString();
    }

    /**
     * The µs of each of {@code ops} (the model's kernel operations of a step, in the order the
     * orchestration issues them, which ncu's serialized launches keep) in one whole {@code step}, or
     * null with {@code why[0]} set where the launches do not follow them: each of our operations is
     * the next launch, of its key; a run of G GEMMs is the next run of library launches, n G of them
     * (cuBLAS may launch more than one kernel a GEMM: n each, in turn).
     */
    static double[] align(List<StepTrace.Op> ops, List<Launch> step, String[] why) {
        double[] us = new double[ops.size()];
        int i = 0, j = 0;
        while (i < ops.size()) {
            String key = opKey(ops.get(i).name());
            if (!key.equals(GEMM)) {
                if (j >= step.size() || !kernelKey(step.get(j).kernel()).equals(key)) {
                    why[0] = "operation " + (i + 1) + " (" + ops.get(i).name() + ") meets launch " + (j + 1) + " ("
                            + (j < step.size() ? step.get(j).kernel() : "none") + ")";
                    return null;
                }
                us[i++] = step.get(j++).us();
                continue;
            }
            int g = 0, k = 0;
            while (i + g < ops.size() && opKey(ops.get(i + g).name()).equals(GEMM)) g++;
            while (j + k < step.size() && kernelKey(step.get(j + k).kernel()).equals(GEMM)) k++;
            if (k == 0 || k % g != 0) {
                why[0] = g + " GEMMs from operation " + (i + 1) + " meet " + k + " library launches";
                return null;
            }
            for (int a = 0; a < k; a++) us[i + a / (k / g)] += step.get(j + a).us();
            i += g;
            j += k;
        }
        if (j != step.size()) {
            why[0] = (step.size() - j) + " launches after the model's last operation";
            return null;
        }
        return us;
    }

    private static String row(String key, String part, double[] r) {
        String ratio = r[1] > 0 && r[2] > 0 ? String.format(Locale.ROOT, "%.2f", r[3] / r[1]) : "-";
        return String.format(
                Locale.ROOT,
                "| %s | %s | %.0f | %.1f | %.1f | %.1f | %s |%n",
                key,
                part,
                r[0],
                r[2],
                r[1],
                r[3],
                ratio);
    }

    /** The function's name: ncu's kernel name less a "void " prefix, template arguments and parameters. */
    static String baseName(String kernel) {
        String k = kernel.strip();
        if (k.startsWith("void ")) k = k.substring(5);
        int cut = k.length();
        for (char c : new char[] {'(', '<'}) if (k.indexOf(c) >= 0) cut = Math.min(cut, k.indexOf(c));
        return k.substring(0, cut).strip();
    }

    /** A duration of ncu's (value with thousands separators, unit ns/nsecond, us/usecond, ms/msecond, s/second) in µs. */
    static double micros(String value, String unit, String source, int line) {
        double v;
        try {
            v = Double.parseDouble(value.replace(",", ""));
        } catch (NumberFormatException e) {
            throw new UserError(source + " line " + line + ": duration '" + value + "' is no number");
        }
        double scale = switch (unit) {
            case "ns", "nsecond" -> 1e-3;
            case "us", "usecond" -> 1;
            case "ms", "msecond" -> 1e3;
            case "s", "second" -> 1e6;
            default -> throw new UserError(source + " line " + line + ": unknown duration unit '" + unit + "'");
        };
        return v * scale;
    }

    private static int column(List<String> names, String name, String source) {
        int i = names.indexOf(name);
        if (i < 0) throw new UserError(source + " has no \"" + name + "\" column");
        return i;
    }

    /** The fields of one CSV line whose fields are quoted ("" a quote inside one). */
    static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    f.append('"');
                    i++;
                } else if (c == '"') quoted = false;
                else f.append(c);
            } else if (c == '"') quoted = true;
            else if (c == ',') {
                out.add(f.toString());
                f.setLength(0);
            } else f.append(c);
        }
        out.add(f.toString());
        return out;
    }
}
