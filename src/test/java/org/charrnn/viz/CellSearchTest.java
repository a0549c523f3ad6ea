package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.charrnn.viz.CellSearch.Cell;
import org.charrnn.viz.CellSearch.Hit;
import org.junit.jupiter.api.Test;

class CellSearchTest {

    @Test
    void pearsonOfKnownSeries() {
        assertEquals(1.0, CellSearch.pearson(new double[] {1, 2, 3}, new double[] {2, 4, 6}), 1e-12);
        assertEquals(-1.0, CellSearch.pearson(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
        // x = 1,2,3,4 and y = 1,3,2,4: sum of products of deviations 4, sums of squares 5 and 5
        assertEquals(0.8, CellSearch.pearson(new double[] {1, 2, 3, 4}, new double[] {1, 3, 2, 4}), 1e-12);
        assertEquals(0.0, CellSearch.pearson(new double[] {1, 2, 3}, new double[] {5, 5, 5}));
    }

    /** L layers of H random cells over T steps in [-1, 1], laid out [T,H] per layer as a trace. */
    private static double[][] randomCells(int L, int H, int T, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] c = new double[L][T * H];
        for (double[] layer : c) for (int i = 0; i < layer.length; i++) layer[i] = r.nextDouble(-1, 1);
        return c;
    }

    @Test
    void aPlantedCellThatCopiesAFeatureRanksFirst() {
        int L = 2, H = 32, T = 600;
        String text = VizFixtures.code(T, 9).substring(0, T);
        double[] quote = TextFeatures.quote(TextFeatures.codePoints(text));
        assertTrue(CellSearch.varies(quote));
        double[][] cells = randomCells(L, H, T, 1);
        SplittableRandom noise = new SplittableRandom(2);
        for (int t = 0; t < T; t++) {
            cells[1][t * H + 17] = Math.tanh(2 * quote[t] - 1); // exact copy, squashed
            cells[0][t * H + 5] = -0.6 * quote[t] + 0.3 + noise.nextDouble(-0.15, 0.15); // noisy, anti-correlated
        }
        List<Hit> ranked = CellSearch.rank(cells, H, quote, null);
        assertEquals(L * H, ranked.size());
        assertEquals(new Cell(1, 17), ranked.get(0).cell());
        assertEquals(1.0, ranked.get(0).r(), 1e-9);
        assertEquals(new Cell(0, 5), ranked.get(1).cell());
        assertTrue(
                ranked.get(1).r() < -0.6,
                "anti-correlated cell: r = " + ranked.get(1).r());
        // the rest are noise
        assertTrue(Math.abs(ranked.get(2).r()) < 0.2, "third: " + ranked.get(2));
        for (int i = 1; i < ranked.size(); i++)
            assertTrue(Math.abs(ranked.get(i - 1).r()) >= Math.abs(ranked.get(i).r()));
        // restricted to layer 0, the anti-correlated cell leads
        assertEquals(
                new Cell(0, 5),
                CellSearch.top(cells, H, quote, new int[] {0}, 3).get(0).cell());
        assertEquals(3, CellSearch.top(cells, H, quote, null, 3).size());
    }

    @Test
    void aPlantedDepthCellRanksFirstAmongRealFeatures() {
        int H = 8, T = 800;
        String text = VizFixtures.code(T, 4).substring(0, T);
        double[] depth = TextFeatures.depth(TextFeatures.codePoints(text));
        double[][] cells = randomCells(1, H, T, 3);
        for (int t = 0; t < T; t++) cells[0][t * H + 6] = Math.tanh(0.5 * depth[t]); // monotone, not linear
        Hit best = CellSearch.rank(cells, H, depth, null).get(0);
        assertEquals(new Cell(0, 6), best.cell());
        assertTrue(best.r() > 0.9, "r = " + best.r());
    }

    @Test
    void mostActiveOrdersCellsByTheirSpread() {
        int H = 4, T = 100;
        double[][] cells = new double[1][T * H];
        for (int t = 0; t < T; t++) {
            double s = (t % 2 == 0) ? 1 : -1;
            cells[0][t * H] = 0.1 * s;
            cells[0][t * H + 1] = 0.9 * s;
            cells[0][t * H + 2] = 0.5; // constant
            cells[0][t * H + 3] = 0.4 * s;
        }
        assertEquals(List.of(new Cell(0, 1), new Cell(0, 3), new Cell(0, 0)), CellSearch.mostActive(cells, H, 0, 3));
    }
}
