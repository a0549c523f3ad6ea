package org.charrnn.io;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.data.Vocabulary;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * Checkpoints: a model file {@code ckpt-NNNNNNNN.safetensors} (float32 tensors named as PyTorch's
 * state_dict, loadable with {@code safetensors.torch.load_file}) with the model config, vocabulary,
 * training config, iteration, epoch and val loss in {@code __metadata__}; beside it the training
 * state {@code ckpt-NNNNNNNN.state.safetensors} (float64 master parameters, optimizer moments,
 * carried hidden state, counters) that makes {@code --resume} exact, and the sample
 * {@code ckpt-NNNNNNNN.sample.txt} written at that checkpoint. Backend-neutral.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** Version written to, and required in, {@code __metadata__["format_version"]}. */
    public static final int FORMAT_VERSION = 1;

    public static final String FORMAT = "charrnn";
    /** The format tag of a training state file (ckpt-N.state.safetensors). */
    static final String STATE_FORMAT = FORMAT + "-training-state";

    private static final Pattern NAME = Pattern.compile("ckpt-(\\d+)\\.safetensors");

    /** Where a checkpoint stands in its run. valLoss is NaN when never validated. */
    public record Info(long iteration, double epoch, double valLoss) {}

    /** A model as loaded from a checkpoint file. */
    public record Model(
            Path file,
            ModelConfig config,
            Vocabulary vocabulary,
            double[] params,
            Info info,
            Map<String, String> metadata) {}

    /** The exact training state stored beside a model file. */
    public record TrainingState(
            long iteration,
            long updates,
            double lrScale,
            boolean lastStepFailed,
            double[] params,
            String optimizer,
            double[][] optimizerSlots,
            int batch,
            double[] carriedState,
            double bestValLoss) {}

    // ====================================================================== names

    public static Path modelPath(Path dir, long iteration) {
        return dir.resolve(String.format(Locale.ROOT, "ckpt-%08d.safetensors", iteration));
    }

    public static Path statePath(Path model) {
        return sibling(model, ".state.safetensors");
    }

    public static Path samplePath(Path model) {
        return sibling(model, ".sample.txt");
    }

    /** The model file a training state file belongs to: ckpt-N.safetensors beside ckpt-N.state.safetensors. */
    static Path modelOf(Path state) {
        String n = state.getFileName().toString(), tail = ".state.safetensors";
        return state.resolveSibling(
                (n.endsWith(tail) ? n.substring(0, n.length() - tail.length()) : n) + ".safetensors");
    }

    private static Path sibling(Path model, String suffix) {
        String n = model.getFileName().toString();
        String base = n.endsWith(".safetensors") ? n.substring(0, n.length() - ".safetensors".length()) : n;
        return model.resolveSibling(base + suffix);
    }

    /** Model files in a run directory, oldest iteration first. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = new ArrayList<>();
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).forEach(out::add);
            out.sort(Comparator.comparingLong(Checkpoint::iterationOf));
            return out;
        } catch (IOException e) {
            throw new UserError("cannot list " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * The complete checkpoints of {@code dir}, oldest first: model files whose state file exists.
     * The state file is written last, so it commits the pair; a model file without one is what a
     * crash between the two writes leaves behind.
     */
    public static List<Path> listComplete(Path dir) {
        List<Path> out = new ArrayList<>();
        for (Path p : list(dir)) if (Files.isRegularFile(statePath(p))) out.add(p);
        return out;
    }

    /**
     * Deletes the temporary files that checkpoint writes cut short by a crash left in {@code dir};
     * returns how many. Call it only while no other process writes checkpoints there.
     */
    public static int removePartialWrites(Path dir) {
        try {
            return AtomicFile.removeLeftovers(dir, "ckpt-\\d+\\..*");
        } catch (IOException e) {
            throw new UserError("cannot clean " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    static long iterationOf(Path model) {
        Matcher m = NAME.matcher(model.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The val loss a model file's metadata records; NaN where it has none (never validated) or one
     * that does not parse: such a file is no candidate for the best.
     */
    public static double valLoss(Path model) {
        return parseDouble(Safetensors.readMetadata(model).get("val_loss"));
    }

    /** A file as given, or for a run directory its best checkpoint by val loss (newest if none was validated). */
    public static Path resolveModel(Path fileOrDir) {
        if (!Files.exists(fileOrDir)) throw new UserError("checkpoint not found: " + fileOrDir);
        if (!Files.isDirectory(fileOrDir)) return fileOrDir;
        List<Path> all = list(fileOrDir);
        if (all.isEmpty()) throw new UserError("no checkpoints (ckpt-*.safetensors) in " + fileOrDir);
        Path best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (Path p : all) {
            double v;
            try {
                v = valLoss(p);
            } catch (UserError e) { // the best is unknown while one checkpoint's loss is unreadable
                throw e.suffixed("; to use another checkpoint of " + fileOrDir + ", name its file instead");
            }
            if (v < bestLoss) {
                bestLoss = v;
                best = p;
            }
        }
        return best != null ? best : all.get(all.size() - 1);
    }

    // ====================================================================== model file

    /** Writes the float32 model file atomically. Refuses non-finite parameters. */
    public static void saveModel(
            Path file, ModelConfig cfg, Vocabulary vocab, double[] params, Info info, String trainingConfigJson)
            throws IOException {
        requireFloat32(params, "parameters");
        ParamLayout layout = new ParamLayout(cfg);
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        for (ParamLayout.Tensor t : layout.tensors()) {
            double[] v = new double[t.size()];
            System.arraycopy(params, t.offset(), v, 0, v.length);
            long[] shape = new long[t.shape().length];
            for (int i = 0; i < shape.length; i++) shape[i] = t.shape()[i];
            tensors.add(new Safetensors.Tensor(t.name(), Safetensors.DType.F32, shape, v));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", Integer.toString(FORMAT_VERSION));
        meta.put("model", modelConfigJson(cfg));
        meta.put("vocabulary", vocab.toJson());
        meta.put("training", trainingConfigJson == null ? "{}" : trainingConfigJson);
        meta.put("iteration", Long.toString(info.iteration()));
        meta.put("epoch", Double.toString(info.epoch()));
        meta.put("val_loss", Double.isNaN(info.valLoss()) ? "" : Double.toString(info.valLoss()));
        Safetensors.write(file, tensors, meta);
    }

    /** Loads and validates a model file (one clear line, exit 2, on any problem). */
    public static Model loadModel(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = c.metadata();
        checkFormat(file, meta, FORMAT);
        ModelConfig cfg = parseModelConfig(file, require(file, meta, "model"));
        Vocabulary vocab;
        try {
            vocab = Vocabulary.fromJson(require(file, meta, "vocabulary"));
        } catch (RuntimeException e) {
            throw new UserError(file + ": corrupt checkpoint: bad vocabulary (" + e.getMessage() + ")");
        }
        if (vocab.size() != cfg.vocabSize())
            throw new UserError(file + ": corrupt checkpoint: vocabulary has " + vocab.size()
                    + " symbols, model expects " + cfg.vocabSize());
        ParamLayout layout;
        try {
            layout = new ParamLayout(cfg);
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": corrupt checkpoint: " + e.getMessage());
        }
        // every shape is checked against the file's own tensors before anything is allocated for
        // the model, so metadata that claims a huge model fails here, not with out of memory
        if (c.tensors().size() != layout.tensors().size())
            throw new UserError(file + ": checkpoint has " + c.tensors().size() + " tensors, the model config needs "
                    + layout.tensors().size());
        for (ParamLayout.Tensor t : layout.tensors()) {
            long[] shape = c.require(t.name(), file).shape();
            boolean ok = shape.length == t.shape().length;
            for (int i = 0; ok && i < shape.length; i++) ok = shape[i] == t.shape()[i];
            if (!ok)
                throw new UserError(file + ": tensor " + t.name() + " has shape " + java.util.Arrays.toString(shape)
                        + ", the model config needs " + t.shapeString());
        }
        double[] params = new double[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors())
            System.arraycopy(c.require(t.name(), file).values(), 0, params, t.offset(), t.size());
        requireFiniteLoaded(file, params);
        Info info = new Info(
                parseLong(file, meta.getOrDefault("iteration", "0")),
                parseDouble(meta.getOrDefault("epoch", "0")),
                parseDouble(meta.get("val_loss")));
        return new Model(file, cfg, vocab, params, info, meta);
    }

    // ====================================================================== training state

    public static void saveState(Path modelFile, TrainingState s) throws IOException {
        requireFinite(s.params(), "parameters");
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        tensors.add(
                new Safetensors.Tensor("params", Safetensors.DType.F64, new long[] {s.params().length}, s.params()));
        for (int i = 0; i < s.optimizerSlots().length; i++)
            tensors.add(new Safetensors.Tensor(
                    "optimizer." + i,
                    Safetensors.DType.F64,
                    new long[] {s.optimizerSlots()[i].length},
                    s.optimizerSlots()[i]));
        tensors.add(new Safetensors.Tensor(
                "carried_state", Safetensors.DType.F64, new long[] {s.carriedState().length}, s.carriedState()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", STATE_FORMAT);
        meta.put("format_version", Integer.toString(FORMAT_VERSION));
        meta.put("iteration", Long.toString(s.iteration()));
        meta.put("updates", Long.toString(s.updates()));
        meta.put("lr_scale", Double.toString(s.lrScale()));
        meta.put("last_step_failed", Boolean.toString(s.lastStepFailed()));
        meta.put("optimizer", s.optimizer());
        meta.put("optimizer_slots", Integer.toString(s.optimizerSlots().length));
        meta.put("batch", Integer.toString(s.batch()));
        meta.put("best_val_loss", Double.toString(s.bestValLoss()));
        Safetensors.write(statePath(modelFile), tensors, meta);
    }

    public static TrainingState loadState(Path modelFile) {
        Path file = statePath(modelFile);
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = c.metadata();
        checkFormat(file, meta, STATE_FORMAT);
        String optimizer = require(file, meta, "optimizer");
        OptimizerKind kind;
        try {
            kind = OptimizerKind.parse(optimizer);
        } catch (IllegalArgumentException e) {
            throw corrupt(file, "unknown optimizer '" + optimizer + "'");
        }
        int slots = (int) wholeMeta(file, meta, "optimizer_slots", Integer.MAX_VALUE);
        if (slots != kind.slots().size())
            throw corrupt(file, optimizer + " has " + kind.slots().size() + " state arrays, the file says " + slots);
        double[][] opt = new double[slots][];
        for (int i = 0; i < slots; i++) {
            opt[i] = c.require("optimizer." + i, file).values();
            String name = kind.slots().get(i);
            checkFinite(file, opt[i], "optimizer state " + name);
            // second moments, RMS averages and Adagrad sums are sums of squares: never negative
            if (name.equals("exp_avg_sq") || name.equals("square_avg") || name.equals("sum"))
                for (double v : opt[i]) if (v < 0) throw corrupt(file, "optimizer state " + name + " is negative");
        }
        TrainingState st = new TrainingState(
                wholeMeta(file, meta, "iteration", Long.MAX_VALUE),
                wholeMeta(file, meta, "updates", Long.MAX_VALUE),
                numberMeta(file, meta, "lr_scale", true),
                flagMeta(file, meta, "last_step_failed"),
                c.require("params", file).values(),
                optimizer,
                opt,
                (int) wholeMeta(file, meta, "batch", Integer.MAX_VALUE),
                c.require("carried_state", file).values(),
                numberMeta(file, meta, "best_val_loss", false));
        if (st.iteration() < 0) throw corrupt(file, "negative iteration " + st.iteration());
        if (st.updates() < 0 || st.updates() > st.iteration())
            throw corrupt(file, "updates " + st.updates() + " outside [0, iteration " + st.iteration() + "]");
        if (!(st.lrScale() > 0 && st.lrScale() <= 1))
            throw corrupt(file, "lr_scale " + st.lrScale() + " outside (0, 1]");
        if (st.batch() < 1) throw corrupt(file, "batch " + st.batch() + " < 1");
        checkFinite(file, st.params(), "parameters");
        checkFinite(file, st.carriedState(), "the carried state");
        for (double[] o : opt)
            if (o.length != st.params().length) throw corrupt(file, "optimizer state and parameters differ in size");
        return st;
    }

    private static UserError corrupt(Path file, String why) {
        return new UserError(file + ": corrupt checkpoint: " + why);
    }

    private static void checkFinite(Path file, double[] v, String what) {
        for (double x : v) if (!Double.isFinite(x)) throw corrupt(file, what + " contain NaN or Inf");
    }

    // ====================================================================== helpers

    public static String modelConfigJson(ModelConfig cfg) {
        JsonObject o = new JsonObject();
        o.addProperty("cell", cfg.cell().id());
        o.addProperty("vocab_size", cfg.vocabSize());
        o.addProperty("embedding", cfg.embedding());
        o.addProperty("hidden", cfg.hidden());
        o.addProperty("layers", cfg.layers());
        o.addProperty("dropout", cfg.dropout());
        return o.toString();
    }

    public static ModelConfig parseModelConfig(Path file, String json) {
        JsonObject o;
        try {
            o = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new UserError(file + ": corrupt checkpoint: the model metadata is not a JSON object");
        }
        try {
            return new ModelConfig(
                    CellType.parse(field(file, o, "cell").getAsString()),
                    intField(file, o, "vocab_size"),
                    intField(file, o, "embedding"),
                    intField(file, o, "hidden"),
                    intField(file, o, "layers"),
                    field(file, o, "dropout").getAsDouble());
        } catch (IllegalArgumentException e) { // includes a bad number and a value ModelConfig rejects
            throw new UserError(file + ": corrupt checkpoint: bad model metadata (" + e.getMessage() + ")");
        } catch (UnsupportedOperationException | IllegalStateException e) {
            throw new UserError(file + ": corrupt checkpoint: bad model metadata (a field of the wrong type)");
        }
    }

    /** The primitive field {@code name} of the model metadata, or a one-line corrupt-checkpoint error. */
    private static com.google.gson.JsonPrimitive field(Path file, JsonObject o, String name) {
        com.google.gson.JsonElement e = o.get(name);
        if (e == null || !e.isJsonPrimitive())
            throw new UserError(file + ": corrupt checkpoint: the model metadata lacks '" + name + "'");
        return e.getAsJsonPrimitive();
    }

    private static int intField(Path file, JsonObject o, String name) {
        com.google.gson.JsonPrimitive p = field(file, o, name);
        double v = p.isNumber() ? p.getAsDouble() : Double.NaN;
        if (!(v == Math.rint(v) && Math.abs(v) <= Integer.MAX_VALUE))
            throw new UserError(file + ": corrupt checkpoint: model metadata '" + name + "' is not an integer: " + p);
        return (int) v;
    }

    /**
     * The file is of format {@code expected} ({@link #FORMAT}, a model, or {@link #STATE_FORMAT},
     * a training state) at {@link #FORMAT_VERSION}; a one-line error saying what it is otherwise
     * (the other of the two, another charrnn file, or none).
     */
    private static void checkFormat(Path file, Map<String, String> meta, String expected) {
        String f = meta.get("format");
        if (f == null || !f.startsWith(FORMAT))
            throw new UserError(file + ": not a charrnn checkpoint (no format tag in its metadata)");
        if (!f.equals(expected)) {
            String wanted = expected.equals(FORMAT) ? "a character model" : "a character model's training state";
            if (f.equals(STATE_FORMAT))
                throw UserError.naming(file + " is a run's training state (what {Options.resume} reads), not a model:"
                        + " give the model file beside it, " + modelOf(file).getFileName() + ", or the run directory");
            if (f.equals(FORMAT)) throw new UserError(file + " is a model file, not a training state");
            throw new UserError(file + " is a " + f + " file, not " + wanted);
        }
        String v = meta.get("format_version");
        if (!Integer.toString(FORMAT_VERSION).equals(v))
            throw new UserError(file + ": unknown checkpoint format version " + v + " (this charrnn reads version "
                    + FORMAT_VERSION + ")");
    }

    private static String require(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new UserError(file + ": corrupt checkpoint: metadata lacks '" + key + "'");
        return v;
    }

    private static long parseLong(Path file, String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new UserError(file + ": corrupt checkpoint: '" + s + "' is not a number");
        }
    }

    /** The training state's whole number {@code key} (at most max), or a corrupt-checkpoint error. */
    private static long wholeMeta(Path file, Map<String, String> meta, String key, long max) {
        String s = require(file, meta, key);
        try {
            long v = Long.parseLong(s.trim());
            if (v <= max) return v;
        } catch (NumberFormatException e) {
            // said below
        }
        throw corrupt(file, key + " '" + s + "' is not a whole number" + (max < Long.MAX_VALUE ? " up to " + max : ""));
    }

    /**
     * The training state's number {@code key} ("NaN" where it has none yet, as best_val_loss before
     * a validation); where not required, NaN when absent. Anything else is a corrupt-checkpoint error.
     */
    private static double numberMeta(Path file, Map<String, String> meta, String key, boolean required) {
        String s = required ? require(file, meta, key) : meta.get(key);
        if (s == null) return Double.NaN;
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw corrupt(file, key + " '" + s + "' is not a number");
        }
    }

    /** The training state's flag {@code key}: true or false; false when absent. */
    private static boolean flagMeta(Path file, Map<String, String> meta, String key) {
        String s = meta.get(key);
        if (s == null || s.equals("false")) return false;
        if (s.equals("true")) return true;
        throw corrupt(file, key + " '" + s + "' is not true or false");
    }

    private static double parseDouble(String s) {
        if (s == null || s.isBlank()) return Double.NaN;
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The model file stores float32: every value must stay finite after the cast. */
    private static void requireFloat32(double[] v, String what) {
        for (double x : v)
            if (!Float.isFinite((float) x))
                throw new IllegalStateException(
                        "refusing to write a checkpoint: " + what + " contain NaN, Inf or values beyond float32");
    }

    /** True when every value is finite as float32 (what a model file can hold). */
    public static boolean fitsFloat32(double[] v) {
        for (double x : v) if (!Float.isFinite((float) x)) return false;
        return true;
    }

    private static void requireFinite(double[] v, String what) {
        for (double x : v)
            if (!Double.isFinite(x))
                throw new IllegalStateException("refusing to write a checkpoint: " + what + " contain NaN or Inf");
    }

    private static void requireFiniteLoaded(Path file, double[] v) {
        for (double x : v)
            if (!Double.isFinite(x)) throw new UserError(file + ": corrupt checkpoint: parameters contain NaN or Inf");
    }
}
