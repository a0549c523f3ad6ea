package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Models;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

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
