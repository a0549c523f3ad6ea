package org.charrnn.backend;

/**
 * The optimizer updates in double precision, the statement of the math that the fused device
 * kernels (optim.cu, optim.cl) are tested against. Weight decay is added to the (already clipped)
 * gradient; Adam's moments are bias-corrected with the update count t.
 */
public final class ReferenceOptimizers {
    private ReferenceOptimizers() {}

    /**
     * One update of p [P] and the state arrays {@code slots} (in {@link OptimizerKind#slots()}
     * order) from the gradients g [P] with learning rate lr; t (1-based) is the update count.
     */
    public static void update(OptimizerConfig o, double[] p, double[] g, double[][] slots, double lr, long t) {
        double wd = o.weightDecay();
        Runnable update = switch (o.kind()) { // an expression: every optimizer kind is handled
            case ADAM ->
                () -> {
                    double[] m = slots[0], v = slots[1];
                    double bc1 = 1 - Math.pow(o.beta1(), (double) t), bc2 = 1 - Math.pow(o.beta2(), (double) t);
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        m[i] = o.beta1() * m[i] + (1 - o.beta1()) * gi;
                        v[i] = o.beta2() * v[i] + (1 - o.beta2()) * gi * gi;
                        p[i] -= lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + o.eps());
                    }
                };
            case RMSPROP ->
                () -> {
                    double[] s = slots[0];
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        s[i] = o.decay() * s[i] + (1 - o.decay()) * gi * gi;
                        p[i] -= lr * gi / (Math.sqrt(s[i]) + o.eps());
                    }
                };
            case ADAGRAD ->
                () -> {
                    double[] s = slots[0];
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        s[i] += gi * gi;
                        p[i] -= lr * gi / Math.sqrt(s[i] + o.eps());
                    }
                };
            case SGD ->
                () -> {
                    double[] u = slots[0];
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        u[i] = o.momentum() * u[i] + gi;
                        p[i] -= lr * u[i];
                    }
                };
        };
        update.run();
    }
}
