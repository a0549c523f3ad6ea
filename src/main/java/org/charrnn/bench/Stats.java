package org.charrnn.bench;

import java.util.Arrays;

/** Order statistics of timings. */
public final class Stats {
    private Stats() {}

    /** Median (the mean of the two middle values for an even count); NaN for none. */
    public static double median(double[] v) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Smallest value; NaN for none. */
    public static double min(double[] v) {
        if (v.length == 0) return Double.NaN;
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) m = Math.min(m, x);
        return m;
    }
}
