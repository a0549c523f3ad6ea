package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code charrnn caption demo} end to end, small: it must learn the one-shape scenes and draw the page. */
class CaptionDemoTest {
    private static final Pattern RESULT =
            Pattern.compile("held-out: BLEU-4 ([0-9.]+)  exact match ([0-9.]+)% \\((\\d+) images");

    @Test
    void learnsOneShapeScenesAndWritesThePage(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo");
        CliRun r = CliRun.of(
                "caption",
                "demo",
                "--out",
                out.toString(),
                "--images",
                "400",
                "--max-shapes",
                "1",
                "--val-frac",
                "0.1",
                "--hidden",
                "64",
                "--epochs",
                "40",
                "--lr",
                "1e-2",
                "--backend",
                "reference",
                "--threads",
                "2");
        assertEquals(0, r.code(), r.err());
        Matcher m = RESULT.matcher(r.out());
        assertTrue(m.find(), r.out());
        double bleu = Double.parseDouble(m.group(1)), exact = Double.parseDouble(m.group(2));
        int images = Integer.parseInt(m.group(3));
        assertEquals(40, images);
        // untrained or broken training writes wrong shapes, colours or places: BLEU-4 well under 0.5
        assertTrue(bleu >= 0.9 && exact >= 80, r.out());
        for (String f : new String[] {"features.safetensors", "captions.jsonl", "caption.safetensors"})
            assertTrue(Files.isRegularFile(out.resolve(f)), f);

        String page = Files.readString(out.resolve("captions.html"), StandardCharsets.UTF_8);
        assertTrue(page.startsWith("<!DOCTYPE html>"));
        assertTrue(page.contains("stands in for a CNN"));
        assertEquals(images, count(page, "<figure class=\"scene\""));
        assertEquals(images, count(page, "<ul class=\"references\">"));
        assertEquals(images, count(page, "class=\"generated exact\"") + count(page, "class=\"generated differs\""));
        assertTrue(count(page, "class=\"generated exact\"") >= 0.8 * images);
        Matcher img = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")
                .matcher(page);
        assertTrue(img.find());
        BufferedImage png =
                ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(img.group(1))));
        assertEquals(Scenes.SIZE, png.getWidth());
        assertEquals(Scenes.SIZE, png.getHeight());
        Matcher cap = Pattern.compile(
                        "<p class=\"generated exact\"[^>]*>([^<]+)</p><ul class=\"references\"><li>([^<]+)</li>")
                .matcher(page);
        assertTrue(cap.find());
        assertEquals(cap.group(2), cap.group(1));
    }

    @Test
    void badOptionsAreOneLineErrors(@TempDir Path dir) {
        CliRun.of("caption", "demo", "--out", dir.toString(), "--max-shapes", "4")
                .assertOneLineError("--max-shapes must be 1, 2 or 3, got 4");
        CliRun.of("caption", "demo", "--out", dir.toString(), "--images", "0")
                .assertOneLineError("--images must be >= 1, got 0");
        CliRun.of("caption", "demo", "--out", dir.resolve("wide").toString(), "--beam", "1001")
                .assertOneLineError("--beam must be at most 1000, got 1001");
        // the training takes the demo's --rnn-kernel too: refused before it trains, not after
        Path persistent = dir.resolve("persistent");
        CliRun.of(
                        "caption",
                        "demo",
                        "--out",
                        persistent.toString(),
                        "--images",
                        "40",
                        "--epochs",
                        "1",
                        "--hidden",
                        "8",
                        "--backend",
                        "reference",
                        "--rnn-kernel",
                        "persistent")
                .assertOneLineError("--rnn-kernel persistent runs on the cuda and opencl backends");
        assertTrue(!Files.exists(persistent.resolve("caption.safetensors")), "trained with another kernel");
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) n++;
        return n;
    }
}
