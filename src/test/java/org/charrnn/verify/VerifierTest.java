package org.charrnn.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.Precision;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.junit.jupiter.api.Test;

/** The harness itself: the reference verifies against itself exactly, and a planted error is caught and named. */
class VerifierTest {

    private static final Verifier.Shape SHAPE = new Verifier.Shape(CellType.LSTM, 7, 3, 5, 2, 2, 3, 0.2);

    @Test
    void referenceAgainstItselfPassesWithZeroError() {
        Verifier v = new Verifier(ReferenceBackend::new, Precision.FP64, ReferenceBackend::new, Tolerances.fp32());
        List<Verifier.Check> checks = v.run(SHAPE, 3);
        assertTrue(checks.size() > 40);
        assertTrue(Verifier.allPassed(checks), () -> Verifier.table(checks));
        for (Verifier.Check c : checks) assertEquals(0.0, c.maxAbsErr(), c.name());
        assertTrue(Verifier.table(checks).endsWith(checks.size() + "/" + checks.size() + " checks passed"));
    }

    @Test
    void aWrongGradientElementFailsExactlyItsTensor() {
        Verifier v = new Verifier(
                (c, o) -> new Perturbed(new ReferenceBackend(c, o)),
                Precision.FP64,
                ReferenceBackend::new,
                Tolerances.fp32());
        List<Verifier.Check> checks = v.run(SHAPE, 3);
        assertFalse(Verifier.allPassed(checks));
        for (Verifier.Check c : checks) {
            // the host copy of the gradients is wrong: the tensor check and every "clipped grads" check
            boolean tensor = c.name().endsWith("grad rnn.bias_hh_l1");
            boolean planted = tensor || c.name().endsWith("clipped grads");
            assertEquals(!planted, c.passed(), c.name());
            if (tensor) assertEquals(1e-4, c.maxAbsErr(), 1e-12);
        }
        assertTrue(Verifier.table(checks).contains("FAIL"));
    }

    @Test
    void nanFailsEvenWhereTheReferenceIsNaN() {
        Verifier v = Verifier.againstReference(ReferenceBackend::new);
        assertFalse(v.compare("both", new double[] {Double.NaN}, new double[] {Double.NaN}, Tolerances.Kind.LOSS)
                .passed());
        assertFalse(v.compare("one", new double[] {Double.NaN}, new double[] {1}, Tolerances.Kind.LOSS)
                .passed());
        assertTrue(v.compare("close", new double[] {1 + 1e-6}, new double[] {1}, Tolerances.Kind.LOSS)
                .passed());
    }

    /** The reference with one gradient element of rnn.bias_hh_l1 off by 1e-4 in the host copy. */
    private static final class Perturbed implements Backend {
        private final Backend d;

        Perturbed(Backend d) {
            this.d = d;
        }

        @Override
        public String name() {
            return "perturbed";
        }

        @Override
        public String deviceName() {
            return d.deviceName();
        }

        @Override
        public Precision precision() {
            return d.precision();
        }

        @Override
        public ModelConfig config() {
            return d.config();
        }

        @Override
        public ParamLayout layout() {
            return d.layout();
        }

        @Override
        public void setParameters(double[] values) {
            d.setParameters(values);
        }

        @Override
        public double[] getParameters() {
            return d.getParameters();
        }

        @Override
        public double[] getGradients() {
            double[] g = d.getGradients();
            g[d.layout().biasHh(1).offset() + 2] += 1e-4;
            return g;
        }

        @Override
        public double[] getInitialStateGradient() {
            return d.getInitialStateGradient();
        }

        @Override
        public double[] getFirstInputGradient() {
            return d.getFirstInputGradient();
        }

        @Override
        public RnnState newState(int batch) {
            return d.newState(batch);
        }

        @Override
        public TokenBuffer upload(TokenSequence tokens) {
            return d.upload(tokens);
        }

        @Override
        public void forward(RnnState state, Window window, boolean training) {
            d.forward(state, window, training);
        }

        @Override
        public double loss() {
            return d.loss();
        }

        @Override
        public void backward() {
            d.backward();
        }

        @Override
        public void clip(ClipMode mode, double max) {
            d.clip(mode, max);
        }

        @Override
        public double gradNorm() {
            return d.gradNorm();
        }

        @Override
        public void setOptimizer(OptimizerConfig optimizer) {
            d.setOptimizer(optimizer);
        }

        @Override
        public void step(double lr, long t) {
            d.step(lr, t);
        }

        @Override
        public double[][] getOptimizerState() {
            return d.getOptimizerState();
        }

        @Override
        public void setOptimizerState(double[][] slots) {
            d.setOptimizerState(slots);
        }

        @Override
        public double[] stepLogits(RnnState state, int[] tokens) {
            return d.stepLogits(state, tokens);
        }

        @Override
        public void close() {
            d.close();
        }
    }
}
