package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.Models;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The step cost model prices the kernels a training step launches, each once, and each GEMM at its
 * shape: the launches of one step of the CUDA backend on the emulated device (its profiler logs
 * every operation that runs between cuProfilerStart and cuProfilerStop, native-test/emu/driver.cpp;
 * a cuBLAS call with its m, n and k) counted by {@link KernelProfile#kernelKey} and GEMM shape equal
 * the model's operations of the same step ({@link StepTrace}, as {@code bench --predict --profile}
 * sets them beside ncu's) counted by {@link KernelProfile#opKey} and GEMM shape,
 * for every cell stepwise and the LSTM, GRU and RNN persistent, eager and replayed from a graph,
 * and the RNN's two layers as one launch a pass ({@link PersistentPairs}), which training with
 * dropout does not run (a layer a launch).
 * A kernel the backend launches that the model leaves out (or prices twice) fails here, as does a
 * model operation whose name no kernel answers to.
 */
@Tag("gpu")
@Tag("emulator") // its launch log is the emulated driver's: gpu-check.sh's junit step leaves it out
class CudaStepLaunchesTest {
    private static final int B = 3;

    @TempDir
    Path dir;

    @BeforeEach
    void requireEmulator() {
        CudaTestSupport.assumeEmulated();
    }

    static Stream<Arguments> cases() {
        List<Arguments> c = new ArrayList<>();
        for (CellType cell : CellType.values())
            c.add(Arguments.of(cell, RnnKernel.STEPWISE, 5, false, 0.0, "auto", "off"));
        for (CellType cell : List.of(CellType.LSTM, CellType.GRU, CellType.RNN)) {
            c.add(Arguments.of(cell, RnnKernel.PERSISTENT, 5, false, 0.0, "auto", "off"));
            c.add(Arguments.of(cell, RnnKernel.PERSISTENT, 5, true, 0.0, "auto", "off"));
        }
        // the layers pipelined by chunks of the window (stepwise, T above a chunk), and dropout
        c.add(Arguments.of(CellType.LSTM, RnnKernel.STEPWISE, 14, true, 0.0, "auto", "off"));
        c.add(Arguments.of(CellType.GRU, RnnKernel.PERSISTENT, 5, false, 0.25, "auto", "off"));
        // each layout of the persistent kernels (the model prices the one it picks: the same kernels)
        for (String layout : List.of("grid", "cluster"))
            for (CellType cell : List.of(CellType.LSTM, CellType.RNN))
                c.add(Arguments.of(cell, RnnKernel.PERSISTENT, 5, true, 0.0, layout, "off"));
        // the RNN's two layers as one launch a pass (the emulated device has no clock for auto to
        // price them by, so both sides are told: on)
        for (boolean graph : new boolean[] {false, true})
            c.add(Arguments.of(CellType.RNN, RnnKernel.PERSISTENT, 5, graph, 0.0, "cluster", "on"));
        // with dropout, whose mask sits between the layers, training runs a layer a launch all the same
        c.add(Arguments.of(CellType.RNN, RnnKernel.PERSISTENT, 5, false, 0.25, "cluster", "on"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0} {1} T{2} graph {3} dropout {4} layout {5} wavefront {6}")
    @MethodSource("cases")
    void theModelPricesEveryKernelOnce(
            CellType cell, RnnKernel kernel, int T, boolean graph, double dropout, String layout, String wavefront)
            throws IOException {
        ModelConfig cfg = Models.config(cell, 11, 7, 9, 2, dropout);
        System.setProperty(PersistentPairs.PROPERTY, wavefront);
        try {
            List<String> ran = checkPrices(cfg, kernel, T, graph, layout);
            assertEquals(
                    wavefront.equals("on") && dropout == 0,
                    ran.contains("persistent_rnn_pair_forward_cluster")
                            && ran.contains("persistent_rnn_pair_backward_cluster"),
                    ran::toString);
        } finally {
            System.clearProperty(PersistentPairs.PROPERTY);
        }
    }

    /** What one step launched, once its kernels have been checked against the model's prices. */
    private List<String> checkPrices(ModelConfig cfg, RnnKernel kernel, int T, boolean graph, String layout) {
        List<String> ran = CudaTestSupport.withProperty(PersistentKnobs.LAYOUT_PROPERTY, layout, () -> {
            try {
                return launches(cfg, kernel, T, graph);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        if (!layout.equals("auto"))
            assertTrue(
                    ran.stream()
                            .anyMatch(k -> k.matches(
                                    "persistent_\\w+_forward" + (layout.equals("cluster") ? "_cluster" : ""))),
                    layout + " layout's forward launched: " + ran);
        Map<String, Integer> launched = byKey(ran), priced = new TreeMap<>();
        for (StepTrace.Op op :
                StepCostModel.trace(cfg, B, T, Precision.FP32, kernel).ops())
            if (KernelProfile.launchesKernel(op))
                priced.merge(
                        op.name().startsWith("gemm ") ? op.name() : KernelProfile.opKey(op.name()), 1, Integer::sum);
        assertTrue(launched.keySet().stream().anyMatch(k -> k.startsWith("gemm ")), "no cuBLAS call: " + launched);
        assertEquals(priced, launched, "kernels a step: the model's (expected) against the launches");
        return ran;
    }

    /**
     * On one stream the emulated device runs the launches in the order they are issued, which is the
     * order ncu lists them in on a GPU: there the launches of a step must follow the model's operations
     * one by one ({@link KernelProfile#align}, which --profile's table op by op rests on).
     */
    @ParameterizedTest(name = "{0} {1} layout {2} wavefront {3}")
    @MethodSource("oneStream")
    void oneStreamLaunchesFollowTheModelsOperations(CellType cell, RnnKernel kernel, String layout, String wavefront) {
        ModelConfig cfg = Models.config(cell, 11, 7, 9, 2, 0.0);
        System.setProperty(SideStream.PROPERTY, "off");
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, layout);
        System.setProperty(PersistentPairs.PROPERTY, wavefront);
        try {
            List<StepTrace.Op> ops = StepCostModel.trace(cfg, B, 5, Precision.FP32, kernel).ops().stream()
                    .filter(KernelProfile::launchesKernel)
                    .toList();
            List<KernelProfile.Launch> step = launches(cfg, kernel, 5, false).stream()
                    .filter(n -> !n.startsWith("cu") || n.startsWith("cublas"))
                    .map(n -> new KernelProfile.Launch(n, 1.0))
                    .toList();
            String[] why = new String[1];
            double[] us = KernelProfile.align(ops, step, why);
            assertTrue(us != null, () -> why[0]);
            assertEquals(ops.size(), us.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            System.clearProperty(SideStream.PROPERTY);
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
            System.clearProperty(PersistentPairs.PROPERTY);
        }
    }

    static Stream<Arguments> oneStream() {
        return Stream.of(
                Arguments.of(CellType.LSTM, RnnKernel.PERSISTENT, "auto", "off"),
                Arguments.of(CellType.GRU, RnnKernel.PERSISTENT, "auto", "off"),
                Arguments.of(CellType.RNN, RnnKernel.PERSISTENT, "auto", "off"),
                Arguments.of(CellType.RNN, RnnKernel.PERSISTENT, "cluster", "on"), // two layers a launch
                Arguments.of(CellType.LSTM, RnnKernel.STEPWISE, "auto", "off"),
                Arguments.of(CellType.MUT3, RnnKernel.STEPWISE, "auto", "off"));
    }

    /**
     * What ran in the fourth training step, after the eager ones and the one captured (a replay where
     * graphs are on), as the emulator's profiler names it; cuProfilerInitialize, deprecated on GPUs,
     * names the emulator's file.
     */
    @SuppressWarnings("deprecation")
    private List<String> launches(ModelConfig cfg, RnnKernel kernel, int T, boolean graph) throws IOException {
        Path log = dir.resolve("launches.txt");
        BackendOptions opt = BackendOptions.defaults()
                .withDropoutSeed(5)
                .withCudaGraph(graph)
                .withRnnKernel(kernel);
        int[] toks = new int[600];
        for (int i = 0; i < toks.length; i++) toks[i] = (i * 7 + i / 5) % cfg.vocabSize();
        try (Backend be = new CudaBackend(cfg, opt);
                RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(TokenSequence.of(toks))) {
            be.setParameters(Init.initialize(new ParamLayout(cfg), 3));
            be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            int warm = CudaGraphs.WARMUP_STEPS + 1; // eager steps, then the one captured
            for (int it = 1; it <= warm + 1; it++) {
                if (it == warm + 1) {
                    be.synchronize();
                    JCudaDriver.cuProfilerInitialize("", log.toString(), 1);
                    JCudaDriver.cuProfilerStart();
                }
                long[] starts = new long[B];
                for (int b = 0; b < B; b++) starts[b] = b * 200L + it * (long) T;
                be.forward(st, new Window(tb, starts, T, it), true);
                be.backward();
                be.clip(ClipMode.NORM, 5.0);
                be.step(2e-3, it);
            }
            be.synchronize();
            JCudaDriver.cuProfilerStop();
        }
        return Files.readAllLines(log, StandardCharsets.UTF_8);
    }

    /** The kernels and cuBLAS calls of {@code ran} (the driver's own operations left out), by key and GEMM shape. */
    private static Map<String, Integer> byKey(List<String> ran) {
        Map<String, Integer> byKey = new TreeMap<>();
        for (String name : ran)
            if (name.startsWith("cublas")) byKey.merge(gemm(name), 1, Integer::sum);
            else if (!name.startsWith("cu")) byKey.merge(KernelProfile.kernelKey(name), 1, Integer::sum);
        return byKey;
    }

    /**
     * "cublasSgemm 33x9x5" (cuBLAS's column-major m x n x k) as the model names the GEMM, "gemm 9x33x5":
     * C [M,N] row-major is cuBLAS's C^T, so m = N and n = M (Gemm).
     */
    private static String gemm(String call) {
        String[] mnk = call.substring(call.indexOf(' ') + 1).split("x");
        return "gemm " + mnk[1] + "x" + mnk[0] + "x" + mnk[2];
    }
}
