package org.charrnn.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.charrnn.model.CellType;

/**
 * The named benchmark grids.
 * <ul>
 *   <li>{@code torch-rnn}: torch-rnn's published benchmark, LSTM with L in {1,2,3} x H in
 *       {64,128,256,512}, B = 50, T = 50.</li>
 *   <li>{@code large}: LSTM L3 H512 and L2 H1024 at B = 128, T = 100; GRU and RNN L2 H256 at B = 50, T = 50.</li>
 *   <li>{@code all}: both.</li>
 * </ul>
 */
public final class Grids {
    private Grids() {}

    public static final List<String> NAMES = List.of("torch-rnn", "large", "all");

    /** The grid called {@code name}; IllegalArgumentException for an unknown name. */
    public static List<BenchSpec> grid(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "torch-rnn" -> torchRnn();
            case "large" -> large();
            case "all" -> {
                List<BenchSpec> all = new ArrayList<>(torchRnn());
                all.addAll(large());
                yield all;
            }
            default ->
                throw new IllegalArgumentException("unknown grid '" + name + "' (expected torch-rnn, large or all)");
        };
    }

    static List<BenchSpec> torchRnn() {
        List<BenchSpec> g = new ArrayList<>();
        for (int layers = 1; layers <= 3; layers++)
            for (int hidden : new int[] {64, 128, 256, 512})
                g.add(new BenchSpec(CellType.LSTM, layers, hidden, 50, 50));
        return g;
    }

    static List<BenchSpec> large() {
        return List.of(
                new BenchSpec(CellType.LSTM, 3, 512, 128, 100),
                new BenchSpec(CellType.LSTM, 2, 1024, 128, 100),
                new BenchSpec(CellType.GRU, 2, 256, 50, 50),
                new BenchSpec(CellType.RNN, 2, 256, 50, 50));
    }

    /**
     * The --model/--layers/--hidden/--batch/--seq restriction of a bench run or a comparison: a row
     * matches when each of its values is in the corresponding list (an empty list matches anything).
     */
    public record Filter(
            List<CellType> cells, List<Integer> layers, List<Integer> hidden, List<Integer> batch, List<Integer> seq) {
        public boolean matches(String cellId, int l, int h, int b, int t) {
            return (cells.isEmpty() || cells.stream().anyMatch(c -> c.id().equals(cellId)))
                    && in(layers, l)
                    && in(hidden, h)
                    && in(batch, b)
                    && in(seq, t);
        }

        public boolean matches(BenchSpec s) {
            return matches(s.cell().id(), s.layers(), s.hidden(), s.batch(), s.seq());
        }

        private static boolean in(List<Integer> values, int v) {
            return values.isEmpty() || values.contains(v);
        }
    }

    /** Rows of {@code grid} that {@code filter} matches, in grid order. */
    public static List<BenchSpec> filter(List<BenchSpec> grid, Filter filter) {
        return grid.stream().filter(filter::matches).toList();
    }

    /** Every combination of the given values (cell-major), for runs without a named grid. */
    public static List<BenchSpec> product(
            List<CellType> cells, List<Integer> layers, List<Integer> hidden, List<Integer> batch, List<Integer> seq) {
        List<BenchSpec> out = new ArrayList<>();
        for (CellType c : cells)
            for (int l : layers)
                for (int h : hidden) for (int b : batch) for (int t : seq) out.add(new BenchSpec(c, l, h, b, t));
        return out;
    }
}
