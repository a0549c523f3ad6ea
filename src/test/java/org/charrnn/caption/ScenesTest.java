package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The demo's scenes, their captions and the fixed feature extractor. */
class ScenesTest {
    private static int[] pixels(Scenes.Shape... shapes) {
        return Scenes.render(List.of(shapes), new SplittableRandom(1));
    }

    @Test
    void captionsNameTheShapesFromLeftToRight() {
        Scenes.Shape a = new Scenes.Shape(0, 0, false, 0, 2, 3), b = new Scenes.Shape(2, 1, true, 2, 22, 10);
        Scenes.Scene s = new Scenes.Scene(List.of(a, b), pixels(a, b));
        assertEquals(
                List.of(
                        "a small red circle left of a big blue square",
                        "a big blue square right of a small red circle"),
                s.captions());
        assertEquals(List.of("a big blue square on the right"), new Scenes.Scene(List.of(b), pixels(b)).captions());
        Scenes.Shape c = new Scenes.Shape(3, 2, false, 1, 13, 0);
        assertEquals(
                List.of("a small red circle, a small yellow triangle and a big blue square"),
                new Scenes.Scene(List.of(a, c, b), pixels(a, c, b)).captions());
    }

    @Test
    void generationIsSeededAndKeepsShapesApart() {
        List<Scenes.Scene> x = Scenes.generate(200, 3, 7), y = Scenes.generate(200, 3, 7);
        int[] sizes = new int[4];
        for (int i = 0; i < x.size(); i++) {
            assertArrayEquals(x.get(i).pixels(), y.get(i).pixels());
            List<Scenes.Shape> sh = x.get(i).shapes();
            sizes[sh.size()]++;
            for (int j = 0; j < sh.size(); j++) {
                Scenes.Shape s = sh.get(j);
                assertTrue(s.x() >= Scenes.COLUMN[s.column()] && s.x() + s.side() <= Scenes.COLUMN[s.column() + 1]);
                if (j > 0) {
                    assertTrue(sh.get(j - 1).column() < s.column());
                    assertTrue(sh.get(j - 1).colour() != s.colour());
                }
            }
        }
        assertTrue(sizes[1] > 40 && sizes[2] > 40 && sizes[3] > 40);
    }

    @Test
    void featuresTellColourSizeAndShapeOfEachThird() {
        int k = Scenes.COLOURS.length, per = SceneFeatures.PER_REGION;
        String[] kinds = {"circle", "square", "triangle"};
        double[][] corners = {{0, 0}, {1, 1}, {0, 1}}; // top, bottom corners covered
        for (int kind = 0; kind < 3; kind++)
            for (boolean big : new boolean[] {false, true}) {
                Scenes.Shape s = new Scenes.Shape(1, kind, big, 1, 12, 5);
                double[] f = SceneFeatures.extract(pixels(s));
                assertEquals(SceneFeatures.WIDTH, f.length);
                for (int i = 0; i < per; i++) assertEquals(0, f[i], "left third is empty");
                for (int i = 2 * per; i < 3 * per; i++) assertEquals(0, f[i], "right third is empty");
                int o = per;
                assertTrue(f[o + 1] > 0 && f[o] == 0 && f[o + 2] == 0 && f[o + 3] == 0, "green only");
                assertEquals(corners[kind][0], f[o + k + 1], kinds[kind]);
                assertEquals(corners[kind][1], f[o + k + 2], kinds[kind]);
                assertEquals(s.side() / 10.0, f[o + k + 3], 1e-12);
                assertEquals(s.side() / 10.0, f[o + k + 4], 1e-12);
                double fill = f[o + k];
                assertTrue(kind == 1 ? fill == 1 : kind == 0 ? fill > 0.75 && fill < 0.95 : fill > 0.5 && fill < 0.7);
            }
    }
}
