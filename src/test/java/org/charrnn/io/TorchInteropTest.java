package org.charrnn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.charrnn.LanguageModel;
import org.charrnn.backend.BackendOptions;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.Encoding;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.testutil.TestData;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.Trainer;
import org.charrnn.util.Progress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints load into PyTorch: {@code bench/torch_load_check.py} builds nn.Embedding +
 * nn.LSTM/GRU/RNN + nn.Linear from a checkpoint's metadata, loads it with
 * {@code safetensors.torch.load_file} + {@code load_state_dict(strict=True)} and evaluates a text;
 * its loss must equal the reference backend's on the same text, B and T. This proves tensor names,
 * shapes, gate order and the vocabulary mapping (code points beyond the BMP, bytes, the unknown
 * symbol) together.
 *
 * <p>Needs a Python with torch and safetensors: {@code $CHARRNN_PYTHON}, else {@code python3}
 * (.ci/run provides one where it can); skips otherwise.
 */
class TorchInteropTest {
    /** PyTorch evaluates in float32, the reference in double: agreement within a float32 forward's error. */
    private static final double ATOL = 1e-5, RTOL = 1e-5;

    private static final int B = 5, T = 16;
    private static final String KOREAN = "동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세 🌸🌿\n";

    private static String python;
    private static String unavailable; // why the check cannot run here, or null

    @BeforeAll
    static void findTorch() throws Exception {
        String env = System.getenv("CHARRNN_PYTHON");
        python = env != null && !env.isBlank() ? env : "python3";
        String script = System.getProperty("charrnn.torchcheck");
        if (script == null || !Files.isRegularFile(Path.of(script))) {
            unavailable = "charrnn.torchcheck (bench/torch_load_check.py) not set by the build";
            return;
        }
        Result probe = runPython(List.of(python, "-c", "import torch, safetensors"), 120);
        if (probe == null || probe.code != 0)
            unavailable =
                    python + " cannot import torch and safetensors (set CHARRNN_PYTHON): PyTorch interop not checked";
    }

    static List<Arguments> cases() {
        String text = TestData.pseudoText(4000, 21);
        return List.of(
                Arguments.of(CellType.LSTM, text, Encoding.UTF8, 0),
                Arguments.of(CellType.GRU, text, Encoding.UTF8, 0),
                Arguments.of(CellType.RNN, text, Encoding.UTF8, 0),
                Arguments.of(CellType.LSTM, KOREAN.repeat(40), Encoding.UTF8, 0), // supplementary-plane code points
                Arguments.of(CellType.GRU, KOREAN.repeat(40), Encoding.BYTES, 12), // raw bytes, rare ones -> unknown
                Arguments.of(CellType.MUT1, text, Encoding.UTF8, 0), // the Mut module of the script
                Arguments.of(CellType.MUT2, text, Encoding.UTF8, 0),
                Arguments.of(CellType.MUT3, text, Encoding.UTF8, 0));
    }

    @ParameterizedTest(name = "{0} {2} max-vocab {3}")
    @MethodSource("cases")
    void pytorchLoadsTheCheckpointAndComputesTheSameLoss(
            CellType cell, String text, Encoding encoding, int maxVocab, @TempDir Path dir) throws Exception {
        assumeTrue(unavailable == null, unavailable);
        Path corpusFile = Files.writeString(dir.resolve("corpus.txt"), text, StandardCharsets.UTF_8);
        CorpusOptions co = new CorpusOptions(encoding, maxVocab, 0.1, 0.0, null);
        Path run = dir.resolve("run");
        TrainConfig cfg = TrainConfig.defaults()
                .withModel(new ModelSpec(cell, 2, 12, cell.feedsInputDirectly() ? 12 : 7, 0.2))
                .withBatching(new TrainConfig.Batching(4, 12))
                .withLimits(new TrainConfig.Limits(50, 25))
                .withValidation(new TrainConfig.Validation(1000, 0))
                .withCheckpointing(new TrainConfig.Checkpointing(run, 1000, 3))
                .withReporting(new TrainConfig.Reporting(100, 0, 0.8))
                .withSeed(5);
        try (Corpus c = Corpus.open(corpusFile, co, Progress.NONE);
                Trainer t = new Trainer(
                        cfg,
                        new Trainer.Data(c.vocabulary(), c.train(), c.val(), c.summary()),
                        Trainer.Options.defaults()
                                .withBackend("reference", BackendOptions.defaults())
                                .withOutput(true, line -> {}, sample -> {}))) {
            t.run();
        }
        Path ckpt = Checkpoint.modelPath(run, 25);

        double ours;
        try (LanguageModel lm = LanguageModel.load(ckpt, "reference", BackendOptions.defaults(), line -> {});
                Corpus c = Corpus.open(corpusFile, lm.vocabulary(), co, Progress.NONE)) {
            ours = lm.evaluate(c.tokens(), B, T).natsPerChar();
        }

        Result r = runPython(
                List.of(
                        python,
                        System.getProperty("charrnn.torchcheck"),
                        ckpt.toString(),
                        corpusFile.toString(),
                        "--batch",
                        Integer.toString(B),
                        "--seq",
                        Integer.toString(T),
                        "--expect",
                        String.format(Locale.ROOT, "%.12f", ours)),
                300);
        assertTrue(r != null, "torch_load_check.py did not finish");
        assertEquals(0, r.code, r.output);
        String json = r.output
                .lines()
                .filter(l -> l.startsWith("{"))
                .reduce((a, b) -> b)
                .orElseThrow();
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        double theirs = o.get("nats_per_char").getAsDouble();
        double err = Math.abs(theirs - ours);
        assertTrue(
                err <= ATOL + RTOL * Math.abs(ours),
                String.format(Locale.ROOT, "PyTorch %.8f vs reference %.8f nats/char: error %.3g", theirs, ours, err));
        assertTrue(ours > 0 && Double.isFinite(ours));
        System.out.printf(
                Locale.ROOT,
                "PyTorch interop %s %s: %.8f vs %.8f nats/char, error %.2e%n",
                cell.id(),
                encoding,
                theirs,
                ours,
                err);
    }

    private record Result(int code, String output) {}

    /** Runs a command, returning its exit code and merged output, or null if it cannot start or times out. */
    private static Result runPython(List<String> command, int timeoutSeconds) throws InterruptedException, IOException {
        Path log = Files.createTempFile("charrnn-torch", ".log");
        try {
            Process p;
            try {
                p = new ProcessBuilder(new ArrayList<>(command))
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
            } catch (IOException e) {
                return null; // no such interpreter
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
