package org.charrnn.backend;

import static org.charrnn.util.ConfigError.require;

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
        require(kind != null, "{OptimizerConfig.kind} is required");
        require(beta1 >= 0 && beta1 < 1, "{OptimizerConfig.beta1} must be in [0, 1), got " + beta1);
        require(beta2 >= 0 && beta2 < 1, "{OptimizerConfig.beta2} must be in [0, 1), got " + beta2);
        require(eps > 0 && eps < Double.POSITIVE_INFINITY, "{OptimizerConfig.eps} must be finite and > 0, got " + eps);
        require(decay >= 0 && decay < 1, "{OptimizerConfig.decay} must be in [0, 1), got " + decay);
        require(momentum >= 0 && momentum < 1, "{OptimizerConfig.momentum} must be in [0, 1), got " + momentum);
        require(weightDecay >= 0, "{OptimizerConfig.weightDecay} must be >= 0, got " + weightDecay);
        require(
                weightDecay < Double.POSITIVE_INFINITY,
                "{OptimizerConfig.weightDecay} must be finite, got " + weightDecay);
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
