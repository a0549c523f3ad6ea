package org.charrnn.caption;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.charrnn.util.AtomicFile;

/**
 * A caption run's metrics.jsonl, in the row format of {@code charrnn train}'s: one JSON object per
 * line, {@code type} "iter" (loss, grad_norm, lr, time_s) or "val" (val_loss, val_bpc), each with
 * iter and epoch, the other keys in name order. Rows reach the file at every {@link #flush()} (each
 * progress line) and every validation.
 */
public final class CaptionMetrics implements AutoCloseable {
    public static final String FILE = "metrics.jsonl";

    private static final Gson GSON =
            new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private final BufferedWriter out;

    /**
     * Opens {@code dir}/metrics.jsonl: afresh when {@code keepUpTo} is negative, else (a resumed run)
     * keeping the rows of iterations up to {@code keepUpTo} and dropping later ones, which the
     * resumed run writes again.
     */
    public CaptionMetrics(Path dir, long keepUpTo) throws IOException {
        Path file = dir.resolve(FILE);
        AtomicFile.requireNotSpecial(file); // a pipe would block the open until a reader came
        List<String> kept = new ArrayList<>();
        if (keepUpTo >= 0 && Files.isRegularFile(file))
            // bytes that are not UTF-8 (a damaged file) decode to U+FFFD: their line is dropped below
            for (String line : new String(Files.readAllBytes(file), StandardCharsets.UTF_8)
                    .lines()
                    .toList()) {
                try {
                    if (JsonParser.parseString(line)
                                    .getAsJsonObject()
                                    .get("iter")
                                    .getAsLong()
                            <= keepUpTo) kept.add(line);
                } catch (RuntimeException e) {
                    // a line cut short by a killed run: dropped, as the rows after the resumed iteration are
                    continue;
                }
            }
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        for (String line : kept) {
            out.write(line);
            out.newLine();
        }
    }

    /** An "iter" row; {@code seconds} since training started. */
    public void step(CaptionTrainer.Step s, double lr, double seconds) throws IOException {
        write(
                "iter",
                s.iteration(),
                s.epoch(),
                Map.of("loss", s.loss(), "grad_norm", s.gradNorm(), "lr", lr, "time_s", seconds));
    }

    /** A "val" row (NaN when nothing is held out), written through. */
    public void validation(long iteration, double epoch, double valLoss) throws IOException {
        write("val", iteration, epoch, Map.of("val_loss", valLoss, "val_bpc", valLoss / Math.log(2)));
        flush();
    }

    public void flush() throws IOException {
        out.flush();
    }

    private void write(String type, long it, double epoch, Map<String, Double> values) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("iter", it);
        m.put("epoch", epoch);
        m.putAll(new TreeMap<>(values));
        out.write(GSON.toJson(m));
        out.newLine();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
