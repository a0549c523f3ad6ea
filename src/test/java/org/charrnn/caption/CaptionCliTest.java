package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.charrnn.io.Safetensors;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code charrnn caption train/sample/eval} end to end on a tiny learnable set, and their input errors. */
class CaptionCliTest {
    static final String[] CAPTIONS = {"a small red dot", "a big blue box", "two small red dots", "one big blue dot"};

    static Path features(Path dir, int n, int f) throws Exception {
        double[] v = new double[n * f];
        for (int i = 0; i < n; i++) v[i * f + (i % f)] = 1; // one-hot
        Path p = dir.resolve("feats.safetensors");
        Safetensors.write(
                p, List.of(new Safetensors.Tensor("features", Safetensors.DType.F32, new long[] {n, f}, v)), Map.of());
        return p;
    }

    static Path captions(Path dir, String... lines) throws Exception {
        Path p = dir.resolve("caps.jsonl");
        Files.write(p, List.of(lines), StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void trainsSamplesAndEvaluates(@TempDir Path dir) throws Exception {
        Path f = features(dir, 4, 4);
        String[] lines = new String[4];
        for (int i = 0; i < 4; i++) lines[i] = "{\"image\": " + i + ", \"caption\": \"" + CAPTIONS[i] + "\"}";
        Path c = captions(dir, lines);
        Path out = dir.resolve("run");
        CliRun t = bare(
                f,
                c,
                out,
                "150",
                "--val-frac",
                "0",
                "--hidden",
                "32",
                "--embedding",
                "8",
                "--batch",
                "4",
                "--lr",
                "1e-2");
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.isRegularFile(out.resolve("caption.safetensors")));
        for (int i = 0; i < 4; i++) {
            CliRun s = sample(out, f, Integer.toString(i));
            assertEquals(0, s.code(), s.err());
            assertEquals(CAPTIONS[i], s.out().strip());
            CliRun b = sample(out, f, Integer.toString(i), "--beam", "3");
            assertEquals(CAPTIONS[i], b.out().strip(), b.err());
        }
        CliRun e = eval(out, f, c, "--split", "all", "--backend", "reference");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("BLEU-4 1.0000  exact match 100.0% (4 images"), e.out());
        sample(out, f, "4").assertOneLineError("--image 4 is outside the 4 feature rows");
        for (String temperature : new String[] {"NaN", "Infinity", "-1"})
            sample(out, f, "0", "--temperature", temperature)
                    .assertOneLineError("--temperature must be a finite number >= 0, got ");
        eval(out, f, c, "--max-length", "0", "--backend", "reference")
                .assertOneLineError("--max-length must be >= 1, got 0");
        sample(out, f, "0", "--beam", "100000").assertOneLineError("--beam must be at most 1000, got 100000");
        eval(out, f, c, "--beam", "1001").assertOneLineError("--beam must be at most 1000, got 1001");
        sample(out, f, "0", "--beam", "3", "--temperature", "0.7")
                .assertOneLineError("--beam searches for the most likely caption; --temperature 0.7 does not apply");
        // a damaged split in the model's metadata: its held-out images are unknown
        Path model = out.resolve("caption.safetensors");
        Safetensors.Contents mc = Safetensors.read(model);
        Map<String, String> meta = new java.util.LinkedHashMap<>(mc.metadata());
        meta.put("val_frac", "0.1x");
        Safetensors.write(model, new java.util.ArrayList<>(mc.tensors().values()), meta);
        eval(out, f, c, "--split", "val", "--backend", "reference")
                .assertOneLineError("corrupt caption model: bad val_frac or split_seed");
    }

    @Test
    void printsProgressAndWritesMetrics(@TempDir Path dir) throws Exception {
        Path f = features(dir, 6, 4), c = sixCaptions(dir);
        Path out = dir.resolve("run");
        CliRun t = CliRun.of(
                "caption",
                "train",
                "--features",
                f.toString(),
                "--captions",
                c.toString(),
                "--out",
                out.toString(),
                "--val-frac",
                "0.34",
                "--batch",
                "2",
                "--epochs",
                "3",
                "--hidden",
                "8",
                "--embedding",
                "4",
                "--log-every",
                "2",
                "--backend",
                "reference",
                "--threads",
                "1");
        assertEquals(0, t.code(), t.err());
        // 4 training captions, 2 a batch: 2 updates an epoch, a progress line every 2nd
        for (String it : new String[] {"iter 2  epoch 1.00  loss ", "iter 4  epoch 2.00  loss ", "iter 6  epoch 3.00"})
            assertTrue(t.out().contains(it), t.out());
        assertFalse(t.out().contains("iter 1  "), t.out());
        List<String> rows = Files.readAllLines(out.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        int iters = 0, vals = 0;
        for (String r : rows) {
            JsonObject o = JsonParser.parseString(r).getAsJsonObject();
            long it = o.get("iter").getAsLong();
            if (o.get("type").getAsString().equals("iter")) {
                iters++;
                assertEquals(iters, it);
                assertEquals(it / 2.0, o.get("epoch").getAsDouble(), 1e-12);
                assertTrue(o.get("loss").getAsDouble() > 0 && o.get("grad_norm").getAsDouble() > 0, r);
                assertEquals(2e-3, o.get("lr").getAsDouble());
            } else {
                vals++;
                assertEquals("val", o.get("type").getAsString());
                assertEquals(2L * vals, it);
                assertEquals(vals, o.get("epoch").getAsDouble());
                double v = o.get("val_loss").getAsDouble();
                assertTrue(v > 0 && Double.isFinite(v), r);
                assertEquals(v / Math.log(2), o.get("val_bpc").getAsDouble(), 1e-12);
            }
        }
        assertEquals(6, iters);
        assertEquals(3, vals);
    }

    /** A small run: two captions a batch, a third of the images held out, H8 E4, rmsprop. */
    private static CliRun run(Path f, Path c, Path out, String epochs, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(
                "--val-frac", "0.34", "--batch", "2", "--hidden", "8", "--embedding", "4", "--optimizer", "rmsprop"));
        args.addAll(List.of(more));
        return bare(f, c, out, epochs, args.toArray(new String[0]));
    }

    /** caption train with the data, --out, --epochs and the backend only: other options as their defaults. */
    private static CliRun bare(Path f, Path c, Path out, String epochs, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(
                "caption",
                "train",
                "--features",
                f.toString(),
                "--captions",
                c.toString(),
                "--out",
                out.toString(),
                "--epochs",
                epochs,
                "--backend",
                "reference",
                "--threads",
                "1"));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(new String[0]));
    }

    private static List<Double> losses(Path metrics) throws Exception {
        List<Double> out = new java.util.ArrayList<>();
        for (String r : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            JsonObject o = JsonParser.parseString(r).getAsJsonObject();
            out.add((double) o.get("iter").getAsLong());
            out.add(
                    o.has("loss")
                            ? o.get("loss").getAsDouble()
                            : o.get("val_loss").getAsDouble());
        }
        return out;
    }

    /**
     * A learning rate that sends the weights past float32 or to NaN: the run used to stop at the
     * model file's refusal, or finish, say "wrote caption.safetensors" with no such file and exit
     * 0, its resume state of NaN weights saved.
     */
    @Test
    void aDivergedRunStopsWithoutSavingItsWeights(@TempDir Path dir) throws Exception {
        Path f = features(dir, 6, 4);
        Path c = sixCaptions(dir), out = dir.resolve("diverged");
        CliRun r = trainInto(f, c, out, "--lr", "1e300", "--val-frac", "0.34");
        r.assertErrorAfterLog("charrnn: training diverged in epoch 1 (");
        assertTrue(r.err().strip().endsWith(": no model was written; lower --lr or --clip"), r.err());
        assertTrue(
                !Files.exists(out.resolve("caption.safetensors")) && !Files.exists(out.resolve("resume.safetensors")));
        // values that passed the checks before: an infinite rate (NaN at once), a NaN fraction (held out nothing)
        trainInto(f, c, dir.resolve("inf"), "--lr", "Infinity")
                .assertOneLineError("--lr must be a finite number > 0, got Infinity");
        trainInto(f, c, dir.resolve("nan"), "--val-frac", "NaN")
                .assertOneLineError("--val-frac must be in [0, 1), got NaN");
    }

    @Test
    void resumedRunEndsAsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path f = features(dir, 6, 4);
        Path c = sixCaptions(dir);
        Path whole = dir.resolve("whole"), parts = dir.resolve("parts");
        assertEquals(0, run(f, c, whole, "4", "--lr", "0.005").code());
        CliRun first = run(f, c, parts, "2", "--lr", "0.005");
        assertEquals(0, first.code(), first.err());
        run(f, c, parts, "2", "--resume").assertOneLineError("has done 2 epochs; raise --epochs");
        run(f, c, parts, "4", "--resume", "--layers", "2")
                .assertOneLineError("is of a run with another --layers (1, now 2)");
        run(f, c, parts, "4", "--resume", "--model", "gru")
                .assertOneLineError("is of a run with another --model (lstm, now gru)");
        run(f, c, parts, "4", "--resume", "--seed", "7")
                .assertOneLineError("is of a run with another --seed (42, now 7)");
        run(f, c, dir.resolve("none"), "4", "--resume").assertOneLineError("resume.safetensors does not exist");
        // a state whose recorded rate is not a number (an edited file) is named, not a NumberFormatException
        Path damaged = Files.createDirectories(dir.resolve("damaged")).resolve("resume.safetensors");
        Safetensors.Contents state = Safetensors.read(parts.resolve("resume.safetensors"));
        Map<String, String> meta = new java.util.LinkedHashMap<>(state.metadata());
        meta.put("--lr", "fast");
        Safetensors.write(damaged, new java.util.ArrayList<>(state.tensors().values()), meta);
        bare(f, c, damaged.getParent(), "4", "--resume")
                .assertOneLineError("--resume: " + damaged + " is corrupt: its --lr is 'fast'");
        // what a kill -9 inside the writes of the model and the state leaves, and files that are not that
        List<String> leftovers = List.of(".caption.safetensors.k3x9.tmp", ".resume.safetensors.0a1b.tmp");
        List<String> others = List.of(".notes.txt.k3x9.tmp", "caption.safetensors.bak", ".caption.safetensors.tmp");
        for (String name : leftovers) Files.writeString(parts.resolve(name), "partial");
        for (String name : others) Files.writeString(parts.resolve(name), "keep");
        // and a metrics line of bytes that are not UTF-8 (a damaged disk block): dropped by the resume
        Files.write(
                parts.resolve("metrics.jsonl"),
                new byte[] {(byte) 0xFF, (byte) 0xFE, '{', '\n'},
                java.nio.file.StandardOpenOption.APPEND);
        // the resume brings back the run's own --hidden, --embedding, --optimizer, --batch, --val-frac and --lr
        CliRun rest = bare(f, c, parts, "4", "--resume");
        assertEquals(0, rest.code(), rest.err());
        assertTrue(rest.out().contains("resuming after epoch 2 (iteration 4)"), rest.out());
        assertTrue(
                rest.err().contains("removed 2 unfinished files (a crash cut their writing short) from " + parts),
                rest.err());
        for (String name : leftovers) assertFalse(Files.exists(parts.resolve(name)), name);
        for (String name : others) assertTrue(Files.exists(parts.resolve(name)), name);
        assertFalse(rest.out().contains("epoch 1  iter"), rest.out());
        for (String file : new String[] {"resume.safetensors", "caption.safetensors"})
            for (String t : Safetensors.read(whole.resolve(file)).tensors().keySet())
                assertArrayEquals(
                        Safetensors.read(whole.resolve(file)).tensors().get(t).values(),
                        Safetensors.read(parts.resolve(file)).tensors().get(t).values(),
                        file + " " + t);
        assertEquals(losses(whole.resolve("metrics.jsonl")), losses(parts.resolve("metrics.jsonl")));
    }

    @Test
    void aFreshRunRefusesADirectoryHoldingARunAndALockedOne(@TempDir Path dir) throws Exception {
        Path f = features(dir, 6, 4);
        Path c = sixCaptions(dir), out = dir.resolve("run");
        assertEquals(0, run(f, c, out, "1").code());
        Map<String, byte[]> before = new java.util.TreeMap<>();
        for (String file : new String[] {"caption.safetensors", "resume.safetensors", "metrics.jsonl"})
            before.put(file, Files.readAllBytes(out.resolve(file)));
        run(f, c, out, "2")
                .assertOneLineError(out + " already holds a run (caption.safetensors, resume.safetensors); continue it"
                        + " with --resume (and a higher --epochs), or give a new --out directory");
        for (Map.Entry<String, byte[]> e : before.entrySet())
            assertArrayEquals(e.getValue(), Files.readAllBytes(out.resolve(e.getKey())), e.getKey() + " was touched");
        try (org.charrnn.train.RunLock held = org.charrnn.train.RunLock.acquire(out)) {
            run(f, c, out, "2", "--resume").assertOneLineError("is in use by another charrnn run (pid ");
        }
        assertEquals(0, run(f, c, out, "2", "--resume").code(), "the lock is released");
        Path model = Files.createDirectories(dir.resolve("model-only")).resolve("caption.safetensors");
        Files.copy(out.resolve("caption.safetensors"), model); // as a disk that filled before the state's write
        run(f, c, model.getParent(), "2")
                .assertOneLineError(model.getParent() + " already holds a run (caption.safetensors); without its"
                        + " resume.safetensors (a full disk?) it cannot be resumed: give a new --out directory");
        Path trainRun = Files.createDirectories(dir.resolve("lm"));
        Files.writeString(trainRun.resolve("ckpt-00000010.safetensors"), "x");
        run(f, c, trainRun, "1")
                .assertOneLineError(trainRun + " holds a training run (newest checkpoint ckpt-00000010.safetensors),"
                        + " whose metrics a caption run would overwrite; give a new --out directory");
        CliRun.of("caption", "demo", "--out", out.toString())
                .assertOneLineError(out + " already holds a run (caption.safetensors, resume.safetensors); give a new"
                        + " --out directory");
        assertFalse(Files.exists(out.resolve("features.safetensors")), "the demo wrote its data anyway");
    }

    /** {@code caption eval} of the model in {@code model} on features f and captions c, with {@code more}. */
    /** One caption for each of six images, CAPTIONS in turn: the set of the run-directory tests. */
    private static Path sixCaptions(Path dir) throws Exception {
        String[] lines = new String[6];
        for (int i = 0; i < 6; i++) lines[i] = "{\"image\": " + i + ", \"caption\": \"" + CAPTIONS[i % 4] + "\"}";
        return captions(dir, lines);
    }

    /** {@code caption sample} of image {@code image} on the reference, with {@code more} options. */
    private static CliRun sample(Path model, Path f, String image, String... more) {
        return caption("sample", model, f, List.of("--image", image, "--backend", "reference"), more);
    }

    private static CliRun eval(Path model, Path f, Path c, String... more) {
        return caption("eval", model, f, List.of("--captions", c.toString()), more);
    }

    /** {@code caption <command> --checkpoint model --features f}, then {@code own} and {@code more}. */
    private static CliRun caption(String command, Path model, Path f, List<String> own, String... more) {
        List<String> args = new java.util.ArrayList<>(
                List.of("caption", command, "--checkpoint", model.toString(), "--features", f.toString()));
        args.addAll(own);
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    /** One epoch on the reference into {@code dir}/bad, where these runs fail before writing anything. */
    private static CliRun train(Path f, Path c, Path dir) {
        return trainInto(f, c, dir.resolve("bad"));
    }

    private static CliRun trainInto(Path f, Path c, Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(
                "caption",
                "train",
                "--features",
                f.toString(),
                "--captions",
                c.toString(),
                "--out",
                out.toString(),
                "--epochs",
                "1",
                "--backend",
                "reference"));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(new String[0]));
    }

    @Test
    void badInputsAreOneLineErrors(@TempDir Path dir) throws Exception {
        Path f = features(dir, 2, 3);
        train(f, captions(dir, "{\"image\": 2, \"caption\": \"x\"}"), dir)
                .assertOneLineError("line 1: image 2 is outside the 2 feature rows (0..1)");
        train(f, captions(dir, "{\"image\": 0.5, \"caption\": \"x\"}"), dir)
                .assertOneLineError("line 1: image 0.5 is not a whole number (a feature row)");
        train(f, captions(dir, "{\"image\": 0, \"caption\": \"a\"}", "{\"image\": 1, \"caption\": \"\"}"), dir)
                .assertOneLineError("line 2: empty caption");
        train(f, captions(dir, "{\"image\": 0}"), dir).assertOneLineError("\"caption\" must be a string");
        train(f, captions(dir, ""), dir).assertOneLineError("holds no captions");
        Path c = captions(dir, "{\"image\": 0, \"caption\": \"a\"}");
        Path rank3 = dir.resolve("r3.safetensors");
        Safetensors.write(
                rank3,
                List.of(new Safetensors.Tensor("f", Safetensors.DType.F32, new long[] {1, 2, 2}, new double[4])),
                Map.of());
        train(rank3, c, dir).assertOneLineError("(rank 3); expected rank 2, [N, F]");
        Path f64 = dir.resolve("f64.safetensors");
        Safetensors.write(
                f64,
                List.of(new Safetensors.Tensor("f", Safetensors.DType.F64, new long[] {2, 2}, new double[4])),
                Map.of());
        train(f64, c, dir).assertOneLineError("has dtype F64; expected F32");
        train(dir.resolve("missing.safetensors"), c, dir).assertOneLineError("does not exist");
        train(dir, c, dir).assertOneLineError("features file " + dir + " is a directory");
        train(f, dir, dir).assertOneLineError("captions file " + dir + " is a directory");
        // a pipe is refused, not opened: opening it would wait for a writer
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("pipe"));
        String special = " is not a regular file (a device, pipe or socket)";
        train(pipe, c, dir).assertOneLineError("features file " + pipe + special);
        train(f, pipe, dir).assertOneLineError("captions file " + pipe + special);
        eval(pipe, f, c).assertOneLineError("caption model " + pipe + special);
        train(f, f, dir).assertOneLineError("captions file " + f + " is not UTF-8 text (JSON lines)");
        trainInto(f, c, dir.resolve("bad"), "--optimizer", "lbfgs").assertOneLineError("unknown optimizer 'lbfgs'");
        eval(dir.resolve("bad"), f, c, "--beam", "0").assertOneLineError("--beam must be >= 1, got 0");
        // refused after it made its --out (a model too large): no empty directory is left
        trainInto(f, c, dir.resolve("huge"), "--hidden", "100000").assertOneLineError("model too large");
        assertFalse(Files.exists(dir.resolve("huge")), "the refused run's directory is removed");
        trainInto(f, c, f.resolve("run"))
                .assertOneLineError("cannot write to --out " + f.resolve("run") + ": " + f + " is not a directory");
        CliRun.of("caption", "demo", "--out", f.toString(), "--images", "10")
                .assertOneLineError("cannot write to --out " + f + ": " + f + " exists and is not a directory");
    }
}
