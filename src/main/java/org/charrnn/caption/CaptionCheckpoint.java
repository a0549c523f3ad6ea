package org.charrnn.caption;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Safetensors;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.util.UserError;

/**
 * A caption model file: safetensors with the language model's tensors under their usual names
 * ({@link ParamLayout}) plus the {@link FeatureProjection}: {@code condition.weight} [R, F] and
 * {@code condition.bias} [R], float32, with R = L*H for {@code condition = state} (row l*H + j is unit
 * j of layer l) and R = E for {@code condition = input}; metadata {@code format = charrnn-caption},
 * the model config as in {@link Checkpoint}, {@code condition} ("state" or "input"), {@code features}
 * (F), the caption characters, the iteration and the validation loss.
 */
public final class CaptionCheckpoint {
    public static final String FORMAT = "charrnn-caption";
    public static final String WEIGHT = "condition.weight", BIAS = "condition.bias";

    private CaptionCheckpoint() {}

    /** A loaded caption model. */
    public record Contents(
            ModelConfig config,
            CaptionVocab vocab,
            Condition condition,
            int features,
            double[] params,
            double[] projection,
            long iteration,
            double valLoss,
            Map<String, String> metadata) {}

    public static void save(
            Path file,
            ModelConfig cfg,
            CaptionVocab vocab,
            double[] params,
            FeatureProjection proj,
            long iteration,
            double valLoss,
            Map<String, String> extra)
            throws IOException {
        if (vocab.size() != cfg.vocabSize())
            throw new IllegalArgumentException(vocab.size() + " symbols for a model of " + cfg.vocabSize());
        if (!Checkpoint.fitsFloat32(params) || !Checkpoint.fitsFloat32(proj.parameters()))
            throw new UserError("refusing to write " + file + ": parameters are not finite float32 values");
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        for (ParamLayout.Tensor t : new ParamLayout(cfg).tensors()) {
            double[] v = new double[t.size()];
            System.arraycopy(params, t.offset(), v, 0, v.length);
            long[] shape = new long[t.shape().length];
            for (int i = 0; i < shape.length; i++) shape[i] = t.shape()[i];
            tensors.add(new Safetensors.Tensor(t.name(), Safetensors.DType.F32, shape, v));
        }
        int LH = proj.rows(), F = proj.features();
        double[] p = proj.parameters();
        double[] w = new double[LH * F], b = new double[LH];
        System.arraycopy(p, 0, w, 0, w.length);
        System.arraycopy(p, w.length, b, 0, b.length);
        tensors.add(new Safetensors.Tensor(WEIGHT, Safetensors.DType.F32, new long[] {LH, F}, w));
        tensors.add(new Safetensors.Tensor(BIAS, Safetensors.DType.F32, new long[] {LH}, b));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("model", Checkpoint.modelConfigJson(cfg));
        meta.put("condition", proj.condition().id());
        meta.put("features", Integer.toString(F));
        meta.put("caption_chars", vocab.chars());
        meta.put("iteration", Long.toString(iteration));
        meta.put("val_loss", Double.isNaN(valLoss) ? "" : Double.toString(valLoss));
        meta.putAll(extra);
        Safetensors.write(file, tensors, meta);
    }

    public static Contents load(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = c.metadata();
        if (!FORMAT.equals(meta.get("format")))
            throw new UserError(file + ": not a caption model (format " + meta.get("format") + ", expected " + FORMAT
                    + "); train one with charrnn caption train");
        ModelConfig cfg = Checkpoint.parseModelConfig(file, require(file, meta, "model"));
        CaptionVocab vocab = CaptionVocab.fromChars(require(file, meta, "caption_chars"));
        if (vocab.size() != cfg.vocabSize())
            throw new UserError(
                    file + ": corrupt caption model: " + vocab.size() + " symbols, the model has " + cfg.vocabSize());
        int F;
        try {
            F = Integer.parseInt(require(file, meta, "features"));
        } catch (NumberFormatException e) {
            throw new UserError(file + ": corrupt caption model: bad features count");
        }
        Condition condition;
        try {
            condition = Condition.parse(meta.get("condition"));
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": unsupported conditioning '" + meta.get("condition") + "'");
        }
        ParamLayout layout = new ParamLayout(cfg);
        double[] params = new double[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            Safetensors.Tensor s = c.require(t.name(), file);
            if (s.values().length != t.size())
                throw new UserError(file + ": tensor " + t.name() + " does not have the shape " + t.shapeString());
            System.arraycopy(s.values(), 0, params, t.offset(), t.size());
        }
        int LH = condition == Condition.STATE ? cfg.layers() * cfg.hidden() : cfg.embedding();
        double[] w = c.require(WEIGHT, file).values(), b = c.require(BIAS, file).values();
        if (w.length != (long) LH * F || b.length != LH)
            throw new UserError(file + ": condition tensors do not match " + LH + " " + condition.id() + " units and "
                    + F + " features");
        double[] proj = new double[w.length + b.length];
        System.arraycopy(w, 0, proj, 0, w.length);
        System.arraycopy(b, 0, proj, w.length, b.length);
        String vl = meta.getOrDefault("val_loss", "");
        long it;
        double valLoss;
        try {
            it = Long.parseLong(meta.getOrDefault("iteration", "0"));
        } catch (NumberFormatException e) {
            throw new UserError(file + ": corrupt caption model: bad iteration");
        }
        try {
            valLoss = vl.isEmpty() ? Double.NaN : Double.parseDouble(vl);
        } catch (NumberFormatException e) {
            throw new UserError(file + ": corrupt caption model: bad val_loss");
        }
        return new Contents(cfg, vocab, condition, F, params, proj, it, valLoss, meta);
    }

    private static String require(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new UserError(file + ": corrupt caption model: no '" + key + "' metadata");
        return v;
    }
}
