package org.charrnn.viz;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Axis ticks for {@link Svg}: round values ("nice numbers": steps of 1, 2, 2.5 or 5 times a power
 * of ten) on a linear axis, powers of ten on a log axis, and labels with as many digits as the step
 * between ticks needs, so that neighbouring labels always differ ({@code 0.00185, 0.00190, ...}
 * rather than {@code 0.0019, 0.0019}).
 */
final class Ticks {
    private Ticks() {}

    /** The most decimals a label gets. */
    private static final int MAX_DECIMALS = 15;

    /** Round tick values covering [lo, hi], about {@code n} of them. */
    static double[] linear(double lo, double hi, int n) {
        double step = niceStep((hi - lo) / Math.max(1, n));
        double start = Math.floor(lo / step) * step, end = Math.ceil(hi / step) * step;
        int k = Math.max(1, (int) Math.round((end - start) / step));
        double[] t = new double[k + 1];
        for (int i = 0; i <= k; i++) t[i] = start + i * step;
        return t;
    }

    /** The round step (1, 2, 2.5 or 5 times a power of ten) at or above {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
        return m * p;
    }

    /**
     * Labels of evenly spaced ticks: decimals from the step; thousands and millions as {@code k} and
     * {@code M} when the step is at least 100; values below 0.001 as a mantissa and a shared power
     * of ten ({@code 1.85e-4}). Neighbouring labels differ whatever the range.
     */
    static String[] linearLabels(double[] ticks) {
        int n = ticks.length;
        double step = n > 1 ? (ticks[n - 1] - ticks[0]) / (n - 1) : 0;
        double maxAbs = 0;
        for (double t : ticks) maxAbs = Math.max(maxAbs, Math.abs(t));
        double scale = 1;
        String suffix = "";
        if (maxAbs >= 1e4 && step >= 100) {
            scale = maxAbs >= 1e6 ? 1e6 : 1e3;
            suffix = maxAbs >= 1e6 ? "M" : "k";
        } else if (maxAbs > 0 && maxAbs < 1e-3) {
            int e = (int) Math.floor(Math.log10(maxAbs) + 1e-9);
            scale = Math.pow(10, e);
            suffix = "e" + e;
        }
        String[] out = new String[n];
        for (int digits = decimals(step / scale); ; digits++) {
            for (int i = 0; i < n; i++) {
                double v = ticks[i];
                out[i] = Math.abs(v) <= step * 1e-9
                        ? "0"
                        : String.format(Locale.ROOT, "%." + digits + "f", v / scale) + suffix;
            }
            if (distinct(out) || digits >= MAX_DECIMALS) return out;
        }
    }

    /** The decimals that write every multiple of {@code step} exactly (0 for steps of 1 and more). */
    static int decimals(double step) {
        if (!(step > 0) || !Double.isFinite(step)) return 0;
        int d = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        while (d < MAX_DECIMALS) {
            double scaled = step * Math.pow(10, d);
            if (Math.abs(scaled - Math.rint(scaled)) <= 1e-6 * scaled) break;
            d++;
        }
        return d;
    }

    /**
     * Ticks of a log axis over [lo, hi] (both positive): the powers of ten from the one at or below
     * {@code lo} to the one at or above {@code hi}, with 2 and 5 times each when that spans at most
     * three decades.
     */
    static double[] log(double lo, double hi) {
        int a = (int) Math.floor(Math.log10(lo) + 1e-9), b = (int) Math.ceil(Math.log10(hi) - 1e-9);
        if (b <= a) b = a + 1;
        List<Double> t = new ArrayList<>();
        for (int k = a; k <= b; k++) {
            t.add(Double.parseDouble("1e" + k));
            if (b - a <= 3 && k < b) {
                t.add(Double.parseDouble("2e" + k));
                t.add(Double.parseDouble("5e" + k));
            }
        }
        double[] out = new double[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = t.get(i);
        return out;
    }

    /** Labels of log ticks: plain decimals from 0.001 to 9999, {@code 2e-5} style outside. */
    static String[] logLabels(double[] ticks) {
        String[] out = new String[ticks.length];
        for (int i = 0; i < ticks.length; i++) {
            BigDecimal v = new BigDecimal(Double.toString(ticks[i])).stripTrailingZeros();
            int exponent = v.precision() - v.scale() - 1; // of the leading digit
            if (exponent >= -3 && exponent <= 3) out[i] = v.toPlainString();
            else out[i] = v.movePointLeft(exponent).stripTrailingZeros().toPlainString() + "e" + exponent;
        }
        return out;
    }

    private static boolean distinct(String[] labels) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < labels.length; i++) if (!seen.add(labels[i])) return false;
        return true;
    }
}
