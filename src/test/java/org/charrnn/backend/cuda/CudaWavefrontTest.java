package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.util.UserError;
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link PersistentPairs#PROPERTY}: stacked RNN layers two at a time as one wavefront launch a pass
 * (kernels/cuda/persistent_rnn_pair.cu) pass the parity suite against the fp64 reference (loss,
 * every gradient, carried state, optimizer steps, eval) in the cluster layout with the exchange: two
 * layers, three (a pair and a layer alone: forward pairs layers 0 and 1, backward 2 and 1), four
 * (two pairs), layer 0 by token and by row, B = 1, T = 1, a last block of fewer units; with dropout
 * the training passes run one layer a launch. The device line says so where a pair ran; auto
 * (the default) runs pairs only where the cost model ({@link PairCostModel}) predicts them faster.
 */
@Tag("gpu")
class CudaWavefrontTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
        System.setProperty(PersistentKnobs.LAYOUT_PROPERTY, "cluster");
        System.setProperty(PersistentKnobs.CLUSTERS_PROPERTY, "3");
        System.setProperty(PersistentPairs.PROPERTY, "on");
    }

    @AfterEach
    void clear() {
        System.clearProperty(PersistentKnobs.LAYOUT_PROPERTY);
        System.clearProperty(PersistentKnobs.CLUSTERS_PROPERTY);
        System.clearProperty(PersistentPairs.PROPERTY);
    }

    static Stream<Verifier.Shape> shapes() {
        return Stream.of(
                new Verifier.Shape(CellType.RNN, 13, 16, 33, 2, 7, 4, 0.0), // T 4: each exchange slot twice
                new Verifier.Shape(CellType.RNN, 13, 16, 33, 3, 7, 4, 0.0), // a pair and a layer alone
                new Verifier.Shape(CellType.RNN, 11, 8, 20, 4, 5, 3, 0.0), // two pairs
                new Verifier.Shape(CellType.RNN, 300, 16, 24, 2, 9, 5, 0.0), // layer 0 by row, not by token
                new Verifier.Shape(CellType.RNN, 11, 7, 9, 2, 1, 1, 0.0)); // B = 1, T = 1
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void layersInPairsPassTheParitySuite(Verifier.Shape shape) {
        String line = CudaTestSupport.parityDeviceLine(RnnKernel.PERSISTENT, shape, 71 + shape.hashCode(), "pairs");
        assertTrue(line.contains("with the DSMEM exchange (both passes)"), line);
        assertTrue(line.contains("layers two a launch as a wavefront"), line);
    }

    /**
     * With dropout the training passes run a layer a launch (the mask sits between the layers;
     * CudaStepLaunchesTest counts the launches of such a step) and pass the parity suite, while
     * evaluation, which drops nothing, still runs the pair.
     */
    @Test
    void dropoutKeepsTrainingToOneLayerALaunch() {
        Verifier.Shape shape = new Verifier.Shape(CellType.RNN, 13, 16, 33, 2, 7, 4, 0.3);
        String line = CudaTestSupport.parityDeviceLine(RnnKernel.PERSISTENT, shape, 73, "dropout");
        assertTrue(line.contains("layers two a launch as a wavefront"), line);
    }

    /** Off, or where the cell is not an RNN, nothing runs in pairs and the device line says nothing of it. */
    @Test
    void offOrAnotherCellRunsOneLayerALaunch() {
        System.setProperty(PersistentPairs.PROPERTY, "off");
        String off = CudaTestSupport.parityDeviceLine(
                RnnKernel.PERSISTENT, new Verifier.Shape(CellType.RNN, 13, 16, 33, 2, 7, 4, 0.0), 79, "off");
        assertFalse(off.contains("wavefront"), off);
        System.setProperty(PersistentPairs.PROPERTY, "on");
        String lstm = CudaTestSupport.parityDeviceLine(
                RnnKernel.PERSISTENT, new Verifier.Shape(CellType.LSTM, 13, 16, 33, 2, 7, 4, 0.0), 83, "lstm");
        assertFalse(lstm.contains("wavefront"), lstm);
    }

    /**
     * Auto (the default) asks the cost model, which a device without a clock rate (the emulated one)
     * cannot: one layer a launch, and one line a batch size says why; an LSTM, which has no pair, says
     * nothing of it.
     */
    @Test
    void autoWithoutAClockRateRunsOneLayerALaunchAndSaysWhy() {
        System.clearProperty(PersistentPairs.PROPERTY);
        for (CellType cell : new CellType[] {CellType.RNN, CellType.LSTM}) {
            List<String> log = new ArrayList<>();
            CudaBackend[] device = new CudaBackend[1];
            Verifier.Shape shape = new Verifier.Shape(cell, 13, 16, 33, 2, 7, 4, 0.0);
            Verifier v = Verifier.againstReference((cfg, o) -> {
                device[0] = new CudaBackend(
                        cfg, o.withRnnKernel(RnnKernel.PERSISTENT).withLog(log::add));
                return device[0];
            });
            List<Verifier.Check> checks = v.run(shape, 89);
            assertTrue(Verifier.allPassed(checks), () -> Verifier.table(checks));
            assertFalse(device[0].deviceName().contains("wavefront"), device[0].deviceName());
            List<String> lines =
                    log.stream().filter(l -> l.startsWith("rnn layers at")).toList();
            if (cell == CellType.RNN)
                assertEquals(
                        List.of("rnn layers at batch size 7: one layer a launch (" + PersistentRnn.NO_CLOCK + ")"),
                        lines);
            else assertEquals(List.of(), lines);
        }
    }

    /** A value other than auto, on or off: a one-line error, whatever --rnn-kernel says. */
    @ParameterizedTest
    @EnumSource(RnnKernel.class)
    void aValueOtherThanAutoOnOrOffIsAOneLineError(RnnKernel kernel) {
        System.setProperty(PersistentPairs.PROPERTY, "always");
        UserError e = assertThrows(UserError.class, () -> {
            try (CudaBackend b = new CudaBackend(
                    new Verifier.Shape(CellType.RNN, 13, 16, 33, 2, 7, 4, 0.0).config(),
                    BackendOptions.defaults().withRnnKernel(kernel))) {
                b.deviceName();
            }
        });
        assertEquals("charrnn.persistent.wavefront must be auto, on or off, not 'always'", e.getMessage());
    }
}
