package org.charrnn.backend;

/**
 * Optimizer hyper-parameters (the learning rate is passed per step, as schedules change it).
 *
 * @param kind        algorithm
 * @param beta1       Adam first-moment decay (0.9)
 * @param beta2       Adam second-moment decay (0.999)
 * @param eps         denominator epsilon (1e-8)
 * @param decay       RMSprop square-average decay (0.95, as char-rnn)
 * @param momentum    SGD momentum (0.9)
 * @param weightDecay L2 coefficient added to the clipped gradient (0)
 */
public record OptimizerConfig(
        OptimizerKind kind, double beta1, double beta2, double eps, double decay, double momentum, double weightDecay) {

    public OptimizerConfig {
        if (kind == null) throw new IllegalArgumentException("optimizer kind is required");
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new IllegalArgumentException("Adam betas must be in [0, 1)");
        if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0");
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("--decay must be in [0, 1), got " + decay);
        if (!(momentum >= 0 && momentum < 1))
            throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
    }

    /** Defaults for {@code kind}. */
    public static OptimizerConfig defaults(OptimizerKind kind) {
        return new OptimizerConfig(kind, 0.9, 0.999, 1e-8, 0.95, 0.9, 0.0);
    }

    public OptimizerConfig withWeightDecay(double wd) {
        return new OptimizerConfig(kind, beta1, beta2, eps, decay, momentum, wd);
    }

    public OptimizerConfig withMomentum(double mu) {
        return new OptimizerConfig(kind, beta1, beta2, eps, decay, mu, weightDecay);
    }

    public OptimizerConfig withDecay(double d) {
        return new OptimizerConfig(kind, beta1, beta2, eps, d, momentum, weightDecay);
    }
}
