package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.io.Safetensors;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code caption train --condition input}: training, the mode in the model file, and its errors. */
class CaptionConditionCliTest {

    private static CliRun train(Path f, Path c, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "caption",
                "train",
                "--features",
                f.toString(),
                "--captions",
                c.toString(),
                "--out",
                out.toString(),
                "--val-frac",
                "0",
                "--hidden",
                "32",
                "--embedding",
                "8",
                "--batch",
                "4",
                "--lr",
                "1e-2",
                "--backend",
                "reference",
                "--threads",
                "1"));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(new String[0]));
    }

    private static Path captions(Path dir, int n) throws Exception {
        String[] lines = new String[n];
        for (int i = 0; i < n; i++)
            lines[i] = "{\"image\": " + i + ", \"caption\": \"" + CaptionCliTest.CAPTIONS[i % 4] + "\"}";
        return CaptionCliTest.captions(dir, lines);
    }

    @Test
    void trainsWithTheImageAsFirstInputAndSampleAndEvalReadTheMode(@TempDir Path dir) throws Exception {
        Path f = CaptionCliTest.features(dir, 4, 4), c = captions(dir, 4), out = dir.resolve("run");
        CliRun t = train(f, c, out, "--condition", "input", "--epochs", "150");
        assertEquals(0, t.code(), t.err());
        Safetensors.Contents model = Safetensors.read(out.resolve("caption.safetensors"));
        assertEquals("input", model.metadata().get("condition"));
        assertArrayEquals(
                new long[] {8, 4}, model.tensors().get(CaptionCheckpoint.WEIGHT).shape());
        for (int i = 0; i < 4; i++) {
            for (String beam : new String[] {"0", "3"}) {
                CliRun s = CliRun.of(
                        "caption",
                        "sample",
                        "--checkpoint",
                        out.toString(),
                        "--features",
                        f.toString(),
                        "--image",
                        Integer.toString(i),
                        "--beam",
                        beam,
                        "--backend",
                        "reference");
                assertEquals(0, s.code(), s.err());
                assertEquals(CaptionCliTest.CAPTIONS[i], s.out().strip(), "image " + i + ", beam " + beam);
            }
        }
        CliRun e = CliRun.of(
                "caption",
                "eval",
                "--checkpoint",
                out.toString(),
                "--features",
                f.toString(),
                "--captions",
                c.toString(),
                "--split",
                "all",
                "--backend",
                "reference");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("BLEU-4 1.0000  exact match 100.0% (4 images"), e.out());
    }

    @Test
    void aBadConditionIsAOneLineError(@TempDir Path dir) throws Exception {
        Path f = CaptionCliTest.features(dir, 4, 4), c = captions(dir, 4);
        train(f, c, dir.resolve("bad"), "--condition", "image", "--epochs", "1")
                .assertOneLineError("--condition must be input or state, got image");
        CliRun.of(
                        "caption",
                        "demo",
                        "--out",
                        dir.resolve("demo").toString(),
                        "--condition",
                        "first",
                        "--backend",
                        "reference")
                .assertOneLineError("--condition must be input or state, got first");
    }

    @Test
    void aRunIsResumedOnlyWithItsCondition(@TempDir Path dir) throws Exception {
        Path f = CaptionCliTest.features(dir, 4, 4), c = captions(dir, 4), out = dir.resolve("run");
        CliRun first = train(f, c, out, "--epochs", "1");
        assertEquals(0, first.code(), first.err());
        train(f, c, out, "--epochs", "2", "--condition", "input", "--resume")
                .assertOneLineError("is of a run with another --condition (state, now input)");
    }
}
