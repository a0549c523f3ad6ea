package org.charrnn.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.charrnn.util.IoErrors;
import org.charrnn.util.JsonErrors;
import org.charrnn.util.UserError;

/**
 * Benchmark rows read back from JSON lines, ours or bench/torch_baseline.py's: only the shared fields
 * are interpreted ({@code rnn_kernel} is "auto" where a row has none: PyTorch's, and ours from before
 * the field; {@code knobs} empty). Lines that are not JSON objects (log output mixed into a capture) are skipped;
 * objects without the key fields are an error.
 */
public record JsonRows(
        String impl,
        String device,
        String precision,
        boolean graph,
        String rnnKernel,
        Map<String, String> knobs,
        String cell,
        int layers,
        int hidden,
        int batch,
        int seq,
        double msPerStep,
        double charsPerS,
        JsonObject raw) {

    /** The join key: cell, layers, hidden, batch, seq. */
    public record Key(String cell, int layers, int hidden, int batch, int seq) {
        public String label() {
            return cell + " L" + layers + " H" + hidden + " B" + batch + " T" + seq;
        }
    }

    public Key key() {
        return new Key(cell, layers, hidden, batch, seq);
    }

    /** True for PyTorch's rows (impl starting with "pytorch"). */
    public boolean isTorch() {
        return impl.startsWith("pytorch");
    }

    /**
     * The series a row belongs to: "charrnn-cuda fp32 graph", "charrnn-cuda fp32 graph persistent" (a
     * forced --rnn-kernel), "charrnn-cuda tf32 graph layerPipeline=off" (a -D knob set), "pytorch
     * fp32", "pytorch-cudagraph tf32".
     */
    public String variant() {
        if (isTorch()) return impl + " " + precision;
        return impl + " " + precision + (graph ? " graph" : "") + (rnnKernel.equals("auto") ? "" : " " + rnnKernel)
                + Knobs.label(knobs);
    }

    /** The row's peak memory in MiB ({@code peak_mem_mib}), NaN where the row has none. */
    public double peakMemMib() {
        JsonElement e = raw.get("peak_mem_mib");
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    /** Parses one JSON object. */
    public static JsonRows of(JsonObject o) {
        for (String f : new String[] {"impl", "cell", "layers", "hidden", "batch", "seq", "ms_per_step"})
            if (!o.has(f) || o.get(f).isJsonNull())
                throw new IllegalArgumentException("benchmark row without '" + f + "': " + o);
        String precision;
        if (o.has("precision")) precision = o.get("precision").getAsString();
        else precision = o.has("tf32") && o.get("tf32").getAsBoolean() ? "tf32" : "fp32";
        double ms = o.get("ms_per_step").getAsDouble();
        int batch = o.get("batch").getAsInt(), seq = o.get("seq").getAsInt();
        double cps = o.has("chars_per_s") ? o.get("chars_per_s").getAsDouble() : batch * (double) seq / ms * 1000;
        return new JsonRows(
                o.get("impl").getAsString(),
                o.has("device") ? o.get("device").getAsString() : "?",
                precision,
                o.has("graph") && o.get("graph").getAsBoolean(),
                o.has("rnn_kernel") && !o.get("rnn_kernel").isJsonNull()
                        ? o.get("rnn_kernel").getAsString()
                        : "auto",
                knobs(o),
                o.get("cell").getAsString(),
                o.get("layers").getAsInt(),
                o.get("hidden").getAsInt(),
                batch,
                seq,
                ms,
                cps,
                o);
    }

    /** The row's {@code knobs} object as names and values; empty where it has none. */
    private static Map<String, String> knobs(JsonObject o) {
        JsonElement e = o.get("knobs");
        if (e == null || e.isJsonNull()) return Map.of();
        if (!e.isJsonObject()) throw new IllegalArgumentException("'knobs' is not an object: " + e);
        Map<String, String> m = new TreeMap<>();
        for (Map.Entry<String, JsonElement> k : e.getAsJsonObject().entrySet())
            m.put(k.getKey(), k.getValue().getAsString());
        return m;
    }

    /** Rows of one JSON-lines text. */
    public static List<JsonRows> parse(String text, String source) {
        List<JsonRows> out = new ArrayList<>();
        String[] lines = text.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.startsWith("{")) continue;
            JsonElement e;
            try {
                e = JsonParser.parseString(line);
            } catch (JsonParseException ex) {
                throw new UserError(source + ":" + (i + 1) + ": not valid JSON: " + JsonErrors.reason(ex));
            }
            if (!e.isJsonObject()) continue;
            try {
                out.add(of(e.getAsJsonObject()));
            } catch (IllegalArgumentException | UnsupportedOperationException | IllegalStateException ex) {
                // a string where a number belongs is a NumberFormatException: JsonErrors says it in words
                throw new UserError(source + ":" + (i + 1) + ": " + JsonErrors.reason(ex));
            }
        }
        return out;
    }

    /** Rows of every file, in order. */
    public static List<JsonRows> read(List<Path> files) {
        List<JsonRows> out = new ArrayList<>();
        for (Path f : files) {
            try {
                out.addAll(parse(Files.readString(f, StandardCharsets.UTF_8), f.toString()));
            } catch (NoSuchFileException e) {
                throw new UserError("no such file: " + f);
            } catch (CharacterCodingException e) {
                throw new UserError(f + " is not UTF-8 text, so not JSON lines", e);
            } catch (IOException e) {
                throw new UserError("cannot read " + f + ": " + IoErrors.reason(e), e);
            }
        }
        return out;
    }
}
