package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One conditioned training pass (padded captions, state from the projection) on OpenCL and CUDA
 * against the fp64 reference: loss, the model's gradients and the projection's gradients.
 */
class ConditionedParityTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"opencl, LSTM", "opencl, GRU", "opencl, RNN", "cuda, LSTM", "cuda, GRU", "cuda, RNN"})
    void conditionedPassMatchesReference(String backend, CellType cell) {
        BackendProvider provider = Backends.provider(backend);
        BackendProvider.Availability a = provider.probe();
        Assumptions.assumeTrue(a.available(), () -> backend + " unavailable: " + a.reason());
        ModelConfig cfg = new ModelConfig(cell, ConditionedModelTest.V, 3, 33, 2, 0.0);
        int B = ConditionedModelTest.B, T = ConditionedModelTest.T;
        double[] f = ConditionedModelTest.features(4);
        Verifier v = Verifier.againstReference(provider::create);
        List<Verifier.Check> checks = new ArrayList<>();
        try (ConditionedModel ref = ConditionedModelTest.model(cfg, 17);
                Backend dev = provider.create(cfg, BackendOptions.defaults().withPrecision(Precision.FP32));
                RnnState sr = ref.backend().newState(B);
                RnnState sd = dev.newState(B)) {
            dev.setParameters(ref.backend().getParameters());
            StateProjection pd = new StateProjection(cfg.layers(), cfg.cell().stateVectors(), cfg.hidden(), 5);
            pd.setParameters(ref.projection().parameters());
            ConditionedModel m = new ConditionedModel(dev, pd);
            TokenSequence seq = TokenSequence.of(ConditionedModelTest.TOKENS);
            Window wr = new Window(ref.backend().upload(seq), ConditionedModelTest.STARTS, T, 1, CaptionVocab.PAD);
            Window wd = new Window(dev.upload(seq), ConditionedModelTest.STARTS, T, 1, CaptionVocab.PAD);
            double lr = ref.forwardBackward(sr, wr, f), ld = m.forwardBackward(sd, wd, f);
            checks.add(v.compare("loss", new double[] {ld}, new double[] {lr}, Tolerances.Kind.LOSS));
            checks.add(v.compare(
                    "model grads", dev.getGradients(), ref.backend().getGradients(), Tolerances.Kind.GRAD_WEIGHT_IH));
            checks.add(v.compare(
                    "projection grads", pd.gradients(), ref.projection().gradients(), Tolerances.Kind.STATE_GRAD));
        }
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }
}
