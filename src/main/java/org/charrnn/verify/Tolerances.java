package org.charrnn.verify;

import java.util.EnumMap;
import java.util.Map;

/**
 * Per-tensor tolerances of an fp32 backend against the fp64 reference: a value passes when
 * {@code |a - ref| <= atol + rtol * |ref|}. One table; every check of {@link Verifier} names its
 * {@link Kind}.
 */
public record Tolerances(Map<Kind, Tol> table) {

    /** Kinds of compared tensors. */
    public enum Kind {
        LOSS, GRAD_NORM, LOGITS, STATE, STATE_GRAD,
        GRAD_EMBEDDING, GRAD_WEIGHT_IH, GRAD_WEIGHT_HH, GRAD_BIAS, GRAD_DECODER_WEIGHT, GRAD_DECODER_BIAS,
        PARAMS_AFTER_STEP, OPTIMIZER_STATE
    }

    /** One row of the table. */
    public record Tol(double atol, double rtol) {
        public boolean ok(double a, double ref) {
            return Math.abs(a - ref) <= atol + rtol * Math.abs(ref);
        }
    }

    public Tol of(Kind k) { return table.get(k); }

    /**
     * fp32 (float storage, float accumulation in GEMMs and reductions) vs fp64. The error of an fp32
     * sum of n terms grows like sqrt(n) * 6e-8 * |terms|, and gradients of the mean loss over T*B
     * predictions are O(1e-3..1e-1) with cancelling terms, so each gradient row has an absolute floor
     * a little above the float rounding of its largest contributions; relative 1e-4 covers the rest.
     */
    public static Tolerances fp32() {
        Map<Kind, Tol> m = new EnumMap<>(Kind.class);
        //                               atol    rtol
        m.put(Kind.LOSS,                new Tol(2e-6, 1e-5)); // mean CE in nats; logsumexp in float
        m.put(Kind.GRAD_NORM,           new Tol(1e-6, 1e-4)); // global L2 norm
        m.put(Kind.LOGITS,              new Tol(2e-5, 1e-4)); // stepLogits, O(1) values
        m.put(Kind.STATE,               new Tol(2e-6, 1e-4)); // carried h, c after a window (|h| < 1)
        m.put(Kind.STATE_GRAD,          new Tol(2e-6, 1e-4)); // dL/d(initial h, c)
        m.put(Kind.GRAD_EMBEDDING,      new Tol(2e-6, 1e-4)); // sparse row sums of dX
        m.put(Kind.GRAD_WEIGHT_IH,      new Tol(2e-6, 1e-4)); // dgx^T X over T*B rows
        m.put(Kind.GRAD_WEIGHT_HH,      new Tol(2e-6, 1e-4)); // dgh^T Hprev over T*B rows
        m.put(Kind.GRAD_BIAS,           new Tol(2e-6, 1e-4)); // column sums over T*B rows
        m.put(Kind.GRAD_DECODER_WEIGHT, new Tol(2e-6, 1e-4)); // dlogits^T top
        m.put(Kind.GRAD_DECODER_BIAS,   new Tol(2e-6, 1e-4)); // column sums of (softmax - onehot)/N
        m.put(Kind.PARAMS_AFTER_STEP,   new Tol(2e-6, 1e-4)); // p - lr*update; lr 1e-3, eps 1e-4 (Verifier)
        m.put(Kind.OPTIMIZER_STATE,     new Tol(1e-7, 1e-3)); // moments: g, g^2 scaled; tiny values
        return new Tolerances(m);
    }

    /** The kind of a gradient tensor named as in {@link org.charrnn.model.ParamLayout}. */
    public static Kind gradKind(String tensor) {
        if (tensor.equals("embedding.weight")) return Kind.GRAD_EMBEDDING;
        if (tensor.startsWith("rnn.weight_ih")) return Kind.GRAD_WEIGHT_IH;
        if (tensor.startsWith("rnn.weight_hh")) return Kind.GRAD_WEIGHT_HH;
        if (tensor.startsWith("rnn.bias")) return Kind.GRAD_BIAS;
        if (tensor.equals("decoder.weight")) return Kind.GRAD_DECODER_WEIGHT;
        if (tensor.equals("decoder.bias")) return Kind.GRAD_DECODER_BIAS;
        throw new IllegalArgumentException("unknown tensor " + tensor);
    }
}
