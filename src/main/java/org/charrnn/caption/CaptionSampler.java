package org.charrnn.caption;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.charrnn.backend.RnnState;

/**
 * Writes a caption for one image: from its conditioned state, {@link ConditionedModel#startToken()} (END,
 * or PAD after an image first input) as the first input, one character
 * at a time until END or {@code maxLength} characters. Greedy (temperature 0), sampling at a
 * temperature, or beam search over K hypotheses scored by their summed log-probability. PAD is never
 * produced.
 */
public final class CaptionSampler {
    private final ConditionedModel model;
    private final int maxLength;

    public CaptionSampler(ConditionedModel model, int maxLength) {
        checkMaxLength(maxLength);
        this.model = model;
        this.maxLength = maxLength;
    }

    /** A caption length the sampler accepts: at least one character. */
    public static void checkMaxLength(int maxLength) {
        if (maxLength < 1) throw new IllegalArgumentException("--max-length must be >= 1, got " + maxLength);
    }

    /**
     * The widest beam {@link #beam} takes: it conditions one state stream per hypothesis, so a beam
     * of 100,000 ran out of memory before its first step; far wider than a caption's beam search uses.
     */
    public static final int MAX_BEAM = 1000;

    /** A beam width {@link #beam} accepts: 1 to {@link #MAX_BEAM}. */
    public static void checkBeam(int k) {
        if (k < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + k);
        if (k > MAX_BEAM) throw new IllegalArgumentException("--beam must be at most " + MAX_BEAM + ", got " + k);
    }

    /** A temperature {@link #sample} accepts: 0 (greedy) or a finite positive number. */
    public static void checkTemperature(double temperature) {
        // NaN or an infinity made every probability NaN, which fell back to greedy in silence
        if (!(temperature >= 0 && temperature < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("--temperature must be a finite number >= 0, got " + temperature);
    }

    /** Greedy when {@code temperature} is 0, else sampled from softmax(logits / temperature). */
    public int[] sample(double[] feature, double temperature, SplittableRandom rng) {
        checkTemperature(temperature);
        List<Integer> out = new ArrayList<>();
        try (RnnState st = model.backend().newState(1)) {
            model.condition(st, feature);
            int tok = model.startToken();
            for (int i = 0; i < maxLength; i++) {
                double[] logits = model.backend().stepLogits(st, new int[] {tok});
                logits[CaptionVocab.PAD] = Double.NEGATIVE_INFINITY;
                tok = temperature == 0 ? argmax(logits, 0, logits.length) : draw(logits, temperature, rng);
                if (tok == CaptionVocab.END) break;
                out.add(tok);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private record Hyp(int[] tokens, double score) {}

    /** Beam search with {@code k} hypotheses; the best finished one (or the best unfinished at the limit). */
    public int[] beam(double[] feature, int k) {
        checkBeam(k);
        int V = model.backend().config().vocabSize(), F = feature.length;
        double[] feats = new double[k * F];
        for (int b = 0; b < k; b++) System.arraycopy(feature, 0, feats, b * F, F);
        List<Hyp> live = new ArrayList<>(List.of(new Hyp(new int[0], 0)));
        List<Hyp> done = new ArrayList<>();
        try (RnnState st = model.backend().newState(k)) {
            model.condition(st, feats);
            int[] parent = new int[k];
            for (int step = 0; step <= maxLength && !live.isEmpty(); step++) {
                int[] in = new int[k];
                for (int b = 0; b < live.size(); b++) {
                    int[] t = live.get(b).tokens();
                    in[b] = t.length == 0 ? model.startToken() : t[t.length - 1];
                }
                double[] logits = model.backend().stepLogits(st, in);
                List<double[]> cands = new ArrayList<>(); // {score, beam, token}
                for (int b = 0; b < live.size(); b++) {
                    double lse = logSumExp(logits, b * V, V);
                    for (int v = 0; v < V; v++) {
                        if (v == CaptionVocab.PAD) continue;
                        if (step == maxLength && v != CaptionVocab.END) continue;
                        cands.add(new double[] {live.get(b).score() + logits[b * V + v] - lse, b, v});
                    }
                }
                cands.sort((x, y) -> Double.compare(y[0], x[0]));
                List<Hyp> next = new ArrayList<>();
                for (double[] c : cands) {
                    if (next.size() == k || done.size() == k) break;
                    int b = (int) c[1], v = (int) c[2];
                    int[] t = live.get(b).tokens();
                    if (v == CaptionVocab.END) {
                        done.add(new Hyp(t, c[0]));
                    } else {
                        parent[next.size()] = b;
                        int[] u = Arrays.copyOf(t, t.length + 1);
                        u[t.length] = v;
                        next.add(new Hyp(u, c[0]));
                    }
                }
                double bestDone = done.stream().mapToDouble(Hyp::score).max().orElse(Double.NEGATIVE_INFINITY);
                if (done.size() >= k || next.isEmpty() || next.get(0).score() <= bestDone) break;
                reorder(st, parent, next.size());
                live = next;
            }
        }
        List<Hyp> all = new ArrayList<>(done);
        if (all.isEmpty()) all.addAll(live);
        all.sort((x, y) -> Double.compare(y.score(), x.score()));
        return all.get(0).tokens();
    }

    /** Stream b of the state [L][S][B][H] becomes stream parent[b] of the old state, for b < n. */
    private void reorder(RnnState st, int[] parent, int n) {
        double[] s = st.read(), out = s.clone();
        int B = st.batch(), H = model.backend().config().hidden(), blocks = s.length / (B * H);
        for (int blk = 0; blk < blocks; blk++)
            for (int b = 0; b < n; b++) System.arraycopy(s, (blk * B + parent[b]) * H, out, (blk * B + b) * H, H);
        st.write(out);
    }

    private static double logSumExp(double[] a, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, a[off + i]);
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.exp(a[off + i] - max);
        return max + Math.log(s);
    }

    private static int argmax(double[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
        return best;
    }

    private static int draw(double[] logits, double temperature, SplittableRandom rng) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) max = Math.max(max, l / temperature);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += p[i] = Math.exp(logits[i] / temperature - max);
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < n; i++) if ((u -= p[i]) < 0) return i;
        return argmax(logits, 0, n);
    }
}
