package org.charrnn.viz;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Finds interpretable cells: the Pearson correlation of every cell's activation over a text with a
 * per-character feature, ranked by |r|.
 *
 * <p>Activations are laid out as in {@code ReferenceBackend.Trace}: per layer a {@code [T,H]}
 * row-major array, {@code cells[l][t*H + j]} the activation of cell {@code j} of layer {@code l}
 * after reading symbol {@code t}.
 */
public final class CellSearch {
    private CellSearch() {}

    /** A cell of a layer (both 0-based, as the layers of the checkpoint's tensor names). */
    public record Cell(int layer, int index) {
        @Override
        public String toString() {
            return "layer " + layer + " cell " + index;
        }
    }

    /** A cell and its correlation with a feature. */
    public record Hit(Cell cell, double r) {}

    /**
     * Pearson correlation of {@code x} and {@code y} over their first {@code n} values; 0 when either
     * is constant (no linear relation can be measured).
     */
    public static double pearson(double[] x, double[] y) {
        if (x.length != y.length)
            throw new IllegalArgumentException("lengths differ: " + x.length + " and " + y.length);
        int n = x.length;
        if (n < 2) return 0;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx <= 1e-24 * n || syy <= 1e-24 * n) return 0;
        double r = sxy / Math.sqrt(sxx * syy);
        return Math.max(-1, Math.min(1, r));
    }

    /** Whether a feature varies over the text (otherwise no cell can correlate with it). */
    public static boolean varies(double[] feature) {
        for (double v : feature) if (v != feature[0]) return true;
        return false;
    }

    /** The activation of one cell over time. */
    public static double[] series(double[][] cells, int hidden, Cell c) {
        double[] layer = cells[c.layer()];
        int T = layer.length / hidden;
        double[] out = new double[T];
        for (int t = 0; t < T; t++) out[t] = layer[t * hidden + c.index()];
        return out;
    }

    /**
     * The correlation of every cell of the given layers with {@code feature}, strongest |r| first
     * (ties: lower layer, then lower index). {@code layers} null means all.
     */
    public static List<Hit> rank(double[][] cells, int hidden, double[] feature, int[] layers) {
        List<Hit> hits = new ArrayList<>();
        int[] ls = layers != null ? layers : allLayers(cells.length);
        for (int l : ls) {
            int T = cells[l].length / hidden;
            if (T != feature.length)
                throw new IllegalArgumentException("feature has " + feature.length + " values, activations " + T);
            for (int j = 0; j < hidden; j++) {
                Cell c = new Cell(l, j);
                hits.add(new Hit(c, pearson(series(cells, hidden, c), feature)));
            }
        }
        hits.sort(Comparator.comparingDouble((Hit h) -> -Math.abs(h.r()))
                .thenComparingInt(h -> h.cell().layer())
                .thenComparingInt(h -> h.cell().index()));
        return hits;
    }

    /** The {@code n} strongest cells of {@link #rank}. */
    public static List<Hit> top(double[][] cells, int hidden, double[] feature, int[] layers, int n) {
        List<Hit> all = rank(cells, hidden, feature, layers);
        return new ArrayList<>(all.subList(0, Math.min(n, all.size())));
    }

    /**
     * The {@code n} cells of {@code layer} whose activation varies most over the text (largest
     * standard deviation; ties: lower index), for {@code --top}.
     */
    public static List<Cell> mostActive(double[][] cells, int hidden, int layer, int n) {
        List<double[]> sd = new ArrayList<>();
        for (int j = 0; j < hidden; j++) {
            double[] s = series(cells, hidden, new Cell(layer, j));
            double m = 0, v = 0;
            for (double x : s) m += x;
            m /= Math.max(1, s.length);
            for (double x : s) v += (x - m) * (x - m);
            sd.add(new double[] {j, Math.sqrt(v / Math.max(1, s.length))});
        }
        sd.sort(Comparator.comparingDouble((double[] a) -> -a[1]).thenComparingDouble(a -> a[0]));
        List<Cell> out = new ArrayList<>();
        for (int i = 0; i < Math.min(n, sd.size()); i++) out.add(new Cell(layer, (int) sd.get(i)[0]));
        return out;
    }

    private static int[] allLayers(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }
}
