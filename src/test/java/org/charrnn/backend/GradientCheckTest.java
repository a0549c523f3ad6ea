package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Central-difference gradient check of the reference backend, in double: every element of every
 * parameter tensor and of the initial (carried) state, for RNN, LSTM and GRU at L = 1 and 2.
 */
class GradientCheckTest {

    private static final double EPS = 1e-5;
    /** Max relative error |a - n| / max(|a|, |n|, FLOOR); FLOOR is the absolute floor for tiny gradients. */
    private static final double MAX_REL = 1e-6;

    private static final double FLOOR = 1e-4;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (CellType c : CellType.values())
            for (int L = 1; L <= 2; L++) {
                b.add(Arguments.of(c, L, 3, 0.0));
                b.add(Arguments.of(c, L, 5, 0.0));
            }
        for (CellType c : CellType.values())
            b.add(Arguments.of(c, 2, 3, 0.3)); // fixed masks: dropout is differentiable too
        return b.build();
    }

    @ParameterizedTest(name = "{0} L={1} H={2} dropout={3}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(CellType cell, int layers, int hidden, double dropout) {
        int V = 7, E = 4, T = 3, B = 2;
        ModelConfig cfg = Models.config(cell, V, E, hidden, layers, dropout);
        SplittableRandom rng = new SplittableRandom(1234 + layers * 10 + hidden);
        int[] tokens = new int[B * (T + 1) + 3];
        for (int i = 0; i < tokens.length; i++) tokens[i] = rng.nextInt(V);
        try (ReferenceBackend be = new ReferenceBackend(
                cfg, BackendOptions.defaults().withThreads(1).withDropoutSeed(7))) {
            ParamLayout layout = be.layout();
            double[] p = Init.initialize(layout, 99);
            for (int i = 0; i < p.length; i++) p[i] += 0.1 * (rng.nextDouble() - 0.5); // break symmetries of the init
            be.setParameters(p);
            TokenBuffer buf = be.upload(TokenSequence.of(tokens));
            Window w = new Window(buf, new long[] {0, T + 2}, T, 5);
            double[] s0 = new double[cfg.stateSizePerRow() * B];
            for (int i = 0; i < s0.length; i++) s0[i] = 0.5 * (rng.nextDouble() - 0.5); // a carried, non-zero state

            RnnState st = be.newState(B);
            st.write(s0);
            be.forward(st, w, true);
            be.backward();
            double[] g = be.getGradients();
            double[] gs = be.getInitialStateGradient();

            double worst = 0;
            String worstAt = "";
            for (ParamLayout.Tensor t : layout.tensors()) {
                double tensorWorst = 0;
                for (int k = 0; k < t.size(); k++) {
                    int i = t.offset() + k;
                    double orig = p[i];
                    p[i] = orig + EPS;
                    double lp = loss(be, p, s0, w);
                    p[i] = orig - EPS;
                    double lm = loss(be, p, s0, w);
                    p[i] = orig;
                    double num = (lp - lm) / (2 * EPS);
                    tensorWorst = Math.max(tensorWorst, relErr(g[i], num));
                }
                if (tensorWorst > worst) {
                    worst = tensorWorst;
                    worstAt = t.name();
                }
            }
            be.setParameters(p);
            double stateWorst = 0;
            for (int i = 0; i < s0.length; i++) {
                double orig = s0[i];
                s0[i] = orig + EPS;
                double lp = loss(be, p, s0, w);
                s0[i] = orig - EPS;
                double lm = loss(be, p, s0, w);
                s0[i] = orig;
                stateWorst = Math.max(stateWorst, relErr(gs[i], (lp - lm) / (2 * EPS)));
            }
            assertTrue(worst < MAX_REL, "parameter gradient max rel err " + worst + " in " + worstAt);
            assertTrue(stateWorst < MAX_REL, "initial-state gradient max rel err " + stateWorst);
        }
    }

    private static double loss(ReferenceBackend be, double[] p, double[] s0, Window w) {
        be.setParameters(p);
        try (RnnState st = be.newState(w.batch())) {
            st.write(s0);
            be.forward(st, w, true);
            return be.loss();
        }
    }

    private static double relErr(double a, double n) {
        return Math.abs(a - n) / Math.max(FLOOR, Math.max(Math.abs(a), Math.abs(n)));
    }
}
