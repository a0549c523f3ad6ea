package org.charrnn.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of a model in one flat array, with named views in PyTorch state_dict order and
 * naming: {@code embedding.weight [V,E]}, then per layer l {@code rnn.weight_ih_l{l} [Gi*H,in]},
 * {@code rnn.weight_hh_l{l} [Gh*H,H]}, {@code rnn.bias_ih_l{l} [Gi*H]}, {@code rnn.bias_hh_l{l} [Gh*H]}
 * (Gi, Gh the cell's input and recurrent gate blocks, see {@link CellType}),
 * then {@code decoder.weight [V,H]}, {@code decoder.bias [V]}. Row-major, as torch stores them.
 * Gradients and optimizer moments use the same layout.
 */
public final class ParamLayout {

    /** One named view: elements [offset, offset + size) of the flat array, row-major with the given shape. */
    public record Tensor(String name, int offset, int[] shape) {
        /** Number of elements (the layout only holds tensors of fewer than 2^31). */
        public int size() {
            return (int) elements(shape);
        }

        public String shapeString() {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < shape.length; i++) sb.append(i > 0 ? "," : "").append(shape[i]);
            return sb.append(']').toString();
        }
    }

    private final ModelConfig config;
    private final List<Tensor> tensors;
    private final Map<String, Tensor> byName;
    private final int size;

    public ParamLayout(ModelConfig config) {
        this.config = config;
        List<Tensor> list = new ArrayList<>();
        int off = 0;
        int V = config.vocabSize(), E = config.embedding(), H = config.hidden();
        int Gi = config.inputGateWidth(), Gh = config.recurrentGateWidth();
        off = add(list, "embedding.weight", off, V, E);
        for (int l = 0; l < config.layers(); l++) {
            off = add(list, "rnn.weight_ih_l" + l, off, Gi, config.inputSize(l));
            off = add(list, "rnn.weight_hh_l" + l, off, Gh, H);
            off = add(list, "rnn.bias_ih_l" + l, off, Gi);
            off = add(list, "rnn.bias_hh_l" + l, off, Gh);
        }
        off = add(list, "decoder.weight", off, V, H);
        off = add(list, "decoder.bias", off, V);
        this.tensors = Collections.unmodifiableList(list);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Tensor t : list) m.put(t.name(), t);
        this.byName = Collections.unmodifiableMap(m);
        this.size = off;
    }

    private static int add(List<Tensor> list, String name, int off, int... shape) {
        long n = elements(shape), end = off + n;
        if (n > Integer.MAX_VALUE || end > Integer.MAX_VALUE) {
            // the tensor too large by itself, or the one that takes the sum past the limit (many layers)
            String size = n > Integer.MAX_VALUE
                    ? String.format(
                            java.util.Locale.ROOT,
                            "%s alone would have %,d parameters, the whole model at least %,d",
                            name,
                            n,
                            end)
                    : String.format(java.util.Locale.ROOT, "its tensors up to %s would hold %,d parameters", name, end);
            throw org.charrnn.util.ConfigError.of(String.format(
                    java.util.Locale.ROOT,
                    "model too large: %s; at most %,d fit (lower {ModelSpec.hidden}, {ModelSpec.embedding} or"
                            + " {ModelSpec.layers})",
                    size,
                    Integer.MAX_VALUE));
        }
        list.add(new Tensor(name, off, shape));
        return (int) end;
    }

    /** The product of {@code shape}, in long and saturating at Long.MAX_VALUE instead of overflowing. */
    private static long elements(int[] shape) {
        long n = 1;
        try {
            for (int d : shape) n = Math.multiplyExact(n, (long) d);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
        return n;
    }

    public ModelConfig config() {
        return config;
    }

    /** Total number of parameters. */
    public int size() {
        return size;
    }

    /** Views in state_dict order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    public Tensor get(String name) {
        Tensor t = byName.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter named " + name);
        return t;
    }

    public Tensor embedding() {
        return get("embedding.weight");
    }

    public Tensor weightIh(int l) {
        return get("rnn.weight_ih_l" + l);
    }

    public Tensor weightHh(int l) {
        return get("rnn.weight_hh_l" + l);
    }

    public Tensor biasIh(int l) {
        return get("rnn.bias_ih_l" + l);
    }

    public Tensor biasHh(int l) {
        return get("rnn.bias_hh_l" + l);
    }

    public Tensor decoderWeight() {
        return get("decoder.weight");
    }

    /** The weight matrices that multiply activations (W_ih, W_hh of every layer, the decoder), in layout order. */
    public List<Tensor> weightMatrices() {
        List<Tensor> m = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) {
            m.add(weightIh(l));
            m.add(weightHh(l));
        }
        m.add(decoderWeight());
        return m;
    }

    public Tensor decoderBias() {
        return get("decoder.bias");
    }
}
