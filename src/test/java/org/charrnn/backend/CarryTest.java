package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Two consecutive windows of T with carried state equal one window of 2T. */
class CarryTest {

    @ParameterizedTest
    @EnumSource(CellType.class)
    void twoWindowsEqualOneLongWindow(CellType cell) {
        int V = 11, T = 4, B = 3;
        ModelConfig cfg = Models.config(cell, V, 6, 9, 2, 0.0);
        SplittableRandom rng = new SplittableRandom(5);
        int[] tok = new int[200];
        for (int i = 0; i < tok.length; i++) tok[i] = rng.nextInt(V);
        try (ReferenceBackend be =
                new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(2))) {
            be.setParameters(Init.initialize(be.layout(), 3));
            TokenBuffer buf = be.upload(TokenSequence.of(tok));
            long[] starts = {0, 50, 120};
            RnnState a = be.newState(B);
            be.forward(a, new Window(buf, starts, T, 0), false);
            double l1 = be.loss();
            long[] next = {T, 50 + T, 120 + T};
            be.forward(a, new Window(buf, next, T, 0), false);
            double l2 = be.loss();
            RnnState b = be.newState(B);
            be.forward(b, new Window(buf, starts, 2 * T, 0), false);
            assertEquals((l1 + l2) / 2, be.loss(), 1e-12);
            assertArrayEquals(b.read(), a.read(), 1e-12);
        }
    }
}
