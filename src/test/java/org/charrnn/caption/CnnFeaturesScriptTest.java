package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.PythonScript;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/cnn_features.py, CNN features of one's own images: the file it writes is what the caption
 * commands read, random weights are seeded and announced, bad input is one line and exit 2. Needs
 * a Python with torch, safetensors and Pillow ({@code $CHARRNN_PYTHON}, else python3); skips with
 * the reason otherwise.
 */
class CnnFeaturesScriptTest {
    private static Path script;
    private static String unavailable;

    @BeforeAll
    static void probe() throws InterruptedException {
        script = PythonScript.script("charrnn.cnnfeatures");
        unavailable = script == null
                ? "charrnn.cnnfeatures (tools/cnn_features.py) not set by the build"
                : PythonScript.missing("torch", "safetensors", "PIL");
    }

    /** Runs the script with an empty torch hub cache (no pretrained weights to find). */
    private static PythonScript.Result run(Path dir, String... args) throws IOException, InterruptedException {
        assumeTrue(unavailable == null, unavailable);
        List<String> cmd = new ArrayList<>(List.of(PythonScript.interpreter(), script.toString()));
        cmd.addAll(List.of(args));
        Path home = Files.createDirectories(dir.resolve("torch-home"));
        PythonScript.Result r = PythonScript.run(cmd, Map.of("TORCH_HOME", home.toString()), 600);
        assertNotNull(r, "cnn_features.py did not finish in 600 s: " + cmd);
        return r;
    }

    private static void png(Path file, Color background, Color shape, int x) throws IOException {
        BufferedImage im = new BufferedImage(48, 40, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = im.createGraphics();
        g.setColor(background);
        g.fillRect(0, 0, 48, 40);
        g.setColor(shape);
        g.fillOval(x, 10, 16, 16);
        g.dispose();
        ImageIO.write(im, "png", file.toFile());
    }

    @Test
    void writesFeaturesTheCaptionCommandsRead(@TempDir Path dir) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        png(images.resolve("b.png"), Color.WHITE, Color.BLUE, 30);
        png(images.resolve("a.png"), Color.WHITE, Color.RED, 2);
        png(images.resolve("c.png"), Color.BLACK, Color.GREEN, 16);
        Files.writeString(images.resolve("notes.txt"), "not an image");
        Path feats = dir.resolve("features.safetensors"), template = dir.resolve("captions.jsonl");
        PythonScript.Result r = run(
                dir,
                images.toString(),
                "--out",
                feats.toString(),
                "--captions-template",
                template.toString(),
                "--seed",
                "3");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.err().contains("warning: no pretrained ResNet-18 weights"), r.err());
        assertTrue(r.out().contains("3 images x 512 features (weights: random (seed 3))"), r.out());
        CaptionData.Features f = CaptionData.readFeatures(feats);
        assertEquals(3, f.count());
        assertEquals(512, f.width());
        double[] a = f.rows(new int[] {0}), b = f.rows(new int[] {1}), c = f.rows(new int[] {2});
        assertFalse(Arrays.equals(a, b) || Arrays.equals(b, c) || Arrays.equals(a, c), "distinct images");

        // the template: one line per image, in file-name order
        List<String> lines = Files.readAllLines(template, StandardCharsets.UTF_8);
        assertEquals(3, lines.size());
        String[] files = {"a.png", "b.png", "c.png"}, caps = {"a red dot", "a blue dot", "a green dot"};
        StringBuilder filled = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            JsonObject o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
            assertEquals(i, o.get("image").getAsInt());
            assertEquals(files[i], o.get("file").getAsString());
            assertEquals("", o.get("caption").getAsString());
            o.addProperty("caption", caps[i]);
            filled.append(o).append('\n');
        }
        Files.writeString(template, filled, StandardCharsets.UTF_8);

        // the same seed gives the same random network: --weights random equals auto without weights
        Path again = dir.resolve("again.safetensors");
        PythonScript.Result r2 =
                run(dir, images.toString(), "--out", again.toString(), "--weights", "random", "--seed", "3");
        assertEquals(0, r2.code(), r2.output());
        assertFalse(r2.err().contains("warning"), r2.err());
        assertArrayEquals(f.values(), CaptionData.readFeatures(again).values());

        Path out = dir.resolve("run");
        CliRun t = CliRun.of(
                "caption",
                "train",
                "--features",
                feats.toString(),
                "--captions",
                template.toString(),
                "--out",
                out.toString(),
                "--condition",
                "input",
                "--val-frac",
                "0",
                "--hidden",
                "8",
                "--embedding",
                "4",
                "--batch",
                "3",
                "--epochs",
                "2",
                "--backend",
                "reference",
                "--threads",
                "1");
        assertEquals(0, t.code(), t.err());
        CliRun s = CliRun.of(
                "caption",
                "sample",
                "--checkpoint",
                out.toString(),
                "--features",
                feats.toString(),
                "--image",
                "2",
                "--backend",
                "reference");
        assertEquals(0, s.code(), s.err());
    }

    @Test
    void badInputIsOneLineAndExitTwo(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path out = dir.resolve("f.safetensors");
        String[][] cases = {
            {dir.resolve("missing").toString(), "is not a folder"},
            {empty.toString(), "holds no images"},
        };
        for (String[] c : cases) {
            PythonScript.Result r = run(dir, c[0], "--out", out.toString());
            assertEquals(2, r.code(), r.output());
            assertEquals(1, r.err().strip().split("\n").length, r.err());
            assertTrue(r.err().contains(c[1]), r.err());
        }
        Files.writeString(empty.resolve("broken.png"), "not a png");
        PythonScript.Result r = run(dir, empty.toString(), "--out", out.toString(), "--weights", "random");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().strip().startsWith("cnn_features.py: error: cannot read image"), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
        assertFalse(Files.exists(out), "no features file after an error");
    }
}
