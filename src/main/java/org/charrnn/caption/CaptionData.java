package org.charrnn.caption;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.charrnn.io.Safetensors;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * Image features and their captions: a safetensors file holding one float32 tensor [N, F] (row i is
 * image i), and JSON lines {@code {"image": i, "caption": "..."}} (several captions per image
 * allowed). Every problem with either file is a one-line {@link UserError}.
 */
public final class CaptionData {
    /** One caption of image {@code image}. */
    public record Caption(int image, String text) {}

    /** Feature vectors, row-major [N, F]. */
    public record Features(int count, int width, double[] values) {
        /** The feature rows of {@code images}, [images.length, F]. */
        public double[] rows(int[] images) {
            double[] out = new double[images.length * width];
            for (int b = 0; b < images.length; b++) System.arraycopy(values, images[b] * width, out, b * width, width);
            return out;
        }
    }

    private CaptionData() {}

    /** Reads the features file: exactly one tensor, of rank 2 and dtype float32. */
    public static Features readFeatures(Path file) {
        if (!Files.exists(file)) throw new UserError("features file " + file + " does not exist");
        if (Files.isDirectory(file)) throw new UserError("features file " + file + " is a directory");
        if (!Files.isRegularFile(file)) throw new UserError("features file " + file + " " + AtomicFile.SPECIAL);
        Safetensors.Contents c = Safetensors.read(file);
        if (c.tensors().size() != 1)
            throw new UserError("features file " + file + " holds "
                    + c.tensors().size() + " tensors; it must hold exactly one [N, F] float32 tensor");
        Safetensors.Tensor t = c.tensors().values().iterator().next();
        if (t.shape().length != 2)
            throw new UserError("features file " + file + ": tensor '" + t.name() + "' has shape "
                    + Arrays.toString(t.shape()) + " (rank " + t.shape().length + "); expected rank 2, [N, F]");
        if (t.dtype() != Safetensors.DType.F32)
            throw new UserError(
                    "features file " + file + ": tensor '" + t.name() + "' has dtype " + t.dtype() + "; expected F32");
        if (t.shape()[0] < 1 || t.shape()[1] < 1)
            throw new UserError("features file " + file + ": tensor '" + t.name() + "' is empty, shape "
                    + Arrays.toString(t.shape()));
        for (double v : t.values())
            if (!Double.isFinite(v))
                throw new UserError("features file " + file + ": tensor '" + t.name() + "' holds NaN or Inf");
        return new Features((int) t.shape()[0], (int) t.shape()[1], t.values());
    }

    /** Reads the captions; image indices are checked against {@code images} feature rows. */
    public static List<Caption> readCaptions(Path file, int images) {
        // opening a pipe would wait for a writer; a directory would be read as "Is a directory"
        if (Files.isDirectory(file)) throw new UserError("captions file " + file + " is a directory");
        if (AtomicFile.isSpecial(file)) throw new UserError("captions file " + file + " " + AtomicFile.SPECIAL);
        List<Caption> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) continue;
                out.add(parse(file, n, line, images));
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError("captions file " + file + " does not exist");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new UserError("captions file " + file + " is not UTF-8 text (JSON lines)", e);
        } catch (IOException e) {
            throw new UserError("cannot read captions file " + file + ": " + IoErrors.reason(e), e);
        }
        if (out.isEmpty()) throw new UserError("captions file " + file + " holds no captions");
        return out;
    }

    private static Caption parse(Path file, int lineNo, String line, int images) {
        String where = file + " line " + lineNo;
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(line);
            if (!e.isJsonObject()) throw new UserError(where + ": not a JSON object");
            o = e.getAsJsonObject();
        } catch (RuntimeException e) {
            if (e instanceof UserError u) throw u;
            throw new UserError(where + ": not valid JSON");
        }
        JsonElement img = o.get("image"), cap = o.get("caption");
        if (img == null || !img.isJsonPrimitive() || !img.getAsJsonPrimitive().isNumber())
            throw new UserError(where + ": \"image\" must be a number");
        if (cap == null || !cap.isJsonPrimitive() || !cap.getAsJsonPrimitive().isString())
            throw new UserError(where + ": \"caption\" must be a string");
        double d = img.getAsDouble();
        if (d != Math.rint(d))
            throw new UserError(where + ": image " + img.getAsString() + " is not a whole number (a feature row)");
        if (d < 0 || d >= images)
            throw new UserError(where + ": image " + img.getAsString() + " is outside the " + images
                    + " feature rows (0.." + (images - 1) + ")");
        String text = cap.getAsString();
        if (text.isEmpty()) throw new UserError(where + ": empty caption");
        return new Caption((int) d, text);
    }

    /**
     * The held-out images: a seeded shuffle of the images that have captions, the first
     * round(valFrac * count) of them, at least one when valFrac > 0 and two or more have captions,
     * and never all of them: a single captioned image is kept for training, with nothing held out.
     */
    public static boolean[] validationImages(List<Caption> captions, int images, double valFrac, long seed) {
        // NaN is refused too (it held out nothing)
        if (!(valFrac >= 0 && valFrac < 1))
            throw new IllegalArgumentException("--val-frac must be in [0, 1), got " + valFrac);
        boolean[] has = new boolean[images];
        for (Caption c : captions) has[c.image()] = true;
        int[] ids =
                java.util.stream.IntStream.range(0, images).filter(i -> has[i]).toArray();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = ids.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = ids[i];
            ids[i] = ids[j];
            ids[j] = t;
        }
        int nVal = (int) Math.round(valFrac * ids.length);
        if (valFrac > 0 && ids.length >= 2) nVal = Math.max(1, nVal);
        nVal = Math.min(nVal, Math.max(0, ids.length - 1)); // one image at least is left to train on
        boolean[] val = new boolean[images];
        for (int i = 0; i < nVal; i++) val[ids[i]] = true;
        return val;
    }

    /** The captions whose image is (or is not) in {@code val}. */
    public static List<Caption> select(List<Caption> captions, boolean[] val, boolean wantVal) {
        List<Caption> out = new ArrayList<>();
        for (Caption c : captions) if (val[c.image()] == wantVal) out.add(c);
        return out;
    }
}
