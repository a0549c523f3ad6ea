package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.testutil.Models;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The weight gradients on a second stream ({@link SideStream}, {@code -Dcharrnn.overlap}) compute
 * what one stream does, bit for bit: eight training steps of a three-layer model (so each of the
 * two dgates buffers serves a layer below the one whose side work still reads the other) with
 * dropout, carried state and a whole-step CUDA graph captured after the warm-up (so the fork and
 * join are replayed too), every parameter, the state, the eval loss and the optimizer state
 * compared exactly. On the emulated device the side stream's work runs as late as its join allows,
 * so a missing join or a shared dgates buffer would read what the next layer wrote (both tried:
 * each fails this test).
 */
@Tag("gpu")
class CudaOverlapTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    static Stream<Arguments> cases() {
        List<Arguments> c = new ArrayList<>();
        for (CellType cell : CellType.values()) c.add(Arguments.of(cell, RnnKernel.STEPWISE));
        for (CellType cell : List.of(CellType.LSTM, CellType.GRU, CellType.RNN))
            c.add(Arguments.of(cell, RnnKernel.PERSISTENT));
        return c.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void theSideStreamChangesNoBit(CellType cell, RnnKernel kernel) {
        ModelConfig cfg = Models.config(cell, 23, 9, 33, 3, 0.25);
        BackendOptions opt = BackendOptions.defaults()
                .withDropoutSeed(77)
                .withCudaGraph(true)
                .withRnnKernel(kernel);
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "cluster");
        System.setProperty(PersistentKnobs.CLUSTERS_PROPERTY, "2");
        try {
            CudaGraphTest.Run on = train(cfg, opt, "on"), off = train(cfg, opt, "off");
            assertArrayEquals(off.params(), on.params(), "parameters");
            assertArrayEquals(off.state(), on.state(), "state");
            assertEquals(off.evalLoss(), on.evalLoss(), "eval loss");
            for (int k = 0; k < off.slots().length; k++) assertArrayEquals(off.slots()[k], on.slots()[k]);
        } finally {
            System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
            System.clearProperty(PersistentKnobs.CLUSTERS_PROPERTY);
        }
    }

    private static CudaGraphTest.Run train(ModelConfig cfg, BackendOptions opt, String overlap) {
        List<String> lines = new ArrayList<>();
        System.setProperty(SideStream.PROPERTY, overlap);
        try (Backend be = new CudaBackend(cfg, opt.withLog(lines::add))) {
            CudaGraphTest.Run r = CudaGraphTest.train(be, cfg, 5, 4, 6);
            boolean said = lines.stream().anyMatch(l -> l.contains("weight gradients on a second stream"));
            assertEquals(overlap.equals("on"), said, () -> String.join("\n", lines));
            return r;
        } finally {
            System.clearProperty(SideStream.PROPERTY);
        }
    }

    /**
     * The state copied out on the side queue is there for whoever reads it next: after a training
     * forward read before its backward (eager, or flushed out of a deferred step) and after a
     * step whose forward and backward ran as one unit (its state gradient too), overlap on equals
     * overlap off bit for bit. A forward that left the copy out unjoined fails the first read.
     */
    @ParameterizedTest(name = "CUDA graph {0}")
    @ValueSource(booleans = {false, true})
    void theStateIsCopiedOutBeforeAnyoneReadsIt(boolean graph) {
        ModelConfig cfg = Models.config(CellType.LSTM, 23, 9, 33, 2, 0.0);
        BackendOptions opt = BackendOptions.defaults().withCudaGraph(graph);
        double[][] on = readsAroundSteps(cfg, opt, "on"), off = readsAroundSteps(cfg, opt, "off");
        assertTrue(Arrays.stream(off[0]).anyMatch(v -> v != 0), "the first forward moved the state");
        String[] what = {"state after a forward", "state after a whole step", "initial state gradient"};
        for (int k = 0; k < what.length; k++) assertArrayEquals(off[k], on[k], what[k]);
    }

    private static double[][] readsAroundSteps(ModelConfig cfg, BackendOptions opt, String overlap) {
        System.setProperty(SideStream.PROPERTY, overlap);
        int B = 4, T = 6;
        int[] toks = new int[400];
        for (int i = 0; i < toks.length; i++) toks[i] = (i * 7 + i / 5) % cfg.vocabSize();
        try (Backend be = new CudaBackend(cfg, opt);
                RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(TokenSequence.of(toks))) {
            be.setParameters(Init.initialize(new ParamLayout(cfg), 3));
            be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            long[] starts = {0, 90, 180, 270};
            be.forward(st, new Window(tb, starts, T, 0), true);
            double[] afterForward = st.read();
            be.backward();
            be.clip(ClipMode.NORM, 1.0);
            be.step(1e-2, 1);
            for (int i = 0; i < B; i++) starts[i] += T;
            be.forward(st, new Window(tb, starts, T, 1), true);
            be.backward();
            double[] stateGrad = be.getInitialStateGradient();
            return new double[][] {afterForward, st.read(), stateGrad};
        } finally {
            System.clearProperty(SideStream.PROPERTY);
        }
    }

    @Test
    void aBadKnobIsAOneLineError() {
        System.setProperty(SideStream.PROPERTY, "sometimes");
        try {
            UserError e = assertThrows(
                    UserError.class,
                    () -> new CudaBackend(Models.config(CellType.LSTM, 5, 4, 8, 1, 0), BackendOptions.defaults()));
            assertTrue(
                    e.getMessage().contains("-Dcharrnn.overlap must be auto, on or off, not 'sometimes'"),
                    e.getMessage());
        } finally {
            System.clearProperty(SideStream.PROPERTY);
        }
    }
}
