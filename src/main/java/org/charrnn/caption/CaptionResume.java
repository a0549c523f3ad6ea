package org.charrnn.caption;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.RunFiles;
import org.charrnn.io.Safetensors;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * Where a caption run stands after its last whole epoch, for {@code caption train --resume}: the
 * model's and the projection's parameters and optimizer state in float64 (a resumed run continues
 * exactly as an uninterrupted one), the epoch, iteration and best score, and what the run was
 * (model config, caption characters, feature width, optimizer) so that a resume with other data or
 * other options is refused in one line.
 */
public final class CaptionResume {
    public static final String FILE = RunFiles.CAPTION_STATE;

    /** The run after {@code epoch} whole epochs. */
    public record State(
            int epoch,
            long iteration,
            double best,
            double[] params,
            double[] projection,
            double[][] modelSlots,
            double[][] projectionSlots) {}

    private CaptionResume() {}

    /**
     * What makes a run: its model, data, optimizer and the options that order and split the data
     * ({@code options}, by option name: a resume must keep them), and the options a resume may
     * change ({@code settings}, by option name: --lr, --clip), recorded so that a resume keeps
     * them where they are not given again.
     */
    public record Run(
            ModelConfig config,
            CaptionVocab vocab,
            int features,
            OptimizerKind optimizer,
            Map<String, String> options,
            Map<String, String> settings) {}

    public static void save(Path file, Run run, State s) throws IOException {
        OptimizerKind kind = run.optimizer();
        List<Safetensors.Tensor> t = new ArrayList<>();
        t.add(tensor("params", s.params()));
        t.add(tensor("projection", s.projection()));
        for (int i = 0; i < kind.slots().size(); i++) {
            t.add(tensor("optimizer.model." + kind.slots().get(i), s.modelSlots()[i]));
            t.add(tensor("optimizer.projection." + kind.slots().get(i), s.projectionSlots()[i]));
        }
        Map<String, String> meta = new LinkedHashMap<>(identity(run));
        meta.putAll(run.settings());
        meta.put("epoch", Integer.toString(s.epoch()));
        meta.put("iteration", Long.toString(s.iteration()));
        meta.put("best", Double.toString(s.best()));
        Safetensors.write(file, t, meta);
    }

    /** The state in {@code file}; a one-line error when there is none or it is of another run. */
    public static State load(Path file, Run run) {
        OptimizerKind kind = run.optimizer();
        if (!Files.isRegularFile(file))
            throw new UserError("--resume: " + file + " does not exist (a run writes it after each epoch)");
        Safetensors.Contents c = Safetensors.read(file);
        for (Map.Entry<String, String> e : identity(run).entrySet()) {
            String had = c.metadata().get(e.getKey());
            if (!e.getValue().equals(had))
                throw new UserError("--resume: " + file + " is of a run with another "
                        + difference(file, e.getKey(), had, e.getValue())
                        + "; a resumed run keeps its data, model and options (leave the option out)");
        }
        double[][] ms = new double[kind.slots().size()][],
                ps = new double[kind.slots().size()][];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = c.require("optimizer.model." + kind.slots().get(i), file).values();
            ps[i] = c.require("optimizer.projection." + kind.slots().get(i), file)
                    .values();
        }
        return new State(
                (int) number(file, c.metadata(), "epoch", true),
                (long) number(file, c.metadata(), "iteration", true),
                number(file, c.metadata(), "best", false),
                c.require("params", file).values(),
                c.require("projection", file).values(),
                ms,
                ps);
    }

    /**
     * What differs between the run's {@code had} and this one's {@code now} of identity entry {@code
     * key}, in the options' terms: "--hidden (128, now 99)" for the model's first field that differs.
     */
    private static String difference(Path file, String key, String had, String now) {
        if (key.equals("model") && had != null) {
            ModelConfig a, b;
            try {
                a = Checkpoint.parseModelConfig(file, had);
                b = Checkpoint.parseModelConfig(file, now);
            } catch (UserError e) {
                return "model (" + had + ", now " + now + ")";
            }
            if (a.cell() != b.cell())
                return "--model (" + a.cell().id() + ", now " + b.cell().id() + ")";
            if (a.layers() != b.layers()) return "--layers (" + a.layers() + ", now " + b.layers() + ")";
            if (a.hidden() != b.hidden()) return "--hidden (" + a.hidden() + ", now " + b.hidden() + ")";
            if (a.embedding() != b.embedding()) return "--embedding (" + a.embedding() + ", now " + b.embedding() + ")";
            return "caption vocabulary (" + a.vocabSize() + " symbols, now " + b.vocabSize() + ")";
        }
        String what = switch (key) {
            case "optimizer" -> "--optimizer";
            case "features" -> "feature width (--features)";
            case "caption_chars" -> "caption alphabet (--captions)";
            default -> key;
        };
        return what + " (" + had + ", now " + now + ")";
    }

    /**
     * The options the run's state in {@code file} records, by option name: its model (--model,
     * --layers, --hidden, --embedding), --optimizer, the {@link Run#options} and {@link
     * Run#settings}; what a resume takes where they are not given again. Empty where there is no
     * state file ({@link #load} says so).
     */
    public static Map<String, String> recordedOptions(Path file) {
        Map<String, String> o = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) return o;
        Map<String, String> meta = Safetensors.readMetadata(file);
        String model = meta.get("model");
        if (model != null) {
            ModelConfig c = Checkpoint.parseModelConfig(file, model);
            o.put("--model", c.cell().id());
            o.put("--layers", Integer.toString(c.layers()));
            o.put("--hidden", Integer.toString(c.hidden()));
            o.put("--embedding", Integer.toString(c.embedding()));
        }
        if (meta.containsKey("optimizer")) o.put("--optimizer", meta.get("optimizer"));
        meta.forEach((k, v) -> {
            if (k.startsWith("--")) o.put(k, v);
        });
        return o;
    }

    /** The state's number {@code key}, where {@code whole} one in [0, 2^31); else a one-line error. */
    private static double number(Path file, Map<String, String> meta, String key, boolean whole) {
        String s = meta.get(key);
        if (s == null) throw new UserError("--resume: " + file + " is corrupt: no '" + key + "' metadata");
        double v;
        try {
            v = Double.parseDouble(s.trim()); // "NaN" too: a best score no epoch has set yet
        } catch (NumberFormatException e) {
            throw notA(file, key, s, whole);
        }
        if (whole && !(v == Math.rint(v) && v >= 0 && v <= Integer.MAX_VALUE)) throw notA(file, key, s, true);
        return v;
    }

    private static UserError notA(Path file, String key, String value, boolean whole) {
        return new UserError("--resume: " + file + " is corrupt: '" + key + "' is " + value + ", not a "
                + (whole ? "whole number" : "number"));
    }

    private static Map<String, String> identity(Run r) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "charrnn-caption-resume");
        m.put("model", Checkpoint.modelConfigJson(r.config()));
        m.put("caption_chars", r.vocab().chars());
        m.put("features", Integer.toString(r.features()));
        m.put("optimizer", r.optimizer().id());
        m.putAll(r.options());
        return m;
    }

    private static Safetensors.Tensor tensor(String name, double[] v) {
        return new Safetensors.Tensor(name, Safetensors.DType.F64, new long[] {v.length}, v);
    }
}
