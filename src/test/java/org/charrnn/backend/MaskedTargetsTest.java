package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Windows with uncounted targets ({@link Window#ignoreTarget()}) on the reference backend: padding
 * costs nothing and learns nothing, the loss is the mean over the counted targets, and the
 * gradients (parameters and initial state) match central differences.
 */
class MaskedTargetsTest {
    private static final int V = 6, PAD = 5;

    private static ReferenceBackend backend(ModelConfig cfg, long seed) {
        ReferenceBackend be = new ReferenceBackend(
                cfg, BackendOptions.defaults().withThreads(1).withDropoutSeed(3));
        double[] p = Init.initialize(be.layout(), seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < p.length; i++) p[i] += 0.1 * (rng.nextDouble() - 0.5);
        be.setParameters(p);
        return be;
    }

    private record Result(double loss, double[] grads, double[] stateGrad) {}

    private static Result run(ReferenceBackend be, int[] tokens, long[] starts, int T, int ignore, double[] s0) {
        try (RnnState st = be.newState(starts.length)) {
            st.write(s0);
            be.forward(st, new Window(be.upload(TokenSequence.of(tokens)), starts, T, 1, ignore), true);
            be.backward();
            return new Result(be.loss(), be.getGradients(), be.getInitialStateGradient());
        }
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void paddingCostsNothingAndLearnsNothing(CellType cell) {
        ModelConfig cfg = Models.config(cell, V, 4, 3, 2, 0.0);
        try (ReferenceBackend be = backend(cfg, 11)) {
            double[] s0 = new double[cfg.stateSizePerRow()];
            int[] text = {0, 1, 2, 3, 4};
            // the same 4 predictions, alone and followed by 3 padded steps
            Result plain = run(be, text, new long[] {0}, 4, Window.COUNT_ALL, s0);
            Result padded = run(be, new int[] {0, 1, 2, 3, 4, PAD, PAD, PAD}, new long[] {0}, 7, PAD, s0);
            assertEquals(plain.loss(), padded.loss(), 1e-12);
            assertArrayEquals(plain.grads(), padded.grads(), 1e-12);
            assertArrayEquals(plain.stateGrad(), padded.stateGrad(), 1e-12);
        }
    }

    @Test
    void lossIsTheMeanOverCountedTargets() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, V, 4, 3, 1, 0.0);
        try (ReferenceBackend be = backend(cfg, 5)) {
            // stream 0 predicts 3 characters then pads; stream 1 predicts 1 then pads
            int[] tokens = {0, 1, 2, 3, PAD, 4, 1, PAD, PAD, PAD};
            double[] s0 = new double[cfg.stateSizePerRow() * 2];
            double masked = run(be, tokens, new long[] {0, 5}, 4, PAD, s0).loss();
            double first = run(be, tokens, new long[] {0}, 3, Window.COUNT_ALL, new double[cfg.stateSizePerRow()])
                    .loss();
            double second = run(be, tokens, new long[] {5}, 1, Window.COUNT_ALL, new double[cfg.stateSizePerRow()])
                    .loss();
            assertEquals((3 * first + second) / 4, masked, 1e-12);
        }
    }

    @Test
    void noCountedTargetGivesZeroLossAndGradients() {
        ModelConfig cfg = new ModelConfig(CellType.GRU, V, 4, 3, 1, 0.0);
        try (ReferenceBackend be = backend(cfg, 7)) {
            Result r = run(be, new int[] {1, PAD, PAD, PAD}, new long[] {0}, 3, PAD, new double[3]);
            assertEquals(0.0, r.loss());
            for (double g : r.grads()) assertEquals(0.0, g);
            for (double g : r.stateGrad()) assertEquals(0.0, g);
        }
    }

    @Test
    void ignoreTargetBelowMinusOneIsRejected() {
        ModelConfig cfg = new ModelConfig(CellType.RNN, V, 4, 3, 1, 0.0);
        try (ReferenceBackend be = backend(cfg, 1)) {
            TokenBuffer buf = be.upload(TokenSequence.of(0, 1, 2));
            assertThrows(IllegalArgumentException.class, () -> new Window(buf, new long[] {0}, 1, 0, -2));
        }
    }

    /** Central differences of the masked mean loss: every parameter and initial-state element. */
    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void maskedGradientsMatchFiniteDifferences(CellType cell) {
        ModelConfig cfg = new ModelConfig(cell, V, 4, 3, 2, 0.0);
        double eps = 1e-5;
        try (ReferenceBackend be = backend(cfg, 21)) {
            int[] tokens = {0, 1, 2, PAD, PAD, 3, 4, 1, 2, 0};
            long[] starts = {0, 5};
            int T = 4;
            SplittableRandom rng = new SplittableRandom(2);
            double[] s0 = new double[cfg.stateSizePerRow() * 2];
            for (int i = 0; i < s0.length; i++) s0[i] = rng.nextDouble() - 0.5;
            Result r = run(be, tokens, starts, T, PAD, s0);
            double[] p = be.getParameters();
            double worst = 0;
            for (int i = 0; i < p.length; i++) {
                double orig = p[i];
                p[i] = orig + eps;
                be.setParameters(p);
                double lp = run(be, tokens, starts, T, PAD, s0).loss();
                p[i] = orig - eps;
                be.setParameters(p);
                double lm = run(be, tokens, starts, T, PAD, s0).loss();
                p[i] = orig;
                worst = Math.max(worst, relErr(r.grads()[i], (lp - lm) / (2 * eps)));
            }
            be.setParameters(p);
            for (int i = 0; i < s0.length; i++) {
                double orig = s0[i];
                s0[i] = orig + eps;
                double lp = run(be, tokens, starts, T, PAD, s0).loss();
                s0[i] = orig - eps;
                double lm = run(be, tokens, starts, T, PAD, s0).loss();
                s0[i] = orig;
                worst = Math.max(worst, relErr(r.stateGrad()[i], (lp - lm) / (2 * eps)));
            }
            assertTrue(worst < 1e-6, "max rel err " + worst);
        }
    }

    private static double relErr(double a, double n) {
        return Math.abs(a - n) / Math.max(1e-4, Math.max(Math.abs(a), Math.abs(n)));
    }
}
