package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link KernelProfile}: ncu's CSV read, split into whole steps at the optimizer's kernel, and
 * set beside the step cost model's operations. A profile written from the model's own operations
 * (each under the kernel name the backend launches, at the model's price) must come back equal,
 * row by row; CudaStepLaunchesTest checks the same keys against the launches of real steps.
 */
class KernelProfileTest {
    static final String HEADER = "\"ID\",\"Process ID\",\"Process Name\",\"Host Name\",\"Kernel Name\",\"Context\","
            + "\"Stream\",\"Block Size\",\"Grid Size\",\"Device\",\"CC\",\"Section Name\",\"Metric Name\",\"Metric Unit\","
            + "\"Metric Value\"";
    private static final String CUBLAS = "sm90_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize64x64x8_cublas";

    @TempDir
    Path dir;

    /** One launch's row: ncu's columns, the duration in ns with a thousands separator where it has one. */
    static String row(int id, String kernel, String metric, double us) {
        return String.format(
                Locale.ROOT,
                "\"%d\",\"4242\",\"java\",\"gpu\",\"%s\",\"1\",\"13\",\"(256, 1, 1)\",\"(104, 1, 1)\",\"0\",\"9.0\","
                        + "\"Command line profiler metrics\",\"%s\",\"nsecond\",\"%,.2f\"",
                id,
                kernel,
                metric,
                us * 1e3);
    }

    /** The kernel the backend launches for a model operation of key {@code key} (LSTM, the cluster layout; RNN pairs). */
    private static String kernelOf(String key) {
        return switch (key) {
            case KernelProfile.GEMM -> CUBLAS;
            case "persistent forward" -> "persistent_lstm_forward_cluster";
            case "persistent backward" -> "persistent_lstm_backward_cluster_rows";
            case "persistent pair forward" -> "persistent_rnn_pair_forward_cluster";
            case "persistent pair backward" -> "persistent_rnn_pair_backward_cluster";
            default -> KernelProfile.OURS.contains(key) ? key : key + "_u8";
        };
    }

    /**
     * ncu's CSV of {@code steps} steps of the model's own operations of {@code cfg} (after a first step
     * with a kernel that runs once), each at its price, a GEMM as {@code gemmLaunches} launches that
     * share it (cuBLAS's GEMM, then a split-k reduction), and a second metric's rows between.
     */
    static List<String> modelProfile(ModelConfig cfg, int B, int T, Precision p, int steps, int gemmLaunches) {
        List<String> lines = new ArrayList<>(List.of("==PROF== Connected to process 4242 (/tmp/jre/bin/java)", HEADER));
        int id = 0;
        lines.add(row(id++, "f32_to_bf16", "gpu__time_duration.sum", 3.0));
        lines.add(row(id++, "adam_step", "gpu__time_duration.sum", 9.0));
        for (int s = 0; s < steps; s++)
            for (StepTrace.Op op :
                    StepCostModel.trace(cfg, B, T, p, RnnKernel.AUTO).ops()) {
                if (!KernelProfile.launchesKernel(op)) continue;
                String key = KernelProfile.opKey(op.name());
                int n = key.equals(KernelProfile.GEMM) ? gemmLaunches : 1;
                for (int k = 0; k < n; k++) {
                    String kernel = k == 0 ? kernelOf(key) : "void splitKreduce_kernel<32, 16, int, float>(float *)";
                    lines.add(row(id, kernel, "gpu__time_duration.sum", op.us() / n));
                    lines.add(row(id++, "x", "sm__cycles_elapsed.avg", 1.0));
                }
            }
        lines.add("==PROF== Disconnected from process 4242");
        return lines;
    }

    @ParameterizedTest(name = "{0} L{1} H{2} {3}, {4} launches a GEMM")
    @CsvSource({"LSTM, 2, 256, FP32, 1", "LSTM, 1, 128, TF32, 2", "GRU, 2, 256, FP32, 1", "RNN, 2, 256, TF32, 2"})
    void theModelsOwnOperationsComeBackRowByRow(CellType cell, int L, int H, Precision p, int gemmLaunches)
            throws IOException {
        ModelConfig cfg = new ModelConfig(cell, 65, H, H, L, 0.0);
        Path csv = dir.resolve("profile.csv");
        Files.write(csv, modelProfile(cfg, 50, 50, p, 3, gemmLaunches), StandardCharsets.UTF_8);
        String md = KernelProfile.markdown(cfg, 50, 50, p, RnnKernel.AUTO, "row", csv);
        assertTrue(md.contains("3 whole steps after 2 launches"), md);
        String[] tables = md.split("op by op");
        assertEquals(2, tables.length, md);
        List<String> byKey = rows(tables[0]), byOp = rows(tables[1]);
        assertTrue(byKey.size() > 8, md);
        for (String r : byKey) {
            String[] c = cells(r);
            double launches = Double.parseDouble(c[3]) / (c[0].contains("GEMM") ? gemmLaunches : 1);
            // but the "all kernels" row, which counts cuBLAS's extra launches among the others
            if (!c[0].equals("all kernels"))
                assertEquals(Double.parseDouble(c[2]), launches, 1e-9, "launches a step: " + r);
            assertEquals(Double.parseDouble(c[4]), Double.parseDouble(c[5]), 0.11, "µs a step: " + r);
            assertEquals("1.00", c[6], r);
        }
        // the RNN's two layers run as one launch a pass at this row (PairCostModel)
        String forward = cell == CellType.RNN ? "persistent pair forward" : "persistent forward";
        int launches = cell == CellType.RNN ? L / 2 : L;
        assertTrue(md.contains("| " + forward + " | forward recurrence | " + launches + " | " + launches + ".0 |"), md);
        assertTrue(md.contains("| all kernels |"), md);
        long kernelOps = StepCostModel.trace(cfg, 50, 50, p, RnnKernel.AUTO).ops().stream()
                .filter(KernelProfile::launchesKernel)
                .count();
        assertEquals(kernelOps, byOp.size(), "one row an operation: " + md);
        for (String r : byOp) {
            String[] c = cells(r);
            assertEquals(Double.parseDouble(c[4]), Double.parseDouble(c[5]), 0.11, r);
            assertTrue(List.of("main", "side").contains(c[2]), r);
        }
    }

    /** A profile whose launches do not follow the model's operations keeps its table by kernel and says why. */
    @Test
    void launchesOutOfTheModelsOrderAreNotSetBesideItsOperations() throws IOException {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 128, 128, 1, 0.0);
        List<String> lines = modelProfile(cfg, 50, 50, Precision.FP32, 3, 1);
        int decoder = lines.indexOf(lines.stream()
                .filter(l -> l.contains("\"decoder_xent\""))
                .reduce((a, b) -> b)
                .get());
        String moved = lines.remove(decoder); // the last step's fused decoder, four launches later
        lines.add(decoder + 4, moved);
        Path csv = dir.resolve("profile.csv");
        Files.write(csv, lines, StandardCharsets.UTF_8);
        String md = KernelProfile.markdown(cfg, 50, 50, Precision.FP32, RnnKernel.AUTO, "row", csv);
        assertTrue(md.contains("| decoder_xent | other kernels | 1 | 1.0 |"), md);
        assertTrue(md.contains("op by op: the launches do not follow the model's operations: operation "), md);
        assertTrue(md.contains("(decoder_xent + loss sum) meets launch "), md);
    }

    /** A step of more operations than the table op by op takes (a stepwise row) keeps its table by kernel. */
    @Test
    void aStepOfManyOperationsIsLeftOutOfTheTableOpByOp() throws IOException {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 1024, 1024, 2, 0.0); // stepwise in fp32 by the model
        Path csv = dir.resolve("profile.csv");
        Files.write(csv, modelProfile(cfg, 50, 50, Precision.FP32, 2, 1), StandardCharsets.UTF_8);
        String md = KernelProfile.markdown(cfg, 50, 50, Precision.FP32, RnnKernel.AUTO, "row", csv);
        assertTrue(md.contains("| lstm_forward_step | forward recurrence | 100 | 100.0 |"), md);
        assertTrue(md.contains("op by op: left out ("), md);
        assertTrue(md.contains("more than " + KernelProfile.MOST_OPERATIONS + ")"), md);
    }

    /** The rows of the first Markdown table in {@code text}. */
    private static List<String> rows(String text) {
        return text.lines()
                .dropWhile(l -> !l.startsWith("|---"))
                .skip(1)
                .takeWhile(l -> l.startsWith("| "))
                .toList();
    }

    private static String[] cells(String row) {
        return row.substring(2, row.length() - 2).split(" \\| ");
    }

    @Test
    void stepsEndAtTheOptimizersKernels() {
        List<KernelProfile.Launch> l = Stream.of(
                        "gather_window_u8",
                        "adam_step",
                        "cublas",
                        "adam_step",
                        "gemv2T",
                        "adam_step_dev",
                        "global_norm")
                .map(k -> new KernelProfile.Launch(k, 1))
                .toList();
        KernelProfile p = KernelProfile.of(l, "x");
        assertEquals(2, p.steps(), "the first step is left out, and the launches after the last update");
        UserError e = assertThrows(UserError.class, () -> KernelProfile.of(l.subList(0, 3), "f.csv"));
        assertTrue(e.getMessage().contains("f.csv holds 1 training step(s)"), e.getMessage());
    }

    @Test
    void keysNameTheOperationAKernelRuns() {
        assertEquals("persistent forward", KernelProfile.kernelKey("persistent_gru_forward_cluster"));
        assertEquals("persistent backward", KernelProfile.kernelKey("persistent_rnn_backward"));
        assertEquals("persistent backward", KernelProfile.kernelKey("persistent_lstm_backward_cluster_rows"));
        assertEquals("persistent pair forward", KernelProfile.kernelKey("persistent_rnn_pair_forward_cluster"));
        assertEquals("persistent pair backward", KernelProfile.kernelKey("persistent_rnn_pair_backward_cluster"));
        assertEquals("persistent pair forward", KernelProfile.opKey("persistent pair forward"));
        assertEquals("gather_window", KernelProfile.kernelKey("gather_window_u16"));
        assertEquals("adam_step", KernelProfile.kernelKey("adam_step_dev"));
        assertEquals(KernelProfile.GEMM, KernelProfile.kernelKey("gemm_tiled"));
        assertEquals(KernelProfile.GEMM, KernelProfile.kernelKey(CUBLAS));
        assertEquals(KernelProfile.GEMM, KernelProfile.opKey("gemm 2500x1024x256"));
        assertEquals("softmax_xent", KernelProfile.opKey("softmax_xent + loss sum"));
        assertEquals("column_sum", KernelProfile.opKey("column_sum (two outputs)"));
        assertEquals("gru_backward_step", KernelProfile.opKey("gru_backward"));
        assertEquals("mut_tanh_h", KernelProfile.opKey("mut_tanh_h"));
        assertEquals(StepPart.FORWARD_RECURRENCE, KernelProfile.part("mut_tanh_h"));
        assertEquals(StepPart.BACKWARD_RECURRENCE, KernelProfile.part("mut_gates_backward"));
        assertEquals(StepPart.KERNELS, KernelProfile.part("dropout_forward"));
        assertEquals(StepPart.UPDATE, KernelProfile.part("global_norm"));
        assertEquals("gemv2T_kernel_val", KernelProfile.baseName("void gemv2T_kernel_val<int, int, float>(float *)"));
        assertEquals(1.5, KernelProfile.micros("1,500", "nsecond", "f", 2), 1e-12);
        assertEquals(2e3, KernelProfile.micros("2", "msecond", "f", 2), 1e-9);
        assertEquals(List.of("a,b", "c\"d", ""), KernelProfile.fields("\"a,b\",\"c\"\"d\",\"\""));
    }

    @Test
    void oursAreEveryKernelOfTheSources() throws IOException {
        Path cuda = Path.of(System.getProperty("charrnn.kernels"), "cuda");
        Pattern kernel = Pattern.compile(
                "extern \"C\" __global__ void\\s+(?:__launch_bounds__\\([^)]*\\)\\s*)?(?:CR_CLUSTER_KERNEL\\s*)?(\\w+)\\s*\\(");
        Set<String> found = new TreeSet<>();
        int globals = 0;
        try (Stream<Path> files = Files.list(cuda)) {
            for (Path f : files.filter(f -> f.toString().matches(".*\\.cuh?$")).toList()) {
                String src = Files.readString(f, StandardCharsets.UTF_8);
                Matcher m = kernel.matcher(src);
                while (m.find()) found.add(m.group(1));
                globals += src.split("__global__", -1).length - 1;
            }
        }
        assertEquals(globals, found.size(), "every __global__ of kernels/cuda read: " + found);
        assertEquals(found, new TreeSet<>(KernelProfile.OURS));
    }

    @Test
    void whatIsNoProfileIsAOneLineError() throws IOException {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 128, 128, 1, 0.0);
        Path csv = dir.resolve("p.csv");
        Files.write(csv, List.of("ID,name", "1,x"));
        assertError(csv, "is not ncu's CSV");
        Files.write(csv, List.of(HEADER, row(0, "adam_step", "sm__cycles_elapsed.avg", 1)));
        assertError(csv, "has no rows of metric gpu__time_duration.sum");
        Files.write(
                csv,
                List.of(HEADER, row(0, "adam_step", "gpu__time_duration.sum", 1).replace("nsecond", "furlong")));
        assertError(csv, "unknown duration unit 'furlong'");
        assertError(dir.resolve("none.csv"), "cannot read");
        assertTrue(assertThrows(
                        UserError.class,
                        () -> KernelProfile.markdown(cfg, 5, 5, Precision.BF16, RnnKernel.AUTO, "r", csv))
                .getMessage()
                .contains("fp32 and tf32"));
    }

    private static void assertError(Path csv, String expect) {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 128, 128, 1, 0.0);
        UserError e = assertThrows(
                UserError.class, () -> KernelProfile.markdown(cfg, 5, 5, Precision.FP32, RnnKernel.AUTO, "r", csv));
        assertTrue(e.getMessage().contains(expect), e.getMessage());
        assertTrue(
                e.getMessage().startsWith(csv.toString()) || e.getMessage().startsWith("cannot read"), e.getMessage());
    }
}
