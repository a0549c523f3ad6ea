package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.charrnn.backend.Backends;
import org.charrnn.backend.cuda.CudaBackendProvider;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** charrnn bench on the command line: a tiny run, the report modes, and one-line errors with exit 2. */
class BenchCliTest {
    @TempDir
    Path dir;

    /** {@code bench --predict} of the L2 H256 rows beside the rows of {@code from}, with {@code more} options. */
    private static CliRun predictL2H256(Path from, String... more) {
        List<String> args = new ArrayList<>(
                List.of("bench", "--predict", "--layers", "2", "--hidden", "256", "--from", from.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static void assertOneLineError(CliRun r, String expect) {
        r.assertOneLineError(expect);
        assertEquals("", r.out());
    }

    @Test
    void tinyRunPrintsTableAndAppendsJsonLines() throws Exception {
        Path json = dir.resolve("r.jsonl");
        String[] args = {
            "bench",
            "--backend",
            "reference",
            "--threads",
            "1",
            "--model",
            "rnn,gru",
            "--layers",
            "1",
            "--hidden",
            "6",
            "--batch",
            "2",
            "--seq",
            "3",
            "--steps",
            "2",
            "--warmup",
            "1",
            "--json",
            json.toString(),
            "--quiet"
        };
        CliRun r = run(args);
        assertEquals(0, r.code(), r.err());
        assertEquals(
                1, r.err().split("backend: reference on", -1).length - 1, "each distinct log line once: " + r.err());
        String[] table = r.out().strip().split("\n");
        assertEquals(3, table.length, r.out());
        assertTrue(
                table[0].startsWith("impl") && table[0].contains("ms/step") && table[0].contains("chars/s"), table[0]);
        assertTrue(table[1].startsWith("charrnn-reference  fp64") && table[1].contains(" rnn "), table[1]);
        assertTrue(table[2].contains(" gru "), table[2]);
        assertEquals(
                table[0].indexOf("ms/step") + "ms/step".length(),
                table[1].indexOf(' ', table[1].indexOf('.', table[0].indexOf("T  ") + 3)),
                "numbers right-aligned under the header");
        assertEquals(0, run(args).code());
        List<String> lines = Files.readAllLines(json);
        assertEquals(4, lines.size(), "appended");
        for (String l : lines)
            assertTrue(JsonParser.parseString(l)
                            .getAsJsonObject()
                            .get("ms_per_step")
                            .getAsDouble()
                    > 0);

        Path torch = dir.resolve("torch.jsonl");
        Files.writeString(
                torch,
                "{\"impl\": \"pytorch\", \"device\": \"d\", \"cell\": \"gru\", \"layers\": 1, \"hidden\": 6, "
                        + "\"batch\": 2, \"seq\": 3, \"tf32\": false, \"ms_per_step\": 0.5, \"chars_per_s\": 12000}\n");
        CliRun cmp = run("bench", "--compare", "--from", json.toString(), "--from", torch.toString());
        assertEquals(0, cmp.code(), cmp.err());
        assertEquals(6, cmp.out().strip().split("\n").length, cmp.out());
        assertTrue(cmp.out().contains("| gru L1 H6 B2 T3 | charrnn-reference fp64 |"), cmp.out());

        Path svg = dir.resolve("out/chart.svg");
        CliRun ch = run("bench", "--chart", svg.toString(), "--from", json.toString(), "--from", torch.toString());
        assertEquals(0, ch.code(), ch.err());
        assertTrue(Files.readString(svg).contains("data-series=\"pytorch fp32\""));

        CliRun only =
                run("bench", "--compare", "--from", json.toString(), "--from", torch.toString(), "--model", "rnn");
        assertEquals(0, only.code(), only.err());
        assertEquals(4, only.out().strip().split("\n").length, "the two rnn rows only: " + only.out());
        assertFalse(only.out().contains("gru"), only.out());
        assertOneLineError(
                run("bench", "--compare", "--from", json.toString(), "--hidden", "999"), "match the given filters");
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a benchmark\n");
        assertOneLineError(
                run("bench", "--compare", "--from", text.toString()),
                "no benchmark rows in [" + text + "]: --from reads the JSON lines of charrnn bench --json");
        assertOneLineError(
                run("bench", "--compare", "--from", torch.toString()), "--compare needs rows of charrnn bench");
    }

    @Test
    void badGrid() {
        assertOneLineError(run("bench", "--grid", "huge"), "unknown grid 'huge'");
    }

    @Test
    void negativeSteps() {
        assertOneLineError(run("bench", "--backend", "reference", "--steps", "-3"), "--steps must be >= 1");
        assertOneLineError(run("bench", "--backend", "reference", "--warmup", "-1"), "--warmup must be >= 0");
        assertOneLineError(
                run("bench", "--backend", "reference", "--steps", "2147483647"),
                "--steps must be at most 1000000, got 2147483647");
        assertOneLineError(
                run("bench", "--backend", "reference", "--warmup", "2147483647"),
                "--warmup must be at most 1000000, got 2147483647");
        assertOneLineError(
                run("bench", "--backend", "reference", "--split-steps", "1000001"),
                "--split-steps must be at most 1000000, got 1000001");
        assertOneLineError(run("bench", "--backend", "reference", "--hidden", "0"), "--hidden must be >= 1");
    }

    @Test
    void unknownModelAndEmptyFilter() {
        assertOneLineError(run("bench", "--model", "transformer"), "unknown model 'transformer'");
        assertOneLineError(run("bench", "--grid", "large", "--hidden", "7"), "no configuration of grid 'large'");
    }

    @Test
    void unavailableCudaIsOneLine() {
        assumeFalse(Backends.provider("cuda").probe().available(), "CUDA is available here");
        assertOneLineError(run("bench", "--backend", "cuda", "--grid", "torch-rnn"), "backend cuda is not available");
    }

    @Test
    void emulatedCudaIsRefused() {
        assumeTrue(
                CudaBackendProvider.emulatorRequested()
                        && Backends.provider("cuda").probe().available(),
                "the emulated CUDA device is not in use");
        assertOneLineError(
                run("bench", "--backend", "cuda", "--grid", "torch-rnn"), "bench refuses the emulated CUDA device");
    }

    @Test
    void barExitsZeroOnlyWhenEveryJudgedRowMeetsIt() throws Exception {
        Path torch = dir.resolve("torch.jsonl");
        Files.write(torch, BarTest.torchRows("lstm", 2, 256, 50, 50, 2.0, 1.6, 155.0));
        Path fast = dir.resolve("fast.jsonl");
        Files.write(fast, List.of(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.3, 120.0)));
        CliRun met = run("bench", "--bar", "--from", fast.toString(), "--from", torch.toString());
        assertEquals(0, met.code(), met.err());
        assertTrue(met.out().strip().startsWith("| config |"), met.out());
        assertTrue(met.out().contains("| 6.67x | 5x | 120.0 | 155.0 | yes |"), met.out());
        assertTrue(met.out().contains("bar: 1 of 1 rows met"), met.out());

        Path slow = dir.resolve("slow.jsonl");
        Files.write(slow, List.of(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 1.0, 120.0)));
        CliRun missed = run("bench", "--compare", "--bar", "--from", slow.toString(), "--from", torch.toString());
        assertEquals(1, missed.code(), "a missed bar is a failed check: " + missed.err());
        assertTrue(missed.out().contains("| ours/pytorch fp32 |"), "--compare's table first: " + missed.out());
        assertTrue(missed.out().contains("| 2.00x | 5x | 120.0 | 155.0 | no (speed) |"), missed.out());
        assertTrue(missed.out().contains("bar: 0 of 1 rows met"), missed.out());

        Path forced = dir.resolve("forced.jsonl");
        Files.write(forced, List.of(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "stepwise", 1.0, 120.0)));
        assertOneLineError(
                run("bench", "--bar", "--from", forced.toString(), "--from", torch.toString()), "--bar judges those");
    }

    @Test
    void predictPrintsTheModelsStepBesidePyTorchsRows() throws Exception {
        Path torch = dir.resolve("torch.jsonl");
        Files.write(torch, BarTest.torchRows("lstm", 2, 256, 50, 50, 2.26, 1.98, 155.0));
        CliRun r = predictL2H256(torch, "--model", "lstm,gru");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[0].startsWith("| config | recurrence |"), r.out());
        List<String> lstm = cells(lines[2]), gru = cells(lines[3]);
        assertEquals("lstm L2 H256 B50 T50", lstm.get(0), lines[2]);
        assertTrue(lstm.get(1).startsWith("persistent both passes ("), lines[2]);
        double predicted = Double.parseDouble(lstm.get(9)), floor = Double.parseDouble(lstm.get(10));
        assertTrue(floor > 0 && floor < predicted, lines[2]);
        // the side stream's hidden part: the parts (columns 2 .. 7) less it make the step
        double parts = 0;
        for (int i = 2; i <= 7; i++) parts += Double.parseDouble(lstm.get(i).replaceAll(" \\(.*", ""));
        double hidden = Double.parseDouble(lstm.get(8));
        assertTrue(hidden > 0, lines[2]);
        assertEquals(parts - hidden, predicted, 0.003, lines[2]);
        String row = "PyTorch's graph row of the same precision: " + lines[2];
        assertEquals("2.26", lstm.get(11), row);
        assertEquals("5x", lstm.get(14), row);
        // the ratios come from the unrounded times: within the printed milliseconds' rounding (0.0005)
        assertEquals(2.26 / predicted, ratio(lstm.get(12)), 2.26 * 0.0005 / (predicted * predicted) + 0.005, row);
        assertEquals(2.26 / floor, ratio(lstm.get(13)), 2.26 * 0.0005 / (floor * floor) + 0.005, row);
        assertEquals("gru L2 H256 B50 T50", gru.get(0), lines[3]);
        assertEquals(List.of("-", "-", "-", "5x"), gru.subList(11, 15), "no PyTorch row for the GRU: " + lines[3]);
        // peak memory: the trace's (CudaTraceMemoryTest: the backend's), beside eager PyTorch's of the row
        double peak = Double.parseDouble(lstm.get(15));
        assertTrue(peak > 32 && peak < 155, lines[2]); // above cuBLAS's 32 MiB workspace, under PyTorch's
        assertEquals("155.0", lstm.get(16), row);
        assertEquals("-", gru.get(16), lines[3]);
        assertTrue(
                r.out().contains("memory: 1 of 1 rows with a PyTorch eager row are predicted at or under its peak\n"),
                r.out());
        assertTrue(r.out().contains("predicted, not measured: charrnn-cuda fp32 on the H200 SXM model"), r.out());
        // by the model the fp32 row meets the bar (5.11x, 2026-12-06); the line counts it
        assertTrue(r.out().contains("bar (speed only): 1 of 1 rows with a PyTorch graph row"), r.out());
        assertTrue(!r.out().contains("out of reach"), r.out());
        // a PyTorch step of 0.5 ms: 5x asks for 0.1 ms, less than the row's products take at the fp32 peak
        Path fast = dir.resolve("fast-torch.jsonl");
        Files.write(fast, BarTest.torchRows("lstm", 2, 256, 50, 50, 0.5, 0.5, 50.0)); // and 50 MiB at its peak
        CliRun f = predictL2H256(fast, "--model", "lstm");
        assertEquals(0, f.code(), f.err());
        String[] fl = f.out().strip().split("\n");
        double ceiling = ratio(cells(fl[2]).get(13));
        assertTrue(ceiling < 5, fl[2]);
        assertTrue(
                f.out()
                        .contains(String.format(
                                Locale.ROOT,
                                "memory: 0 of 1 rows with a PyTorch eager row are predicted at or under its peak (over: lstm"
                                        + " L2 H256 B50 T50 %.1f MiB > 50.0)",
                                peak)),
                f.out());
        assertTrue(
                f.out()
                        .contains(String.format(
                                Locale.ROOT,
                                "out of reach in fp32: 1 row(s) whose matrix products at the fp32 peak alone take longer than"
                                        + " the bar allows (lstm L2 H256 B50 T50 at most %.2fx)",
                                ceiling)),
                f.out());

        assertOneLineError(run("bench", "--predict", "--precision", "bf16"), "fp32 and tf32");
        // a --from file without PyTorch's graph rows of the precision is a mistake, not an empty column
        Path ours = dir.resolve("ours.jsonl");
        Files.write(ours, List.of(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 1.0, 120.0)));
        assertOneLineError(
                run("bench", "--predict", "--from", ours.toString()), "no pytorch-cudagraph rows in fp32 in [");
        assertOneLineError(
                run(
                        "bench",
                        "--predict",
                        "--precision",
                        "tf32",
                        "--from",
                        dir.resolve("nothing.txt").toString()),
                "no such file");
        assertOneLineError(run("bench", "--predict", "--bar", "--from", torch.toString()), "does not combine with");
        assertOneLineError(run("bench", "--predict", "--backend", "opencl"), "models the CUDA backend");
        assertOneLineError(
                run("bench", "--predict", "--json", dir.resolve("p.jsonl").toString()), "measures nothing");
        Path noDir = dir.resolve("no-such-dir").resolve("rows.jsonl");
        assertOneLineError(
                run(
                        "bench",
                        "--backend",
                        "reference",
                        "--model",
                        "rnn",
                        "--hidden",
                        "4",
                        "--steps",
                        "1",
                        "--json",
                        noDir.toString()),
                "cannot write " + noDir + ": " + noDir.getParent() + " does not exist");
    }

    @Test
    void predictSetsOurMeasuredRowsBesideThePrediction() throws Exception {
        Path rows = dir.resolve("rows.jsonl");
        List<String> lines = new ArrayList<>(BarTest.torchRows("lstm", 2, 256, 50, 50, 2.26, 1.98, 155.0));
        lines.add(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.9, 120.0)); // an earlier run
        lines.add(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.5, 120.0)); // the last one counts
        lines.add(BarTest.ours("lstm", 2, 256, 50, 50, "tf32", "auto", 0.25, 120.0)); // another precision
        lines.add(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "stepwise", 3.0, 120.0)); // a forced kernel
        lines.add(BarTest.ours("gru", 2, 256, 50, 50, "fp32", "auto", 0.4, 120.0)
                .replace("\"cell\"", "\"knobs\":{\"charrnn.overlap\":\"off\"},\"cell\"")); // a knob set
        Files.write(rows, lines);
        CliRun r = predictL2H256(rows, "--model", "lstm,gru");
        assertEquals(0, r.code(), r.err());
        String[] out = r.out().strip().split("\n");
        assertTrue(
                out[0].endsWith(
                        "| needed | peak MiB | PyTorch eager peak MiB | measured ms/step | predicted / measured |"),
                out[0]);
        List<String> lstm = cells(out[2]), gru = cells(out[3]);
        double predicted = Double.parseDouble(lstm.get(9));
        assertEquals("0.500", lstm.get(17), out[2]);
        assertEquals(predicted / 0.5, Double.parseDouble(lstm.get(18)), 0.0005 / 0.5 + 0.005, out[2]);
        assertEquals(List.of("-", "-"), gru.subList(17, 19), "the GRU's only row sets a knob: " + out[3]);
        assertTrue(
                r.out()
                        .contains("model against 1 measured row(s) of charrnn-cuda fp32: predicted / measured "
                                + lstm.get(18) + " to " + lstm.get(18)),
                r.out());
        CliRun stepwise = predictL2H256(rows, "--rnn-kernel", "stepwise");
        assertEquals("3.00", cells(stepwise.out().strip().split("\n")[2]).get(17), stepwise.out());
    }

    @Test
    void predictMarksAMeasuredRunThatChoseOtherPasses() throws Exception {
        Path rows = dir.resolve("passes.jsonl");
        String lstm = BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.5, 120.0);
        String gru = BarTest.ours("gru", 2, 256, 50, 50, "fp32", "auto", 0.4, 120.0);
        String rnn = BarTest.ours("rnn", 2, 256, 50, 50, "fp32", "auto", 0.3, 120.0);
        // as CudaOps names the device: the LSTM's run chose stepwise where the model picks persistent,
        // the GRU's the model's passes, the RNN's its passes but one layer a launch where the model
        // runs the two as one
        List<String> lines = new ArrayList<>(BarTest.torchRows("lstm", 2, 256, 50, 50, 2.26, 1.98, 155.0));
        lines.addAll(List.of(
                lstm.replace(
                        "\"NVIDIA H200\"",
                        "\"NVIDIA H200 (cuBLAS, rnn auto (B 50: forward stepwise, backward stepwise))\""),
                gru.replace(
                        "\"NVIDIA H200\"",
                        "\"NVIDIA H200 (cuBLAS, rnn auto (B 50: forward persistent, backward persistent (rows),"
                                + " 13 clusters))\""),
                rnn.replace(
                        "\"NVIDIA H200\"",
                        "\"NVIDIA H200 (cuBLAS, rnn auto (B 50: forward persistent, backward persistent,"
                                + " 13 clusters))\"")));
        Files.write(rows, lines);
        CliRun r = predictL2H256(rows, "--model", "lstm,gru,rnn");
        assertEquals(0, r.code(), r.err());
        String[] out = r.out().strip().split("\n");
        for (int i = 2; i <= 4; i++)
            assertTrue(cells(out[i]).get(1).startsWith("persistent both passes"), "the model's pick: " + out[i]);
        assertTrue(cells(out[2]).get(18).endsWith(" *"), out[2]);
        assertTrue(!cells(out[3]).get(18).contains("*"), out[3]);
        assertTrue(cells(out[4]).get(1).endsWith(", layers two a launch)"), out[4]);
        assertTrue(cells(out[4]).get(18).endsWith(" *"), out[4]);
        assertTrue(
                r.out()
                        .contains("* the measured run chose other passes persistent than the prediction (lstm L2 H256"
                                + " B50 T50: forward stepwise, backward stepwise; rnn L2 H256 B50 T50: forward"
                                + " persistent, backward persistent)"),
                r.out());
        // a run that ran the layers two a launch says so at the end of its device line
        Predictions.Passes paired = Predictions.Passes.ofDevice(
                "NVIDIA H200 (cuBLAS, rnn auto (B 50: forward persistent, backward persistent, 13 clusters), layers"
                        + " two a launch as a wavefront)",
                50);
        assertEquals(Predictions.Passes.ofPrediction(cells(out[4]).get(1)), paired);
        assertEquals("forward persistent, backward persistent, layers two a launch", paired.toString());
    }

    /**
     * {@code --predict --profile}: one row's kernels as ncu's CSV lists them (two steps after the
     * first, each a persistent forward, a cuBLAS GEMM and Adam) beside the model's operations.
     */
    @Test
    void predictSetsOneRowBesideItsProfile() throws Exception {
        String header = "\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"";
        List<String> csv = new ArrayList<>(List.of("==PROF== Connected to process 7", header));
        String[] kernels = {"persistent_lstm_forward_cluster", "sm90_xmma_gemm_f32f32_cublas", "adam_step"};
        for (int i = 0; i < 9; i++)
            csv.add(String.format(
                    "\"%d\",\"%s\",\"gpu__time_duration.sum\",\"nsecond\",\"%s\"",
                    i, kernels[i % 3], i % 3 == 0 ? "40,000.00" : "5,000.00"));
        Path f = dir.resolve("ncu.csv");
        Files.write(f, csv);
        String[] row = {"bench", "--predict", "--layers", "1", "--hidden", "128", "--profile", f.toString()};
        CliRun r = run(row);
        assertEquals(0, r.code(), r.err());
        assertTrue(
                r.out()
                        .contains("lstm L1 H128 B50 T50 fp32 under Nsight Compute (" + f + "): 2 whole steps after 3"
                                + " launches"),
                r.out());
        assertTrue(r.out().contains("| persistent forward | forward recurrence | 1 | 1.0 |"), r.out());
        assertTrue(r.out().contains("| 40.0 |"), "the forward's 40 µs a step: " + r.out());
        assertTrue(
                r.out().lines().anyMatch(l -> l.startsWith("| persistent backward | backward recurrence | 1 | 0.0 |")),
                "the model's backward, which the profile lacks: " + r.out());
        assertTrue(r.out().contains("op by op: the launches do not follow the model's operations: "), r.out());

        assertOneLineError(run("bench", "--predict", "--layers", "1,2", "--profile", f.toString()), "one row, not 2");
        assertOneLineError(run("bench", "--layers", "1", "--profile", f.toString()), "only used with --predict");
        assertOneLineError(run("bench", "--probe", f.toString(), "--profile", f.toString()), "does not combine");
        assertOneLineError(
                run("bench", "--probe", f.toString(), "--grid", "large", "--hidden", "64"),
                "no configuration of grid 'large' matches the given filters: --probe times the GEMMs of its rows' steps");
        Files.write(f, csv.subList(0, 5));
        assertOneLineError(run(row), "--profile: " + f + " holds 1 training step(s)");
    }

    /** "3.94x" -> 3.94. */
    private static double ratio(String cell) {
        assertTrue(cell.endsWith("x"), cell);
        return Double.parseDouble(cell.substring(0, cell.length() - 1));
    }

    /** The cells of a Markdown table row. */
    private static List<String> cells(String row) {
        return Arrays.stream(row.substring(1, row.length() - 1).split("\\|"))
                .map(String::strip)
                .toList();
    }

    @Test
    void reportModesNeedInputs() {
        assertOneLineError(run("bench", "--compare"), "--from");
        assertOneLineError(
                run("bench", "--compare", "--from", dir.resolve("missing.jsonl").toString()), "no such file");
        assertOneLineError(
                run(
                        "bench",
                        "--backend",
                        "reference",
                        "--from",
                        dir.resolve("x").toString()),
                "--from is only used");
    }

    /** Each mode refuses an option it would take and drop, naming the option and what the mode does. */
    @Test
    void eachModeRefusesOptionsItDoesNotRead() throws Exception {
        Path rows = dir.resolve("rows.jsonl");
        Files.write(rows, List.of(BarTest.ours("lstm", 2, 256, 50, 50, "fp32", "auto", 1.0, 120.0)));
        String from = rows.toString();
        String reads =
                ", which reads the --from files' rows (--model, --layers, --hidden, --batch and --seq filter them)";
        assertOneLineError(
                run("bench", "--compare", "--from", from, "--steps", "5"),
                "--steps does not apply to --compare" + reads);
        assertOneLineError(
                run("bench", "--bar", "--from", from, "--precision", "tf32"),
                "--precision does not apply to --bar" + reads);
        assertOneLineError(
                run(
                        "bench",
                        "--chart",
                        dir.resolve("c.svg").toString(),
                        "--from",
                        from,
                        "--json",
                        dir.resolve("j").toString()),
                "--json does not apply to --chart" + reads);
        assertOneLineError(
                run("bench", "--compare", "--from", from, "--grid", "all"), "--grid does not apply to --compare");
        assertOneLineError(
                run("bench", "--compare", "--from", from, "--title", "x"), "--title is only used with --chart");
        assertOneLineError(
                run("bench", "--predict", "--warmup", "3"),
                "--warmup does not apply to --predict, which prices the steps with the step cost model (it runs none)");
        assertOneLineError(run("bench", "--predict", "--device", "1"), "--device does not apply to --predict");
        assertOneLineError(
                run("bench", "--probe", dir.resolve("r.json").toString(), "--steps", "3"),
                "--steps does not apply to --probe, which measures the device's rates of the --grid rows' steps");
        assertOneLineError(run("bench", "--backend", "reference", "--title", "x"), "--title is only used with --chart");
        assertFalse(Files.exists(dir.resolve("c.svg")), "nothing is written");
        // the filters, --quiet and a chart's --title go with the modes that read rows
        CliRun ok = run("bench", "--compare", "--from", from, "--model", "lstm", "--quiet");
        assertEquals(0, ok.code(), ok.err());
        CliRun chart = run("bench", "--chart", dir.resolve("c.svg").toString(), "--from", from, "--title", "t");
        assertEquals(0, chart.code(), chart.err());
    }
}
