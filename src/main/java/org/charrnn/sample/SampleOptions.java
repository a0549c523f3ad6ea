package org.charrnn.sample;

import static org.charrnn.util.ConfigError.require;

/**
 * How to draw characters from the model.
 *
 * @param length      characters to generate after the prime (2000)
 * @param temperature softmax temperature, > 0 (1.0)
 * @param topK        keep only the K most likely symbols (0 = off)
 * @param topP        nucleus sampling: keep the smallest set with probability >= P (1.0 = off)
 * @param argmax      always take the most likely symbol (greedy; temperature, topK and topP stay
 *                    at 1.0, 0 and 1.0)
 * @param seed        RNG seed of the draws
 */
public record SampleOptions(int length, double temperature, int topK, double topP, boolean argmax, long seed) {
    public SampleOptions {
        require(length >= 0, "{SampleOptions.length} must be >= 0, got " + length);
        require(
                temperature > 0 && Double.isFinite(temperature),
                "{SampleOptions.temperature} must be > 0, got " + temperature
                        + (temperature == 0 ? " ({SampleOptions.argmax} always takes the most likely character)" : ""));
        require(topK >= 0, "{SampleOptions.topK} must be >= 0, got " + topK);
        require(topP > 0 && topP <= 1, "{SampleOptions.topP} must be in (0, 1], got " + topP);
        // greedy decoding draws nothing: a temperature or a cut-off given with it would be ignored
        require(
                !argmax || (temperature == 1.0 && topK == 0 && topP == 1.0),
                "{SampleOptions.argmax} always takes the most likely character; "
                        + (temperature != 1.0
                                ? "{SampleOptions.temperature} " + temperature
                                : topK != 0 ? "{SampleOptions.topK} " + topK : "{SampleOptions.topP} " + topP)
                        + " does not apply with it");
    }

    public static SampleOptions defaults() {
        return new SampleOptions(2000, 1.0, 0, 1.0, false, 42);
    }
}
