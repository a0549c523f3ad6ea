package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which images a caption run holds out: never all of them, at least one where it can. */
class CaptionDataTest {
    /** Captions of images 0..n-1 (two each), among {@code images} feature rows. */
    private static List<CaptionData.Caption> captions(int n) {
        List<CaptionData.Caption> out = new ArrayList<>();
        for (int i = 0; i < n; i++) for (String t : new String[] {"a", "b"}) out.add(new CaptionData.Caption(i, t));
        return out;
    }

    private static int heldOut(int captioned, int images, double valFrac, long seed) {
        boolean[] val = CaptionData.validationImages(captions(captioned), images, valFrac, seed);
        int n = 0;
        for (int i = 0; i < images; i++) if (val[i]) n++;
        for (int i = captioned; i < images; i++) assertFalse(val[i], "image " + i + " has no caption");
        return n;
    }

    @Test
    void aSingleCaptionedImageIsKeptForTraining() {
        for (double frac : new double[] {0.1, 0.5, 0.9}) assertEquals(0, heldOut(1, 4, frac, 42), "frac " + frac);
    }

    @Test
    void twoOrMoreImagesHoldOutAtLeastOneAndKeepAtLeastOne() {
        for (long seed = 0; seed < 5; seed++) {
            assertEquals(1, heldOut(2, 2, 0.01, seed));
            assertEquals(1, heldOut(2, 2, 0.99, seed));
            assertEquals(9, heldOut(10, 12, 0.99, seed));
            assertEquals(3, heldOut(10, 10, 0.3, seed));
            assertEquals(0, heldOut(10, 10, 0, seed));
        }
    }
}
