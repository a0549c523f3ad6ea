package org.charrnn.caption;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU-4 (Papineni et al. 2002) over whitespace-separated words: clipped n-gram precisions
 * for n = 1..4 summed over the corpus, their geometric mean, times the brevity penalty with the
 * reference length closest to each hypothesis (the shorter on a tie). 0 when some precision is 0.
 */
public final class Bleu {
    private Bleu() {}

    /** BLEU-4 in [0, 1] of {@code hypotheses}, each against its list of references. */
    public static double bleu4(List<String> hypotheses, List<List<String>> references) {
        if (hypotheses.size() != references.size())
            throw new IllegalArgumentException("one reference list per hypothesis");
        long[] match = new long[4], total = new long[4];
        long hypLen = 0, refLen = 0;
        for (int i = 0; i < hypotheses.size(); i++) {
            String[] h = words(hypotheses.get(i));
            hypLen += h.length;
            int best = -1;
            for (String r : references.get(i)) {
                int len = words(r).length;
                if (best < 0
                        || Math.abs(len - h.length) < Math.abs(best - h.length)
                        || (Math.abs(len - h.length) == Math.abs(best - h.length) && len < best)) best = len;
            }
            refLen += Math.max(best, 0);
            for (int n = 1; n <= 4; n++) {
                Map<String, Integer> hc = ngrams(h, n), maxRef = new HashMap<>();
                for (String r : references.get(i)) ngrams(words(r), n).forEach((g, c) -> maxRef.merge(g, c, Math::max));
                for (Map.Entry<String, Integer> e : hc.entrySet()) {
                    match[n - 1] += Math.min(e.getValue(), maxRef.getOrDefault(e.getKey(), 0));
                    total[n - 1] += e.getValue();
                }
            }
        }
        double logP = 0;
        for (int n = 0; n < 4; n++) {
            if (match[n] == 0 || total[n] == 0) return 0;
            logP += Math.log((double) match[n] / total[n]) / 4;
        }
        double bp = hypLen >= refLen ? 1 : Math.exp(1 - (double) refLen / hypLen);
        return bp * Math.exp(logP);
    }

    private static String[] words(String s) {
        String t = s.strip();
        return t.isEmpty() ? new String[0] : t.split("\\s+");
    }

    private static Map<String, Integer> ngrams(String[] w, int n) {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i + n <= w.length; i++)
            m.merge(String.join(" ", java.util.Arrays.copyOfRange(w, i, i + n)), 1, Integer::sum);
        return m;
    }
}
