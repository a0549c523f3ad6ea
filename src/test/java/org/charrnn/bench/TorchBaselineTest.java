package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.model.CellType;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.PythonScript;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bench/torch_baseline.py, PyTorch's side of {@code charrnn bench}: its grids and filters select
 * the same rows as ours, bad input is one line and exit 2, and a tiny CPU row prints the fields of
 * our JSON lines with the same types, so {@code bench --compare} joins it with a real bench row.
 * Needs a Python ({@code $CHARRNN_PYTHON}, else python3), and torch for the timed row; skips with
 * the reason otherwise.
 */
class TorchBaselineTest {
    /** The fields both JSON lines carry with the same meaning (and JSON type). */
    static final List<String> SHARED = List.of(
            "impl",
            "device",
            "precision",
            "tf32",
            "graph",
            "cell",
            "layers",
            "hidden",
            "embedding",
            "vocab",
            "batch",
            "seq",
            "steps",
            "warmup",
            "ms_per_step",
            "ms_min",
            "chars_per_s",
            "peak_mem_mib",
            "mem_kind",
            "date");

    @TempDir
    Path dir;

    private static Path script;
    private static String noPython; // why the script cannot run here, or null

    @BeforeAll
    static void findPython() throws Exception {
        script = PythonScript.script("charrnn.torchbaseline");
        noPython = script == null
                ? "charrnn.torchbaseline (bench/torch_baseline.py) not set by the build"
                : PythonScript.missing("json", "argparse");
    }

    private static PythonScript.Result run(String... args) throws IOException, InterruptedException {
        assumeTrue(noPython == null, noPython);
        List<String> cmd = new ArrayList<>(List.of(PythonScript.interpreter(), script.toString()));
        cmd.addAll(List.of(args));
        PythonScript.Result r = PythonScript.run(cmd, 300);
        assertNotNull(r, "torch_baseline.py did not finish in 300 s: " + cmd);
        return r;
    }

    private static List<JsonRows.Key> listed(String... args) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of(args));
        a.add("--list");
        PythonScript.Result r = run(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.output());
        List<JsonRows.Key> keys = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            keys.add(new JsonRows.Key(
                    o.get("cell").getAsString(),
                    o.get("layers").getAsInt(),
                    o.get("hidden").getAsInt(),
                    o.get("batch").getAsInt(),
                    o.get("seq").getAsInt()));
        }
        return keys;
    }

    private static List<JsonRows.Key> keys(List<BenchSpec> specs) {
        return specs.stream()
                .map(s -> new JsonRows.Key(s.cell().id(), s.layers(), s.hidden(), s.batch(), s.seq()))
                .toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"torch-rnn", "large", "all"})
    void gridsAreCharrnnBenchGridsRowForRow(String grid) throws Exception {
        assertEquals(keys(Grids.grid(grid)), listed("--grid", grid));
    }

    @Test
    void filtersAndDefaultsSelectAsCharrnnBench() throws Exception {
        assertEquals(
                keys(Grids.filter(
                        Grids.grid("all"),
                        new Grids.Filter(List.of(), List.of(2), List.of(256, 1024), List.of(), List.of()))),
                listed("--grid", "all", "--layers", "2", "--hidden", "256,1024"));
        assertEquals(
                keys(Grids.product(
                        List.of(CellType.GRU, CellType.RNN), List.of(1, 3), List.of(8), List.of(50), List.of(50))),
                listed("--model", "gru,rnn", "--layers", "1,3", "--hidden", "8"));
        assertEquals(List.of(new JsonRows.Key("lstm", 2, 128, 50, 50)), listed(), "charrnn bench's default row");
    }

    @Test
    void badInputIsOneLineAndExit2() throws Exception {
        assertOneLineError(run("--model", "mut1", "--list"), "PyTorch has no mut1 module");
        assertOneLineError(run("--model", "transformer", "--list"), "unknown cell 'transformer'");
        assertOneLineError(run("--steps", "0", "--list"), "--steps must be >= 1");
        assertOneLineError(run("--hidden", "0", "--list"), "--hidden must be >= 1");
        assertOneLineError(run("--graph", "2", "--list"), "--graph takes 0 or 1");
        assertOneLineError(run("--grid", "large", "--hidden", "7", "--list"), "no configuration of grid 'large'");
        assertOneLineError(run("--frobnicate"), "unrecognized arguments: --frobnicate");
    }

    @Test
    void cudaOptionsOnTheCpuAreOneLine() throws Exception {
        assumeTorch();
        assertOneLineError(run("--device", "cpu", "--graph", "1"), "--graph 1 needs CUDA");
        assertOneLineError(run("--device", "cpu", "--tf32", "1"), "--tf32 1 needs CUDA");
    }

    @Test
    void tinyCpuRowJoinsARealBenchRow() throws Exception {
        assumeTorch();
        String[] row = {"--model", "gru", "--layers", "1", "--hidden", "8", "--batch", "2", "--seq", "3"};
        List<String> args = new ArrayList<>(List.of("--device", "cpu", "--steps", "2", "--warmup", "1"));
        args.addAll(List.of("--threads", "1"));
        args.addAll(List.of(row));
        PythonScript.Result r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.output());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, "one JSON line per row on stdout: " + r.out());
        JsonObject torch = JsonParser.parseString(lines[0]).getAsJsonObject();
        assertEquals("pytorch-cpu", torch.get("impl").getAsString());
        assertEquals("fp32", torch.get("precision").getAsString());
        assertFalse(torch.get("tf32").getAsBoolean());
        assertFalse(torch.get("graph").getAsBoolean());
        assertEquals("gru", torch.get("cell").getAsString());
        assertEquals(
                List.of(1, 8, 8, 65, 2, 3, 2, 1),
                ints(torch, "layers", "hidden", "embedding", "vocab", "batch", "seq", "steps", "warmup"));
        double ms = torch.get("ms_per_step").getAsDouble();
        assertTrue(ms > 0 && torch.get("ms_min").getAsDouble() <= ms, lines[0]);
        double cps = torch.get("chars_per_s").getAsDouble();
        assertEquals(6 / ms * 1000, cps, 1 + cps * 1e-3 / ms, "chars/s = B*T / ms (ms rounded to 3 decimals)");
        assertTrue(torch.get("peak_mem_mib").getAsDouble() > 0, lines[0]);
        assertEquals("rss", torch.get("mem_kind").getAsString());

        Path ours = dir.resolve("ours.jsonl"), theirs = dir.resolve("torch.jsonl");
        Files.writeString(theirs, r.out());
        List<String> bench = new ArrayList<>(List.of("bench", "--backend", "reference", "--threads", "1"));
        bench.addAll(List.of(row));
        bench.addAll(List.of("--steps", "2", "--warmup", "1", "--quiet", "--json", ours.toString()));
        CliRun b = CliRun.of(bench.toArray(String[]::new));
        assertEquals(0, b.code(), b.err());
        JsonObject charrnn =
                JsonParser.parseString(Files.readString(ours).strip()).getAsJsonObject();
        for (String f : SHARED) {
            assertTrue(torch.has(f) && charrnn.has(f), "both lines have " + f);
            assertEquals(kind(charrnn.get(f)), kind(torch.get(f)), f + ": " + charrnn.get(f) + " vs " + torch.get(f));
        }

        CliRun cmp = CliRun.of("bench", "--compare", "--from", ours.toString(), "--from", theirs.toString());
        assertEquals(0, cmp.code(), cmp.err());
        String[] table = cmp.out().strip().split("\n");
        assertEquals(3, table.length, cmp.out());
        assertTrue(table[0].endsWith("| pytorch-cpu fp32 ms | ours/pytorch-cpu fp32 |"), table[0]);
        assertTrue(
                table[2].startsWith("| gru L1 H8 B2 T3 | charrnn-reference fp64 |")
                        && table[2].matches(".*\\| [0-9.]+ \\| [0-9.]+ \\|$"),
                "joined, with PyTorch's time and the ratio: " + table[2]);
    }

    private static void assumeTorch() throws InterruptedException {
        assumeTrue(noPython == null, noPython);
        String why = PythonScript.missing("torch");
        assumeTrue(why == null, why);
    }

    private static void assertOneLineError(PythonScript.Result r, String expect) {
        assertEquals(2, r.code(), r.output());
        assertEquals("", r.out());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "expected one line, got: " + r.err());
        assertTrue(lines[0].startsWith("torch_baseline.py: ") && lines[0].contains(expect), lines[0]);
        assertFalse(r.err().contains("Traceback"), "no traceback");
    }

    private static List<Integer> ints(JsonObject o, String... fields) {
        List<Integer> out = new ArrayList<>();
        for (String f : fields) out.add(o.get(f).getAsInt());
        return out;
    }

    /** A JSON value's type: string, number, boolean, null. */
    private static String kind(JsonElement e) {
        if (e.isJsonNull()) return "null";
        if (!e.isJsonPrimitive()) return "structure";
        var p = e.getAsJsonPrimitive();
        return p.isString() ? "string" : p.isNumber() ? "number" : "boolean";
    }
}
