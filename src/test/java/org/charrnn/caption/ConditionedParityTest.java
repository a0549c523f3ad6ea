package org.charrnn.caption;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.Window;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.verify.Tolerances;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One conditioned training pass (padded captions; the image as the initial state or as the first
 * input) on OpenCL and CUDA against the fp64 reference: loss, the model's gradients and the
 * projection's gradients, then the first steps of a caption from the conditioned state. Each backend
 * runs its recurrences both ways: OpenCL's window kernels (auto on a CPU device) and stepwise, CUDA's
 * persistent kernels and stepwise (the persistent forward reads no token table when the first input
 * is the image's); a MUT cell (E != H: MUT3) on each as auto runs it.
 */
class ConditionedParityTest {

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @CsvSource({
        "opencl, LSTM, state, AUTO",
        "opencl, GRU, state, AUTO",
        "opencl, RNN, state, AUTO",
        "opencl, LSTM, state, STEPWISE",
        "opencl, GRU, state, STEPWISE",
        "opencl, RNN, state, STEPWISE",
        "cuda, LSTM, state, STEPWISE",
        "cuda, GRU, state, STEPWISE",
        "cuda, RNN, state, STEPWISE",
        "cuda, LSTM, state, PERSISTENT",
        "cuda, GRU, state, PERSISTENT",
        "cuda, RNN, state, PERSISTENT",
        "opencl, LSTM, input, AUTO",
        "opencl, GRU, input, AUTO",
        "opencl, RNN, input, AUTO",
        "opencl, LSTM, input, STEPWISE",
        "opencl, GRU, input, STEPWISE",
        "opencl, RNN, input, STEPWISE",
        "cuda, LSTM, input, STEPWISE",
        "cuda, GRU, input, STEPWISE",
        "cuda, RNN, input, STEPWISE",
        "cuda, LSTM, input, PERSISTENT",
        "cuda, GRU, input, PERSISTENT",
        "cuda, RNN, input, PERSISTENT",
        "opencl, MUT3, state, AUTO",
        "cuda, MUT3, state, AUTO",
        "opencl, MUT3, input, AUTO",
        "cuda, MUT3, input, AUTO"
    })
    void conditionedPassMatchesReference(String backend, CellType cell, String condition, RnnKernel kernel) {
        BackendProvider provider = Backends.provider(backend);
        BackendProvider.Availability a = provider.probe();
        Assumptions.assumeTrue(a.available(), () -> backend + " unavailable: " + a.reason());
        ModelConfig cfg = new ModelConfig(cell, ConditionedModelTest.V, 3, 33, 2, 0.0);
        int B = ConditionedModelTest.B;
        Condition c = Condition.parse(condition);
        double[] f = ConditionedModelTest.features(4);
        Verifier v = Verifier.againstReference(provider::create);
        List<Verifier.Check> checks = new ArrayList<>();
        try (ConditionedModel ref = ConditionedModelTest.model(cfg, 17, c);
                Backend dev = provider.create(
                        cfg,
                        BackendOptions.defaults().withPrecision(Precision.FP32).withRnnKernel(kernel));
                RnnState sr = ref.backend().newState(B);
                RnnState sd = dev.newState(B)) {
            dev.setParameters(ref.backend().getParameters());
            FeatureProjection pd = FeatureProjection.of(c, cfg, ConditionedModelTest.F);
            pd.setParameters(ref.projection().parameters());
            ConditionedModel m = new ConditionedModel(dev, pd);
            Window wr = ConditionedModelTest.window(ref.backend(), c), wd = ConditionedModelTest.window(dev, c);
            double lr = ref.forwardBackward(sr, wr, f), ld = m.forwardBackward(sd, wd, f);
            checks.add(v.compare("loss", new double[] {ld}, new double[] {lr}, Tolerances.Kind.LOSS));
            checks.add(v.compare(
                    "model grads", dev.getGradients(), ref.backend().getGradients(), Tolerances.Kind.GRAD_WEIGHT_IH));
            checks.add(v.compare(
                    "projection grads", pd.gradients(), ref.projection().gradients(), Tolerances.Kind.STATE_GRAD));
            // sampling: the conditioned state (input mode: after the image step), then the start symbol
            ref.condition(sr, f);
            m.condition(sd, f);
            checks.add(v.compare("conditioned state", sd.read(), sr.read(), Tolerances.Kind.STATE));
            int[] start = new int[B];
            java.util.Arrays.fill(start, ref.startToken());
            checks.add(v.compare(
                    "first logits",
                    dev.stepLogits(sd, start),
                    ref.backend().stepLogits(sr, start),
                    Tolerances.Kind.LOGITS));
        }
        assertTrue(Verifier.allPassed(checks), () -> "\n" + Verifier.table(checks));
    }
}
