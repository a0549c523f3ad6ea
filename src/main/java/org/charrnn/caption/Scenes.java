package org.charrnn.caption;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The synthetic image set of {@code charrnn caption demo}: {@value #SIZE}x{@value #SIZE} RGB scenes
 * of one to three shapes (circle, square, triangle; small or big; red, green, blue or yellow) on a
 * light background with a little pixel noise. The image has three columns (left, middle, right);
 * each shape lies inside its own column and has a colour of its own. Captions name the shapes from
 * left to right: {@code "a big red circle on the left"}, {@code "a small green square left of a big
 * blue triangle"} (and {@code "... right of ..."} the other way round), {@code "a big yellow
 * circle, a small red square and a small blue triangle"}.
 */
public final class Scenes {
    /** Width and height in pixels. */
    public static final int SIZE = 32;

    /** Shape side (or diameter) in pixels. */
    static final int SMALL = 6, BIG = 10;

    /** Names and RGB of the shape colours; index is the colour id. */
    public static final String[] COLOURS = {"red", "green", "blue", "yellow"};

    static final int[][] RGB = {{220, 40, 40}, {40, 160, 60}, {40, 70, 220}, {225, 195, 30}};
    static final int[] BACKGROUND = {245, 245, 240};
    static final String[] KINDS = {"circle", "square", "triangle"};
    static final String[] PLACES = {"on the left", "in the middle", "on the right"};

    /** Column c spans pixels [COLUMN[c], COLUMN[c + 1]). */
    static final int[] COLUMN = {0, 11, 22, SIZE};

    /** One shape: colour and kind ids, size, column, and its top-left pixel. */
    public record Shape(int colour, int kind, boolean big, int column, int x, int y) {
        int side() {
            return big ? BIG : SMALL;
        }

        String phrase() {
            return "a " + (big ? "big " : "small ") + COLOURS[colour] + " " + KINDS[kind];
        }

        /** Whether pixel (px, py) is inside the shape. */
        boolean covers(int px, int py) {
            int s = side();
            double u = px + 0.5 - x, v = py + 0.5 - y; // in [0, s) inside the box
            if (u < 0 || v < 0 || u >= s || v >= s) return false;
            return switch (kind) {
                case 0 -> (u - s / 2.0) * (u - s / 2.0) + (v - s / 2.0) * (v - s / 2.0) <= s * s / 4.0;
                case 1 -> true;
                default -> Math.abs(u - s / 2.0) <= (v + 0.5) / 2; // point up
            };
        }
    }

    /** A scene: its shapes from left to right and its pixels, 0xRRGGBB row-major. */
    public record Scene(List<Shape> shapes, int[] pixels) {
        /** Every caption of the scene (the first is the left-to-right reading). */
        public List<String> captions() {
            List<Shape> s = shapes;
            return switch (s.size()) {
                case 1 -> List.of(s.get(0).phrase() + " " + PLACES[s.get(0).column()]);
                case 2 ->
                    List.of(
                            s.get(0).phrase() + " left of " + s.get(1).phrase(),
                            s.get(1).phrase() + " right of " + s.get(0).phrase());
                default ->
                    List.of(s.get(0).phrase() + ", " + s.get(1).phrase() + " and "
                            + s.get(2).phrase());
            };
        }
    }

    private Scenes() {}

    /** {@code count} scenes of 1..{@code maxShapes} shapes (uniform), from {@code seed}. */
    public static List<Scene> generate(int count, int maxShapes, long seed) {
        if (count < 1) throw new IllegalArgumentException("--images must be >= 1, got " + count);
        if (maxShapes < 1 || maxShapes > 3)
            throw new IllegalArgumentException("--max-shapes must be 1, 2 or 3, got " + maxShapes);
        SplittableRandom rng = new SplittableRandom(seed);
        List<Scene> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) out.add(scene(1 + rng.nextInt(maxShapes), rng));
        return out;
    }

    static Scene scene(int n, SplittableRandom rng) {
        int[] columns = pick(3, n, rng), colours = pick(COLOURS.length, n, rng);
        List<Shape> shapes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean big = rng.nextBoolean();
            int s = big ? BIG : SMALL, c = columns[i];
            int x = COLUMN[c] + rng.nextInt(COLUMN[c + 1] - COLUMN[c] - s + 1);
            int y = rng.nextInt(SIZE - s + 1);
            shapes.add(new Shape(colours[i], rng.nextInt(KINDS.length), big, c, x, y));
        }
        shapes.sort(Comparator.comparingInt(Shape::column));
        return new Scene(List.copyOf(shapes), render(shapes, rng));
    }

    /** The pixels of {@code shapes}, each channel jittered by up to 12 levels. */
    static int[] render(List<Shape> shapes, SplittableRandom rng) {
        int[] px = new int[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++)
            for (int x = 0; x < SIZE; x++) {
                int[] c = BACKGROUND;
                for (Shape s : shapes) if (s.covers(x, y)) c = RGB[s.colour()];
                int rgb = 0;
                for (int ch = 0; ch < 3; ch++)
                    rgb = (rgb << 8) | Math.max(0, Math.min(255, c[ch] + rng.nextInt(25) - 12));
                px[y * SIZE + x] = rgb;
            }
        return px;
    }

    /** {@code n} distinct values of 0..{@code of}-1, in random order. */
    private static int[] pick(int of, int n, SplittableRandom rng) {
        int[] all = new int[of];
        for (int i = 0; i < of; i++) all[i] = i;
        for (int i = of - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, n);
    }
}
