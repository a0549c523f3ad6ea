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
        LOSS,
        GRAD_NORM,
        LOGITS,
        STATE,
        STATE_GRAD,
        GRAD_EMBEDDING,
        GRAD_WEIGHT_IH,
        GRAD_WEIGHT_HH,
        GRAD_BIAS,
        GRAD_DECODER_WEIGHT,
        GRAD_DECODER_BIAS,
        PARAMS_AFTER_STEP,
        OPTIMIZER_STATE
    }

    /** One row of the table. */
    public record Tol(double atol, double rtol) {
        public boolean ok(double a, double ref) {
            return Math.abs(a - ref) <= atol + rtol * Math.abs(ref);
        }
    }

    public Tol of(Kind k) {
        return table.get(k);
    }

    /**
     * fp32 (float storage, float accumulation in GEMMs and reductions) vs fp64. The error of an fp32
     * sum of n terms grows like sqrt(n) * 6e-8 * |terms|, and gradients of the mean loss over T*B
     * predictions are O(1e-3..1e-1) with cancelling terms, so each gradient row has an absolute floor
     * a little above the float rounding of its largest contributions; relative 1e-4 covers the rest.
     */
    public static Tolerances fp32() {
        Map<Kind, Tol> m = new EnumMap<>(Kind.class);
        //                               atol    rtol
        m.put(Kind.LOSS, new Tol(2e-6, 1e-5)); // mean CE in nats; logsumexp in float
        m.put(Kind.GRAD_NORM, new Tol(1e-6, 1e-4)); // global L2 norm
        m.put(Kind.LOGITS, new Tol(2e-5, 1e-4)); // stepLogits, O(1) values
        m.put(Kind.STATE, new Tol(2e-6, 1e-4)); // carried h, c after a window (|h| < 1)
        m.put(Kind.STATE_GRAD, new Tol(2e-6, 1e-4)); // dL/d(initial h, c)
        m.put(Kind.GRAD_EMBEDDING, new Tol(2e-6, 1e-4)); // sparse row sums of dX
        m.put(Kind.GRAD_WEIGHT_IH, new Tol(2e-6, 1e-4)); // dgx^T X over T*B rows
        m.put(Kind.GRAD_WEIGHT_HH, new Tol(2e-6, 1e-4)); // dgh^T Hprev over T*B rows
        m.put(Kind.GRAD_BIAS, new Tol(2e-6, 1e-4)); // column sums over T*B rows
        m.put(Kind.GRAD_DECODER_WEIGHT, new Tol(2e-6, 1e-4)); // dlogits^T top
        m.put(Kind.GRAD_DECODER_BIAS, new Tol(2e-6, 1e-4)); // column sums of (softmax - onehot)/N
        m.put(Kind.PARAMS_AFTER_STEP, new Tol(2e-6, 1e-4)); // p - lr*update; lr 1e-3, eps 1e-4 (Verifier)
        m.put(Kind.OPTIMIZER_STATE, new Tol(1e-7, 1e-3)); // moments: g, g^2 scaled; tiny values
        return new Tolerances(m);
    }

    /**
     * TF32 GEMMs (operands rounded to 10 explicit mantissa bits, relative rounding error up to
     * 2^-11 = 4.9e-4 per operand, fp32 accumulation), fp32 everywhere else, vs fp64. The rows are
     * those of {@link #bf16()} (see there for how they were sized) scaled by about 1/6: TF32 keeps
     * three more mantissa bits than bf16, 8x less rounding error per operand.
     */
    public static Tolerances tf32() {
        Map<Kind, Tol> m = new EnumMap<>(Kind.class);
        //                               atol    rtol
        m.put(Kind.LOSS, new Tol(5e-4, 1e-3));
        m.put(Kind.GRAD_NORM, new Tol(2e-5, 1e-2));
        m.put(Kind.LOGITS, new Tol(2e-3, 1e-2));
        m.put(Kind.STATE, new Tol(2e-3, 1e-2));
        m.put(Kind.STATE_GRAD, new Tol(5e-4, 1e-2));
        m.put(Kind.GRAD_EMBEDDING, new Tol(5e-4, 1e-2));
        m.put(Kind.GRAD_WEIGHT_IH, new Tol(5e-4, 1e-2));
        m.put(Kind.GRAD_WEIGHT_HH, new Tol(5e-4, 1e-2));
        m.put(Kind.GRAD_BIAS, new Tol(5e-4, 1e-2));
        m.put(Kind.GRAD_DECODER_WEIGHT, new Tol(5e-4, 1e-2));
        m.put(Kind.GRAD_DECODER_BIAS, new Tol(5e-4, 1e-2));
        m.put(Kind.PARAMS_AFTER_STEP, new Tol(1e-3, 1e-4));
        m.put(Kind.OPTIMIZER_STATE, new Tol(1e-3, 2e-2));
        return new Tolerances(m);
    }

    /**
     * bf16 GEMM operands (8 significant bits: relative rounding error up to 2^-9 = 2.0e-3 per
     * operand, fp32 accumulation), fp32 master weights, cell state, pointwise math and optimizer, vs
     * fp64. Each GEMM output carries an error of a few 1e-3 of the magnitude of its largest terms;
     * the recurrence and BPTT carry it through T steps and L layers, and sums that cancel to near
     * zero keep the error of their terms, so every row has an absolute floor at the scale of its
     * values' terms and a relative part well above the per-GEMM error.
     *
     * <p>Sizing: the fp64 reference with every GEMM operand rounded to bf16 (round to nearest even)
     * against the plain reference, over the verify shapes and the CUDA parity test's (28 shapes,
     * several seeds), showed at most: loss 6e-4, state 4e-3, logits 3.6e-3, gradients and
     * initial-state gradients 1.5e-3, momentum 3.2e-3, parameters after two steps 2.3e-3; every check
     * also passed with all rows halved. The same emulation with operands rounded to 5 significant
     * bits (8x bf16's error) failed 3% of the checks, with 3 bits 30%, so these rows still catch a
     * lost conversion, a wrong transposition or leading dimension (O(100%) errors). Random shapes
     * found more (the CUDA backend on the emulated device, whose bf16 results an fp64 emulation of
     * bf16 operands reproduces to 3e-7): small hidden sizes (W_hh's initial scale is 1/sqrt(H), so
     * the terms of a pre-activation grow against its value as H falls) carry h, c and the logits
     * further off. Over 800 random shapes of inputs up to 16 wide (H 1 to 289) the worst needed an
     * absolute floor of 7.8e-3 in LOGITS and under 1e-2 in STATE, the knob combinations test found
     * one needing 1.06e-2 in STATE (LSTM V7 E9 H8 L1 B31 T13, c after the window), and over 300 of
     * inputs up to 48 wide the worst needed 1.5e-2 (LSTM V10 E30 H2). So those two rows' floor is
     * 2e-2, and checks of shapes wider than 16 may need more.
     * Parameters after two clipped steps only catch gross errors: Adam and RMSprop with eps 1e-4
     * ({@link Verifier}) turn a gradient near zero into an update of up to lr/eps times it, so bf16
     * noise can flip the sign of a whole update (~lr); the optimizer formulas themselves are fp32 and
     * are held to {@link #fp32()} by the fp32 checks.
     */
    public static Tolerances bf16() {
        Map<Kind, Tol> m = new EnumMap<>(Kind.class);
        //                               atol    rtol
        m.put(Kind.LOSS, new Tol(2e-3, 2e-3)); // mean CE ~ ln V; logit errors average out over rows
        m.put(Kind.GRAD_NORM, new Tol(1e-4, 3e-2)); // sum of squares over all gradients: errors average out
        m.put(Kind.LOGITS, new Tol(2e-2, 3e-2)); // stepLogits, O(1) values; small H, see above
        m.put(Kind.STATE, new Tol(2e-2, 3e-2)); // h, c after T steps of the recurrence; small H, see above
        m.put(Kind.STATE_GRAD, new Tol(3e-3, 5e-2)); // dL/d(initial h, c) after T steps of BPTT
        m.put(Kind.GRAD_EMBEDDING, new Tol(3e-3, 5e-2));
        m.put(Kind.GRAD_WEIGHT_IH, new Tol(3e-3, 5e-2));
        m.put(Kind.GRAD_WEIGHT_HH, new Tol(3e-3, 5e-2));
        m.put(Kind.GRAD_BIAS, new Tol(3e-3, 5e-2));
        m.put(Kind.GRAD_DECODER_WEIGHT, new Tol(3e-3, 5e-2));
        m.put(Kind.GRAD_DECODER_BIAS, new Tol(3e-3, 5e-2));
        m.put(Kind.PARAMS_AFTER_STEP, new Tol(6e-3, 1e-3)); // gross errors only, see above
        m.put(Kind.OPTIMIZER_STATE, new Tol(6e-3, 1e-1)); // momentum ~ g1 mu + g2: twice the gradient floor
        return new Tolerances(m);
    }

    /** The table for a backend computing in {@code p} (fp32 for FP32 and FP64). */
    public static Tolerances forPrecision(org.charrnn.backend.Precision p) {
        return switch (p) {
            case TF32 -> tf32();
            case BF16 -> bf16();
            case FP32, FP64 -> fp32();
        };
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
