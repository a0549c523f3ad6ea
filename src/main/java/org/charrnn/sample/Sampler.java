package org.charrnn.sample;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.charrnn.backend.Backend;
import org.charrnn.backend.RnnState;
import org.charrnn.data.Vocabulary;

/**
 * Generates text one symbol at a time: the prime is fed through the model, then each drawn
 * symbol is fed back. Runs on any backend (one {@link Backend#stepLogits} per symbol).
 */
public final class Sampler {
    private final Backend backend;
    private final Vocabulary vocab;

    public Sampler(Backend backend, Vocabulary vocab) {
        this.backend = backend;
        this.vocab = vocab;
    }

    /**
     * Feeds {@code prime} and generates {@code options.length()} symbols after it, handing every
     * symbol index, the prime's included, to {@code out} as soon as it exists. With an empty prime
     * the text starts from a symbol drawn uniformly, which counts as the first of the length.
     */
    public void sample(String prime, SampleOptions options, IntConsumer out) {
        sample(prime, options, out, () -> false);
    }

    /**
     * As {@link #sample(String, SampleOptions, IntConsumer)}, ending early once {@code stop} says
     * so: it is asked before each generated symbol (a stop request while a long sample runs).
     */
    public void sample(String prime, SampleOptions options, IntConsumer out, BooleanSupplier stop) {
        SplittableRandom rng = new SplittableRandom(options.seed());
        int[] primeIdx = prime == null || prime.isEmpty() ? new int[0] : vocab.encodePrime(prime);
        int V = vocab.size();
        try (RnnState state = backend.newState(1)) {
            double[] logits = null;
            int[] tok = new int[1];
            int length = options.length();
            if (primeIdx.length == 0) {
                if (length == 0) return;
                // no prime: a random symbol starts the text and counts as the first of --length
                int first = vocab.hasUnknown() ? rng.nextInt(V - 1) : rng.nextInt(V);
                primeIdx = new int[] {first};
                length--;
            }
            for (int idx : primeIdx) {
                out.accept(idx);
                tok[0] = idx;
                logits = backend.stepLogits(state, tok);
            }
            double[] probs = new double[V];
            for (int i = 0; i < length && !stop.getAsBoolean(); i++) {
                int next = draw(logits, probs, options, rng);
                out.accept(next);
                tok[0] = next;
                if (i + 1 < length) logits = backend.stepLogits(state, tok);
            }
        }
    }

    /** Convenience: the sampled text as a String (prime included). */
    public String sampleText(String prime, SampleOptions options) {
        return sampleText(prime, options, () -> false);
    }

    /** The sampled text as a String (prime included), ending early once {@code stop} says so. */
    public String sampleText(String prime, SampleOptions options, BooleanSupplier stop) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        sample(prime, options, idx -> bytes.writeBytes(vocab.bytes(idx)), stop);
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Draws one symbol from logits [V] with temperature, top-k, top-p or argmax. */
    static int draw(double[] logits, double[] probs, SampleOptions o, SplittableRandom rng) {
        int V = logits.length;
        int best = 0;
        for (int v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
        if (o.argmax()) return best;
        double max = logits[best], sum = 0;
        for (int v = 0; v < V; v++) {
            probs[v] = Math.exp((logits[v] - max) / o.temperature());
            sum += probs[v];
        }
        for (int v = 0; v < V; v++) probs[v] /= sum;
        if (o.topK() > 0 && o.topK() < V) {
            double[] sorted = probs.clone();
            Arrays.sort(sorted);
            double kth = sorted[V - o.topK()];
            int kept = 0;
            for (int v = 0; v < V; v++) {
                // keep exactly K: ties at the threshold are kept in index order until K are taken
                if (probs[v] > kth) kept++;
            }
            int tiesAllowed = o.topK() - kept;
            for (int v = 0; v < V; v++) {
                if (probs[v] > kth) continue;
                if (probs[v] == kth && tiesAllowed > 0) {
                    tiesAllowed--;
                    continue;
                }
                probs[v] = 0;
            }
        }
        if (o.topP() < 1.0) {
            Integer[] order = new Integer[V];
            for (int v = 0; v < V; v++) order[v] = v;
            Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
            double total = 0;
            for (double p : probs) total += p;
            double acc = 0;
            boolean cut = false;
            for (int r = 0; r < V; r++) {
                int v = order[r];
                if (cut) probs[v] = 0;
                else {
                    acc += probs[v];
                    if (acc >= o.topP() * total) cut = true;
                }
            }
        }
        double total = 0;
        for (double p : probs) total += p;
        double u = rng.nextDouble() * total, acc = 0;
        int last = best;
        for (int v = 0; v < V; v++) {
            if (probs[v] <= 0) continue;
            acc += probs[v];
            last = v;
            if (u < acc) return v;
        }
        return last;
    }
}
