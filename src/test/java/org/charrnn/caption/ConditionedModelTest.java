package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The state-conditioned model on the reference backend: finite differences and the model file. */
class ConditionedModelTest {
    static final int V = 7, F = 5, B = 2, T = 4;
    static final int[] TOKENS = {0, 2, 3, 4, 0, 1, 0, 5, 6, 2, 0}; // two padded captions, END = 0, PAD = 1
    static final long[] STARTS = {0, 6};

    static ConditionedModel model(ModelConfig cfg, long seed) {
        ReferenceBackend be =
                new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(1));
        be.setParameters(Init.initialize(be.layout(), seed));
        StateProjection p = new StateProjection(cfg.layers(), cfg.cell().stateVectors(), cfg.hidden(), F);
        p.initialize(seed + 1);
        double[] q = p.parameters();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < q.length; i++) q[i] += 0.3 * (rng.nextDouble() - 0.5); // non-zero biases too
        return new ConditionedModel(be, p);
    }

    static double[] features(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] f = new double[B * F];
        for (int i = 0; i < f.length; i++) f[i] = 2 * rng.nextDouble() - 1;
        return f;
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void projectionGradientsMatchFiniteDifferences(CellType cell) {
        ModelConfig cfg = new ModelConfig(cell, V, 3, 4, 2, 0.0);
        double eps = 1e-5;
        try (ConditionedModel m = model(cfg, 31);
                RnnState st = m.backend().newState(B)) {
            TokenBuffer buf = m.backend().upload(TokenSequence.of(TOKENS));
            Window w = new Window(buf, STARTS, T, 1, CaptionVocab.PAD);
            double[] f = features(3);
            m.forwardBackward(st, w, f);
            double[] g = m.projection().gradients().clone();
            double[] p = m.projection().parameters();
            double worst = 0, largest = 0;
            for (int i = 0; i < p.length; i++) {
                double orig = p[i];
                p[i] = orig + eps;
                double lp = m.loss(st, w, f);
                p[i] = orig - eps;
                double lm = m.loss(st, w, f);
                p[i] = orig;
                double num = (lp - lm) / (2 * eps);
                worst = Math.max(worst, Math.abs(g[i] - num) / Math.max(1e-4, Math.max(Math.abs(g[i]), Math.abs(num))));
                largest = Math.max(largest, Math.abs(g[i]));
            }
            assertTrue(worst < 1e-6, "max rel err " + worst);
            assertTrue(largest > 1e-3, "the projection's gradients are not all negligible: " + largest);
        }
    }

    @Test
    void theLstmCellStateStartsAtZero() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, V, 3, 4, 2, 0.0);
        try (ConditionedModel m = model(cfg, 5);
                RnnState st = m.backend().newState(B)) {
            m.condition(st, features(1));
            double[] s = st.read();
            int H = 4;
            for (int l = 0; l < 2; l++)
                for (int i = 0; i < B * H; i++) {
                    assertEquals(0.0, s[(l * 2 + 1) * B * H + i]);
                    assertTrue(Math.abs(s[(l * 2) * B * H + i]) > 0);
                }
        }
    }

    @Test
    void modelFileRoundTrips(@TempDir Path dir) throws Exception {
        ModelConfig cfg = new ModelConfig(CellType.GRU, 6, 3, 4, 2, 0.0);
        CaptionVocab vocab = CaptionVocab.of(java.util.List.of("ab c"));
        try (ConditionedModel m = model(cfg, 9)) {
            Path file = dir.resolve("m.safetensors");
            double[] params = m.backend().getParameters();
            CaptionCheckpoint.save(file, cfg, vocab, params, m.projection(), 12, 1.5, java.util.Map.of());
            CaptionCheckpoint.Contents c = CaptionCheckpoint.load(file);
            assertEquals(cfg, c.config());
            assertEquals(vocab.chars(), c.vocab().chars());
            assertEquals(F, c.features());
            assertEquals(12, c.iteration());
            assertEquals(1.5, c.valLoss());
            assertArrayEquals(params, c.params(), 1e-6);
            assertArrayEquals(m.projection().parameters(), c.projection(), 1e-6);
        }
    }
}
