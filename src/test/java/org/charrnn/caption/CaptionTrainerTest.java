package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.ReferenceOptimizers;
import org.charrnn.backend.RnnState;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** One training step of the caption trainer: one clip over both parts, one optimizer for both. */
class CaptionTrainerTest {
    static final List<CaptionData.Caption> CAPTIONS =
            List.of(new CaptionData.Caption(0, "ab cd"), new CaptionData.Caption(1, "dc a"));

    private static double norm(double[]... parts) {
        double s = 0;
        for (double[] p : parts) for (double v : p) s += v * v;
        return Math.sqrt(s);
    }

    @Test
    void clipsModelAndProjectionByTheirJointNorm() {
        CaptionVocab vocab = CaptionVocab.of(List.of("ab cd", "dc a"));
        ModelConfig cfg = new ModelConfig(CellType.LSTM, vocab.size(), 3, 4, 2, 0.0);
        CaptionData.Features f = new CaptionData.Features(2, ConditionedModelTest.F, ConditionedModelTest.features(5));
        int[] ks = {0, 1};
        double clip = 1e-3;
        try (ConditionedModel m = ConditionedModelTest.model(cfg, 11);
                CaptionBatches data = new CaptionBatches(m.backend(), vocab, CAPTIONS);
                RnnState st = m.backend().newState(2)) {
            m.forwardBackward(st, data.window(ks, 1), f.rows(new int[] {0, 1}));
            double[] gm = m.backend().getGradients(),
                    gp = m.projection().gradients().clone();
            double n = norm(gm, gp);
            assertTrue(norm(gm) > clip && norm(gp) > clip, "both parts alone are over the limit");

            CaptionTrainer t =
                    new CaptionTrainer(m, f, new CaptionTrainer.Settings(2, 1, 1e-3, clip, 1, OptimizerKind.ADAM));
            t.step(st, data, ks);
            double[] cm = m.backend().getGradients(), cp = m.projection().gradients();
            assertEquals(n, t.gradNorm(), 1e-12 * n);
            assertEquals(clip * n / (n + 1e-6), norm(cm, cp), 1e-9 * clip);
            double scale = clip / (n + 1e-6);
            for (int i = 0; i < gm.length; i++) assertEquals(gm[i] * scale, cm[i], 1e-9 * Math.abs(gm[i]) + 1e-15);
            for (int i = 0; i < gp.length; i++) assertEquals(gp[i] * scale, cp[i], 1e-9 * Math.abs(gp[i]) + 1e-15);
        }
    }

    @Test
    void theChosenOptimizerUpdatesBothParts() {
        CaptionVocab vocab = CaptionVocab.of(List.of("ab cd", "dc a"));
        ModelConfig cfg = new ModelConfig(CellType.GRU, vocab.size(), 3, 4, 1, 0.0);
        CaptionData.Features f = new CaptionData.Features(2, ConditionedModelTest.F, ConditionedModelTest.features(6));
        int[] ks = {1, 0};
        double lr = 0.05;
        for (OptimizerKind kind : OptimizerKind.values())
            try (ConditionedModel m = ConditionedModelTest.model(cfg, 12);
                    CaptionBatches data = new CaptionBatches(m.backend(), vocab, CAPTIONS);
                    RnnState st = m.backend().newState(2)) {
                double[] p0 = m.projection().parameters().clone();
                CaptionTrainer t = new CaptionTrainer(m, f, new CaptionTrainer.Settings(2, 1, lr, 100, 1, kind));
                t.step(st, data, ks);
                assertEquals(kind.slots().size(), m.backend().getOptimizerState().length, kind.id());
                double[] expect = p0.clone();
                double[][] slots = new double[kind.slots().size()][p0.length];
                ReferenceOptimizers.update(
                        OptimizerConfig.defaults(kind), expect, m.projection().gradients(), slots, lr, 1);
                assertArrayEquals(expect, m.projection().parameters(), 1e-15, kind.id());
                assertTrue(norm(m.projection().gradients()) > 0);
            }
    }

    @Test
    void settingsRefuseAClipThatClipsNothing() {
        for (double clip : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> new CaptionTrainer.Settings(2, 1, 1e-3, clip, 1, OptimizerKind.ADAM),
                    "clip " + clip);
            assertTrue(e.getMessage().startsWith("--clip must be"), e.getMessage());
        }
    }
}
