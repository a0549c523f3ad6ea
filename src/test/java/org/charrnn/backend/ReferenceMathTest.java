package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The reference backend on its two GEMM implementations ({@link ReferenceMath}): which one runs where, the
 * same training steps on both, and the Vector API path independent of the thread count.
 */
class ReferenceMathTest {
    private static final String[] BENCH = {
        "bench",
        "--backend",
        "reference",
        "--layers",
        "1",
        "--hidden",
        "8",
        "--batch",
        "2",
        "--seq",
        "3",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--split-steps",
        "1",
        "--threads",
        "1",
        "--quiet"
    };

    /** Maven runs the tests with the module (surefire argLine), so the Vector API path is what they test. */
    @Test
    void buildTestsRunWithTheVectorModule() {
        assumeTrue(System.getProperty("charrnn.basedir") != null, "not run by the Maven build");
        assertTrue(ReferenceMath.vectorModuleLoaded());
        assertSame(ReferenceMath.VECTOR, ReferenceMath.select());
        try (ReferenceBackend be = new ReferenceBackend(config(CellType.LSTM), BackendOptions.defaults())) {
            assertTrue(be.deviceName().contains("-bit SIMD"), be.deviceName());
        }
    }

    @Test
    void propertyForcesTheScalarPath() {
        String old = System.getProperty(ReferenceMath.PROPERTY);
        try {
            System.setProperty(ReferenceMath.PROPERTY, "false");
            assertSame(ReferenceMath.SCALAR, ReferenceMath.select());
            try (ReferenceBackend be = new ReferenceBackend(
                    config(CellType.GRU), BackendOptions.defaults().withThreads(2))) {
                assertEquals("Java double precision (2 threads)", be.deviceName());
            }
            System.setProperty(ReferenceMath.PROPERTY, "sometimes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ReferenceMath::select);
            assertTrue(e.getMessage().contains(ReferenceMath.PROPERTY), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(ReferenceMath.PROPERTY);
            else System.setProperty(ReferenceMath.PROPERTY, old);
        }
    }

    /** A JVM started without the module (a library user's) trains on the scalar GEMMs, without a word about it. */
    @Test
    void withoutTheModuleTheScalarPathRuns() throws Exception {
        CliRun r = CliRun.inChildJvm(List.of("-Xmx256m"), 120, BENCH);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Java double precision (1 thread)"), r.out());
        assertFalse(r.out().contains("SIMD") || r.err().contains("SIMD"), r.out() + r.err());
        assertFalse(r.err().contains("WARNING") || r.err().contains("Exception"), r.err());
    }

    /** With the module the JVM itself prints one warning line at start (which ./charrnn filters out). */
    @Test
    void withTheModuleTheVectorPathRuns() throws Exception {
        CliRun r = CliRun.inChildJvm(List.of("-Xmx256m", "--add-modules", ReferenceMath.MODULE), 120, BENCH);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("-bit SIMD)"), r.out());
        assertEquals(
                "WARNING: Using incubator modules: " + ReferenceMath.MODULE,
                r.err().lines().findFirst().orElse(""));
        CliRun forced = CliRun.inChildJvm(
                List.of("-Xmx256m", "--add-modules", ReferenceMath.MODULE, "-D" + ReferenceMath.PROPERTY + "=false"),
                120,
                BENCH);
        assertEquals(0, forced.code(), forced.err());
        assertTrue(forced.out().contains("Java double precision (1 thread)"), forced.out());
    }

    /** Three training steps (forward, backward, clip, Adam) agree to rounding on both paths. */
    @ParameterizedTest
    @EnumSource(CellType.class)
    void bothPathsTrainAlike(CellType cell) {
        assumeTrue(ReferenceMath.vectorModuleLoaded());
        Run scalar = train(cell, ReferenceMath.SCALAR, 2), vector = train(cell, ReferenceMath.VECTOR, 2);
        assertEquals(scalar.loss, vector.loss, 1e-12 * Math.abs(scalar.loss));
        assertClose(scalar.grads, vector.grads, 1e-11, "gradients");
        assertClose(scalar.stateGrad, vector.stateGrad, 1e-11, "initial-state gradient");
        assertClose(scalar.params, vector.params, 1e-11, "parameters");
    }

    /** Rows split across threads: the Vector API path gives the same bits on 1 and 3 threads. */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void vectorPathIndependentOfThreads(CellType cell) {
        assumeTrue(ReferenceMath.vectorModuleLoaded());
        Run one = train(cell, ReferenceMath.VECTOR, 1), three = train(cell, ReferenceMath.VECTOR, 3);
        assertEquals(one.loss, three.loss, 0.0);
        assertArrayEquals(one.grads, three.grads);
        assertArrayEquals(one.stateGrad, three.stateGrad);
        assertArrayEquals(one.params, three.params);
    }

    private record Run(double loss, double[] grads, double[] stateGrad, double[] params) {}

    private static ModelConfig config(CellType cell) {
        return Models.config(cell, 13, 7, 33, 2, 0.2);
    }

    private static Run train(CellType cell, ReferenceMath math, int threads) {
        ModelConfig cfg = config(cell);
        int T = 6, B = 9;
        SplittableRandom rng = new SplittableRandom(11);
        int[] tokens = new int[400];
        for (int i = 0; i < tokens.length; i++) tokens[i] = rng.nextInt(cfg.vocabSize());
        try (ReferenceBackend be = new ReferenceBackend(
                cfg, BackendOptions.defaults().withThreads(threads).withDropoutSeed(5), math)) {
            be.setParameters(Init.initialize(be.layout(), 21));
            TokenBuffer buf = be.upload(TokenSequence.of(tokens));
            RnnState st = be.newState(B);
            long[] starts = new long[B];
            double loss = 0;
            for (int it = 1; it <= 3; it++) {
                for (int b = 0; b < B; b++) starts[b] = 40L * b + (long) T * it;
                be.forward(st, new Window(buf, starts.clone(), T, it), true);
                loss = be.loss();
                be.backward();
                be.clip(ClipMode.NORM, 5.0);
                be.step(2e-3, it);
            }
            return new Run(loss, be.getGradients(), be.getInitialStateGradient(), be.getParameters());
        }
    }

    private static void assertClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            int at = i;
            assertTrue(
                    Math.abs(want[i] - got[i]) <= tol * (1 + Math.abs(want[i])),
                    () -> what + "[" + at + "]: " + got[at] + " vs scalar " + want[at]);
        }
    }
}
