package org.charrnn.caption;

/**
 * The fixed feature extractor of {@code charrnn caption demo}, standing in for a CNN: it reads only
 * an image's pixels and learns nothing. Every pixel is given to the nearest (in RGB) of the
 * background and the four shape colours. Then for each third of the image (left, middle, right),
 * {@value #PER_REGION} numbers pooled over its pixels: the pixel count of each colour (/100), and
 * over its non-background pixels the fraction of their bounding box they fill (1 for a square, about
 * 0.8 for a circle, about 0.6 for a triangle), the fraction of the box's two top corners and of its
 * two bottom corners they cover, and the box's width and height (/10); zeros where the third is
 * empty. The width is {@value #WIDTH}.
 */
public final class SceneFeatures {
    static final int PER_REGION = Scenes.COLOURS.length + 5;

    /** Features per image. */
    public static final int WIDTH = PER_REGION * 3;

    private SceneFeatures() {}

    /** The features of one image, {@code pixels} 0xRRGGBB row-major {@value Scenes#SIZE} square. */
    public static double[] extract(int[] pixels) {
        int n = Scenes.SIZE, k = Scenes.COLOURS.length;
        if (pixels.length != n * n) throw new IllegalArgumentException("expected " + n + "x" + n + " pixels");
        int[] colour = new int[n * n];
        for (int i = 0; i < colour.length; i++) colour[i] = nearest(pixels[i]);
        double[] f = new double[WIDTH];
        for (int r = 0; r < 3; r++) {
            int x0 = (r * n + 2) / 3, x1 = ((r + 1) * n + 2) / 3; // thirds: [0,11), [11,22), [22,32)
            int o = r * PER_REGION, count = 0, minX = n, minY = n, maxX = -1, maxY = -1;
            for (int y = 0; y < n; y++)
                for (int x = x0; x < x1; x++) {
                    int c = colour[y * n + x];
                    if (c < 0) continue;
                    f[o + c] += 0.01;
                    count++;
                    minX = Math.min(minX, x);
                    maxX = Math.max(maxX, x);
                    minY = Math.min(minY, y);
                    maxY = Math.max(maxY, y);
                }
            if (count == 0) continue;
            int w = maxX - minX + 1, h = maxY - minY + 1;
            f[o + k] = (double) count / (w * h);
            f[o + k + 1] = (on(colour, minX, minY) + on(colour, maxX, minY)) / 2.0;
            f[o + k + 2] = (on(colour, minX, maxY) + on(colour, maxX, maxY)) / 2.0;
            f[o + k + 3] = w / 10.0;
            f[o + k + 4] = h / 10.0;
        }
        return f;
    }

    private static int on(int[] colour, int x, int y) {
        return colour[y * Scenes.SIZE + x] >= 0 ? 1 : 0;
    }

    /** The colour id nearest to {@code rgb}, or -1 for the background. */
    static int nearest(int rgb) {
        int r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
        int best = -1;
        long bestD = dist(r, g, b, Scenes.BACKGROUND);
        for (int c = 0; c < Scenes.RGB.length; c++) {
            long d = dist(r, g, b, Scenes.RGB[c]);
            if (d < bestD) {
                bestD = d;
                best = c;
            }
        }
        return best;
    }

    private static long dist(int r, int g, int b, int[] c) {
        long dr = r - c[0], dg = g - c[1], db = b - c[2];
        return dr * dr + dg * dg + db * db;
    }
}
