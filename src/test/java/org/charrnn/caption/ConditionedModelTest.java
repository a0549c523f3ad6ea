package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The conditioned models on the reference backend: finite differences and the model file. */
class ConditionedModelTest {
    static final int V = 7, F = 5, B = 2, T = 4;
    static final int[] TOKENS = {0, 2, 3, 4, 0, 1, 0, 5, 6, 2, 0}; // two padded captions, END = 0, PAD = 1
    static final long[] STARTS = {0, 6};
    // the same captions laid out for --condition input (see CaptionBatches): PAD PAD c_1 .. c_n END PAD ..
    static final int[] INPUT_TOKENS = {1, 1, 2, 3, 4, 0, 1, 1, 1, 5, 6, 2, 0};
    static final long[] INPUT_STARTS = {0, 7};

    /** The test captions as a window for a model conditioned by {@code c}, on {@code be}. */
    static Window window(Backend be, Condition c) {
        if (c == Condition.STATE)
            return new Window(be.upload(TokenSequence.of(TOKENS)), STARTS, T, 1, CaptionVocab.PAD);
        return new Window(be.upload(TokenSequence.of(INPUT_TOKENS)), INPUT_STARTS, T + 1, 1, CaptionVocab.PAD);
    }

    static ConditionedModel model(ModelConfig cfg, long seed) {
        return model(cfg, seed, Condition.STATE);
    }

    static ConditionedModel model(ModelConfig cfg, long seed, Condition c) {
        ReferenceBackend be =
                new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(1));
        be.setParameters(Init.initialize(be.layout(), seed));
        FeatureProjection p = FeatureProjection.of(c, cfg, F);
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

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"state, LSTM", "state, GRU", "state, RNN", "input, LSTM", "input, GRU", "input, RNN"})
    void projectionGradientsMatchFiniteDifferences(String condition, CellType cell) {
        ModelConfig cfg = new ModelConfig(cell, V, 3, 4, 2, 0.0);
        double eps = 1e-5;
        try (ConditionedModel m = model(cfg, 31, Condition.parse(condition));
                RnnState st = m.backend().newState(B)) {
            Window w = window(m.backend(), m.condition());
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
            assertTrue(largest > 1e-4, "the projection's gradients are not all negligible: " + largest);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void inputConditionedModelGradientsMatchFiniteDifferences(CellType cell) {
        ModelConfig cfg = new ModelConfig(cell, V, 3, 4, 2, 0.0);
        double eps = 1e-5;
        try (ConditionedModel m = model(cfg, 41, Condition.INPUT);
                RnnState st = m.backend().newState(B)) {
            Backend be = m.backend();
            Window w = window(be, Condition.INPUT);
            double[] f = features(5);
            m.forwardBackward(st, w, f);
            double[] g = be.getGradients(), p = be.getParameters();
            double worst = 0;
            for (int i = 0; i < p.length; i++) {
                double orig = p[i];
                p[i] = orig + eps;
                be.setParameters(p);
                double lp = m.loss(st, w, f);
                p[i] = orig - eps;
                be.setParameters(p);
                double lm = m.loss(st, w, f);
                p[i] = orig;
                double num = (lp - lm) / (2 * eps);
                worst = Math.max(worst, Math.abs(g[i] - num) / Math.max(1e-4, Math.max(Math.abs(g[i]), Math.abs(num))));
            }
            be.setParameters(p);
            assertTrue(worst < 1e-6, "max rel err " + worst);
        }
    }

    @Test
    void theImageStepIsNotCountedAndItsTokenLearnsNothingFromIt() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, V, 3, 4, 1, 0.0);
        try (ConditionedModel m = model(cfg, 7, Condition.INPUT);
                RnnState st = m.backend().newState(1)) {
            Backend be = m.backend();
            // x = 4 1 3, y = 1 3 0: token 4 is read only at the image step, whose target PAD is not counted
            Window w = new Window(be.upload(TokenSequence.of(new int[] {4, 1, 3, 0})), new long[] {0}, 3, 1, 1);
            double[] f = java.util.Arrays.copyOf(features(2), F);
            double loss = m.forwardBackward(st, w, f);
            int E = cfg.embedding(), emb = be.layout().embedding().offset();
            double[] g = be.getGradients();
            for (int e = 0; e < E; e++)
                assertEquals(0.0, g[emb + 4 * E + e], "embedding row of the image step's token");
            double rowPad = 0;
            for (int e = 0; e < E; e++) rowPad += Math.abs(g[emb + CaptionVocab.PAD * E + e]);
            assertTrue(rowPad > 0, "PAD, the start symbol at step 1, learns");
            assertEquals(E, be.getFirstInputGradient().length);
            // two counted targets: the loss is their mean, and changing the image step's token changes nothing
            Window other = new Window(be.upload(TokenSequence.of(new int[] {5, 1, 3, 0})), new long[] {0}, 3, 1, 1);
            assertEquals(loss, m.loss(st, other, f), 1e-12);
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

    @ParameterizedTest
    @EnumSource(Condition.class)
    void modelFileRoundTrips(Condition condition, @TempDir Path dir) throws Exception {
        ModelConfig cfg = new ModelConfig(CellType.GRU, 6, 3, 4, 2, 0.0);
        CaptionVocab vocab = CaptionVocab.of(java.util.List.of("ab c"));
        try (ConditionedModel m = model(cfg, 9, condition)) {
            Path file = dir.resolve("m.safetensors");
            double[] params = m.backend().getParameters();
            CaptionCheckpoint.save(file, cfg, vocab, params, m.projection(), 12, 1.5, java.util.Map.of());
            CaptionCheckpoint.Contents c = CaptionCheckpoint.load(file);
            assertEquals(cfg, c.config());
            assertEquals(vocab.chars(), c.vocab().chars());
            assertEquals(F, c.features());
            assertEquals(condition, c.condition());
            assertEquals(12, c.iteration());
            assertEquals(1.5, c.valLoss());
            assertArrayEquals(params, c.params(), 1e-6);
            assertArrayEquals(m.projection().parameters(), c.projection(), 1e-6);
        }
    }
}
