package org.charrnn.viz;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * What the {@link ReportPage} reads from a run directory: {@code metrics.jsonl} (lines that do not
 * parse, e.g. one being written, are skipped; after a resume, rows of a repeated iteration replace
 * the earlier ones and wall time continues from the earlier segment's end) and the samples written
 * at checkpoints ({@code ckpt-*.sample.txt}).
 */
public final class RunMetrics {
    private RunMetrics() {}

    private static final Pattern SAMPLE = Pattern.compile("ckpt-(\\d+)\\.sample\\.txt");

    /** One training iteration's metrics; {@code wall} is cumulative seconds over all segments of the run. */
    public record IterRow(
            long iter, double epoch, double loss, double gradNorm, double lr, double charsPerS, double wall) {}

    /** One validation; {@code wall} as for the iteration it followed (NaN when unknown). */
    public record ValRow(long iter, double epoch, double valLoss, double wall) {}

    /** The parsed metrics of a run, in iteration order. */
    public record Metrics(List<IterRow> iters, List<ValRow> vals, int badLines) {}

    /** A checkpoint's sample. */
    public record Sample(long iteration, String text) {}

    /** Parses {@code metrics.jsonl} (an absent file gives empty metrics). */
    public static Metrics readMetrics(Path file) {
        if (!Files.isRegularFile(file)) return new Metrics(List.of(), List.of(), 0);
        TreeMap<Long, IterRow> iters = new TreeMap<>();
        TreeMap<Long, ValRow> vals = new TreeMap<>();
        double offset = 0, lastTime = 0;
        int bad = 0;
        // an InputStreamReader turns bytes that are not UTF-8 (a damaged file) into U+FFFD, so their
        // line counts as a bad one instead of failing the whole report
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) continue;
                JsonObject o;
                try {
                    JsonElement e = JsonParser.parseString(line);
                    if (!e.isJsonObject()) {
                        bad++;
                        continue;
                    }
                    o = e.getAsJsonObject();
                    String type = o.has("type") ? o.get("type").getAsString() : "";
                    long it = o.get("iter").getAsLong();
                    double epoch = num(o, "epoch");
                    if (type.equals("iter")) {
                        double time = num(o, "time_s");
                        if (Double.isFinite(time)) {
                            if (time < lastTime) offset += lastTime; // a new process (resume): its clock starts again
                            lastTime = time;
                        }
                        iters.put(
                                it,
                                new IterRow(
                                        it,
                                        epoch,
                                        num(o, "loss"),
                                        num(o, "grad_norm"),
                                        num(o, "lr"),
                                        num(o, "chars_per_s"),
                                        Double.isFinite(time) ? offset + time : Double.NaN));
                    } else if (type.equals("val")) {
                        IterRow at = iters.get(it);
                        vals.put(it, new ValRow(it, epoch, num(o, "val_loss"), at != null ? at.wall() : Double.NaN));
                    } else {
                        bad++;
                    }
                } catch (RuntimeException ex) {
                    bad++;
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        return new Metrics(new ArrayList<>(iters.values()), new ArrayList<>(vals.values()), bad);
    }

    private static double num(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) return Double.NaN;
        try {
            return e.getAsDouble();
        } catch (RuntimeException ex) {
            return Double.NaN;
        }
    }

    /** The samples written at checkpoints ({@code ckpt-NNNNNNNN.sample.txt}), oldest iteration first. */
    public static List<Sample> readSamples(Path runDir) {
        TreeMap<Long, Path> files = new TreeMap<>();
        try (Stream<Path> s = Files.list(runDir)) {
            s.forEach(p -> {
                Matcher m = SAMPLE.matcher(p.getFileName().toString());
                if (m.matches()) files.put(Long.parseLong(m.group(1)), p);
            });
        } catch (IOException e) {
            throw new UserError("cannot list " + runDir + ": " + IoErrors.reason(e), e);
        }
        List<Sample> out = new ArrayList<>();
        for (Map.Entry<Long, Path> e : files.entrySet()) {
            try {
                out.add(new Sample(e.getKey(), new String(Files.readAllBytes(e.getValue()), StandardCharsets.UTF_8)));
            } catch (IOException ex) {
                // a checkpoint pruned while the report is being written: leave its sample out
            }
        }
        return out;
    }
}
