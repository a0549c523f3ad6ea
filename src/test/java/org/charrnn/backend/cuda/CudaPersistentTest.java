package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.CliRun;
import org.charrnn.util.UserError;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --rnn-kernel}: the persistent LSTM passes (one cooperative launch per layer, forward and
 * backward) and the stepwise ones each pass the parity suite against the fp64 reference at awkward shapes (H = 1, H =
 * 33, B = 1, T = 1, L = 3, dropout); auto picks persistent for an fp32 LSTM that fits; a forced
 * persistent kernel that cannot run is a one-line error saying why; the device line says which ran.
 */
@Tag("gpu")
class CudaPersistentTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    static Stream<Verifier.Shape> lstmShapes() {
        List<Verifier.Shape> s = new ArrayList<>();
        for (Verifier.Shape v : Verifier.standardShapes()) if (v.cell() == CellType.LSTM) s.add(v);
        s.add(new Verifier.Shape(CellType.LSTM, 11, 7, 33, 3, 1, 1, 0.0)); // B = 1, T = 1, L = 3, H = 33
        s.add(new Verifier.Shape(CellType.LSTM, 13, 16, 64, 3, 8, 7, 0.1)); // more (b, j) pairs than threads
        return s.stream();
    }

    private static void assertParity(RnnKernel kernel, Verifier.Shape shape, long seed) {
        String[] device = new String[1];
        Verifier v = Verifier.againstReference((cfg, o) -> {
            CudaBackend b = new CudaBackend(cfg, o.withRnnKernel(kernel));
            device[0] = b.deviceName();
            return b;
        });
        List<Verifier.Check> checks = v.run(shape, seed);
        assertFalse(checks.isEmpty());
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
        assertTrue(device[0].contains("rnn " + kernel.id()), device[0]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lstmShapes")
    void persistentTrainingStepMatchesReference(Verifier.Shape shape) {
        assertParity(RnnKernel.PERSISTENT, shape, 37 + shape.hashCode());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lstmShapes")
    void stepwiseTrainingStepMatchesReference(Verifier.Shape shape) {
        assertParity(RnnKernel.STEPWISE, shape, 41 + shape.hashCode());
    }

    private static String device(ModelConfig cfg, BackendOptions o) {
        try (CudaBackend b = new CudaBackend(cfg, o)) {
            return b.deviceName();
        }
    }

    @Test
    void autoRunsStepwiseAndPersistentRunsWhenAsked() {
        BackendOptions o = BackendOptions.defaults();
        ModelConfig lstm = new ModelConfig(CellType.LSTM, 11, 7, 33, 2, 0.0);
        assertTrue(device(lstm, o).contains("rnn stepwise (" + PersistentLstm.AUTO_STEPWISE + ")"), device(lstm, o));
        String forced = device(lstm, o.withRnnKernel(RnnKernel.PERSISTENT));
        assertTrue(forced.contains("rnn persistent ("), forced);
        String tf32 = device(lstm, o.withPrecision(Precision.TF32));
        assertTrue(tf32.contains("rnn stepwise (the persistent kernel computes in fp32, not tf32)"), tf32);
        String gru = device(new ModelConfig(CellType.GRU, 11, 7, 33, 2, 0.0), o);
        assertTrue(gru.contains("rnn stepwise (only the LSTM has a persistent kernel, not gru)"), gru);
        assertTrue(device(lstm, o.withRnnKernel(RnnKernel.STEPWISE)).endsWith(", rnn stepwise)"));
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM"},
            mode = EnumSource.Mode.EXCLUDE)
    void forcedPersistentWithoutAKernelSaysSo(CellType cell) {
        BackendOptions o = BackendOptions.defaults().withRnnKernel(RnnKernel.PERSISTENT);
        UserError e = assertThrows(UserError.class, () -> device(new ModelConfig(cell, 11, 33, 33, 2, 0.0), o));
        assertEquals(
                "--rnn-kernel persistent: only the LSTM has a persistent kernel, not " + cell.id(), e.getMessage());
    }

    @Test
    void forcedPersistentThatDoesNotFitSaysSo() {
        BackendOptions o = BackendOptions.defaults().withRnnKernel(RnnKernel.PERSISTENT);
        ModelConfig big = new ModelConfig(CellType.LSTM, 5, 3, 4096, 1, 0.0);
        UserError e = assertThrows(UserError.class, () -> device(big, o));
        assertTrue(e.getMessage().startsWith("--rnn-kernel persistent: a slice of W_hh ("), e.getMessage());
        assertTrue(e.getMessage().endsWith("KiB of shared memory per block"), e.getMessage());
        UserError bf16 = assertThrows(
                UserError.class,
                () -> device(new ModelConfig(CellType.LSTM, 5, 3, 8, 1, 0.0), o.withPrecision(Precision.BF16)));
        assertEquals("--rnn-kernel persistent: the persistent kernel computes in fp32, not bf16", bf16.getMessage());
    }

    @Test
    void verifyRunsTheParitySuiteOnThePersistentKernel() {
        CliRun r = CliRun.of("verify", "--backend", "cuda", "--rnn-kernel", "persistent");
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(r.out().contains("checks passed"), r.out());
        assertTrue(r.out().contains("lstm"), r.out());
        assertFalse(r.out().contains("gru"), r.out()); // no persistent kernel: not verified on it
    }

    @Test
    void devicesSaysUpToWhichHiddenSizePersistentRuns() {
        CliRun r = CliRun.of("devices");
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(
                r.out()
                        .matches("(?s).*device 0: --rnn-kernel persistent runs an fp32 LSTM up to H = [1-9][0-9]* "
                                + "\\(a block on each of [1-9][0-9]* SMs, 227 KiB of shared memory each\\); "
                                + "auto runs stepwise until the persistent kernel is measured faster.*"),
                r.out());
    }

    @Test
    void anUnknownRnnKernelIsAOneLineError() {
        CliRun r = CliRun.of("verify", "--backend", "cuda", "--rnn-kernel", "fast");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(
                "charrnn: --rnn-kernel: unknown rnn kernel 'fast' (expected auto, persistent or stepwise)",
                r.err().strip());
    }
}
