package org.charrnn.testutil;

import org.charrnn.backend.Backend;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;

/** A backend that forwards every call; tests override single methods to inject faults. */
public class ForwardingBackend implements Backend {
    protected final Backend inner;

    public ForwardingBackend(Backend inner) {
        this.inner = inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public String deviceName() {
        return inner.deviceName();
    }

    @Override
    public Precision precision() {
        return inner.precision();
    }

    @Override
    public ModelConfig config() {
        return inner.config();
    }

    @Override
    public ParamLayout layout() {
        return inner.layout();
    }

    @Override
    public void setParameters(double[] values) {
        inner.setParameters(values);
    }

    @Override
    public double[] getParameters() {
        return inner.getParameters();
    }

    @Override
    public double[] getGradients() {
        return inner.getGradients();
    }

    @Override
    public double[] getFirstInputGradient() {
        return inner.getFirstInputGradient();
    }

    @Override
    public double[] getInitialStateGradient() {
        return inner.getInitialStateGradient();
    }

    @Override
    public RnnState newState(int batch) {
        return inner.newState(batch);
    }

    @Override
    public TokenBuffer upload(TokenSequence tokens) {
        return inner.upload(tokens);
    }

    @Override
    public void forward(RnnState state, Window window, boolean training) {
        inner.forward(state, window, training);
    }

    @Override
    public double loss() {
        return inner.loss();
    }

    @Override
    public void backward() {
        inner.backward();
    }

    @Override
    public void clip(ClipMode mode, double max) {
        inner.clip(mode, max);
    }

    @Override
    public double gradNorm() {
        return inner.gradNorm();
    }

    @Override
    public void setOptimizer(OptimizerConfig optimizer) {
        inner.setOptimizer(optimizer);
    }

    @Override
    public void step(double lr, long t) {
        inner.step(lr, t);
    }

    @Override
    public double[][] getOptimizerState() {
        return inner.getOptimizerState();
    }

    @Override
    public void setOptimizerState(double[][] slots) {
        inner.setOptimizerState(slots);
    }

    @Override
    public double[] stepLogits(RnnState state, int[] tokens) {
        return inner.stepLogits(state, tokens);
    }

    @Override
    public void close() {
        inner.close();
    }
}
