package org.charrnn.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.charrnn.util.AtomicFile;

/**
 * The run's metrics.jsonl: one JSON object per line, {@code type} "iter" (loss, grad_norm, lr,
 * chars_per_s, time_s) or "val" (val_loss, val_bpc), each with iter and epoch. Rows are appended as
 * they happen and reach the file at every {@link #flush()} (each log line, validation and
 * checkpoint), so a run in progress can be watched and a hard kill loses at most the rows since the
 * last log line.
 */
final class MetricsLog implements AutoCloseable {
    static final String FILE = "metrics.jsonl";

    private static final Gson GSON =
            new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private final BufferedWriter out;

    /** Opens {@code dir}/metrics.jsonl: appended to on a resume, started afresh otherwise. */
    MetricsLog(Path dir, boolean append) throws IOException {
        Path file = dir.resolve(FILE);
        AtomicFile.requireNotSpecial(file); // a pipe would block the open until a reader came
        out = Files.newBufferedWriter(
                file,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                // a fresh run starts the file afresh (leftovers of a run that never checkpointed)
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
    }

    void iteration(TrainListener.Step s, double seconds) throws IOException {
        write(
                "iter",
                s.iteration(),
                s.epoch(),
                Map.of(
                        "loss",
                        s.loss(),
                        "grad_norm",
                        s.gradNorm(),
                        "lr",
                        s.lr(),
                        "chars_per_s",
                        s.charsPerSecond(),
                        "time_s",
                        seconds));
    }

    void validation(long it, double epoch, double valLoss) throws IOException {
        write("val", it, epoch, Map.of("val_loss", valLoss, "val_bpc", valLoss / Math.log(2)));
        flush();
    }

    void flush() throws IOException {
        out.flush();
    }

    private void write(String type, long it, double epoch, Map<String, Double> values) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("iter", it);
        m.put("epoch", epoch);
        values.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> m.put(e.getKey(), e.getValue()));
        out.write(GSON.toJson(m));
        out.newLine();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
