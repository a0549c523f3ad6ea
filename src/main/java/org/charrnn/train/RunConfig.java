package org.charrnn.train;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.data.Encoding;
import org.charrnn.model.CellType;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.ConfigError;
import org.charrnn.util.Durations;
import org.charrnn.util.IoErrors;
import org.charrnn.util.JsonErrors;
import org.charrnn.util.UserError;

/**
 * A run directory's config.json: the {@link TrainConfig} records as they are (snake_case names,
 * integers as integers, enums by their command-line ids), the vocabulary size, a description of
 * the corpus and where the run trained. {@link #fromJson} reads back exactly what {@link #toJson}
 * wrote.
 *
 * @param training  every training setting, data path and encoding included
 * @param vocabSize V of the model
 * @param corpus    human-readable description of the corpus and its splits
 * @param backend   the backend the run started on
 * @param device    its device
 */
public record RunConfig(TrainConfig training, int vocabSize, String corpus, String backend, String device) {

    /** File name inside a run directory. */
    public static final String FILE = "config.json";

    private static final Gson COMPACT = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .registerTypeAdapter(CellType.class, byId(CellType::id, CellType::parse))
            .registerTypeAdapter(OptimizerKind.class, byId(OptimizerKind::id, OptimizerKind::parse))
            .registerTypeAdapter(LrSchedule.class, byId(LrSchedule::id, LrSchedule::parse))
            .registerTypeAdapter(ClipMode.class, byId(ClipMode::id, ClipMode::parse))
            .registerTypeAdapter(Encoding.class, byId(Encoding::id, Encoding::parse))
            .registerTypeHierarchyAdapter(Path.class, byId(Path::toString, Path::of))
            .registerTypeAdapter(Duration.class, byId(Durations::format, Durations::parse))
            .disableHtmlEscaping()
            .create();
    private static final Gson GSON = COMPACT.newBuilder().setPrettyPrinting().create();

    /** Writes values of T as the string {@code id(value)} and reads them with {@code parse}. */
    private static <T> TypeAdapter<T> byId(Function<T, String> id, Function<String, T> parse) {
        return new TypeAdapter<T>() {
            @Override
            public void write(JsonWriter out, T value) throws IOException {
                if (value == null) out.nullValue();
                else out.value(id.apply(value));
            }

            @Override
            public T read(JsonReader in) throws IOException {
                if (in.peek() == JsonToken.NULL) {
                    in.nextNull();
                    return null;
                }
                return parse.apply(in.nextString());
            }
        };
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /** The training records alone, compact (checkpoint metadata). */
    public static String trainingJson(TrainConfig training) {
        return COMPACT.toJson(training);
    }

    /** Each record setting's path in the file, for the records' own messages. */
    private static final Map<String, String> PATHS = ConfigJson.paths(RunConfig.class);

    /**
     * Parses config.json text; a malformed or invalid one is an IllegalArgumentException saying
     * what is wrong and naming the setting by its path in the file.
     */
    public static RunConfig fromJson(String json) {
        JsonElement tree;
        try {
            tree = JsonParser.parseString(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(JsonErrors.reason(e), e);
        }
        if (!tree.isJsonObject()) throw new IllegalArgumentException("not a JSON object");
        // before Gson: it would read a deleted number as 0, and word a wrong type in Java's terms
        ConfigJson.requireWellTyped(tree.getAsJsonObject(), RunConfig.class, "");
        RunConfig c;
        try {
            c = GSON.fromJson(tree, RunConfig.class);
        } catch (RuntimeException e) {
            // Gson wraps what a record's constructor rejects: report the innermost reason
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ConfigError ce) throw new IllegalArgumentException(ce.render(PATHS), e);
                if (t instanceof UserError u) throw new IllegalArgumentException(u.render(PATHS), e);
            }
            throw new IllegalArgumentException(JsonErrors.reason(e), e);
        }
        if (c == null || c.training() == null) throw new IllegalArgumentException("no \"training\" section");
        return c;
    }

    /** Reads {@code dir}/config.json; a missing, unreadable or invalid file is a one-line UserError. */
    public static RunConfig read(Path dir) {
        Path file = dir.resolve(FILE);
        // a pipe would block the read until a writer came
        if (AtomicFile.isSpecial(file)) throw new UserError(file + " " + AtomicFile.SPECIAL);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(
                    (Files.isDirectory(dir)
                                    ? dir + " is not a run directory: it has no " + FILE
                                    : "no such directory: " + dir)
                            + " (give the directory a train run wrote)",
                    e);
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        try {
            return fromJson(text);
        } catch (IllegalArgumentException e) {
            throw new UserError("corrupt " + file + ": " + e.getMessage(), e);
        }
    }
}
