package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.charrnn.verify.Verifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole training steps (loss, every gradient, eval loss, the update) against the fp64 reference
 * with the decoder fused into one launch (decoder_xent, {@link DecoderXent}) and with it apart (a
 * GEMM, softmax_xent, a GEMM), forced both ways, at awkward shapes: H = 1 and 257, V > 256, B = 1,
 * T = 1, L = 3 with dropout on the top layer's output, a stepwise cell and a persistent one.
 */
@Tag("gpu")
class CudaDecoderTest {

    @BeforeEach
    void requireCuda() {
        CudaTestSupport.assumeCuda();
    }

    static Stream<Arguments> cases() {
        List<Verifier.Shape> shapes = new ArrayList<>();
        shapes.add(new Verifier.Shape(CellType.LSTM, 65, 16, 64, 1, 4, 6, 0.0));
        shapes.add(new Verifier.Shape(CellType.GRU, 13, 6, 257, 1, 2, 2, 0.2)); // H = 257
        shapes.add(new Verifier.Shape(CellType.RNN, 300, 8, 20, 1, 5, 3, 0.0)); // V > 256: a row group a tile
        shapes.add(new Verifier.Shape(CellType.LSTM, 5, 3, 1, 1, 1, 1, 0.0)); // H = 1, B = 1, T = 1
        shapes.add(new Verifier.Shape(CellType.LSTM, 9, 4, 17, 3, 1, 4, 0.25)); // L = 3, dropout
        shapes.add(new Verifier.Shape(CellType.values()[CellType.values().length - 1], 11, 7, 33, 2, 3, 5, 0.0));
        List<Arguments> c = new ArrayList<>();
        for (Verifier.Shape s : shapes) for (String mode : List.of("on", "off")) c.add(Arguments.of(s, mode));
        return c.stream();
    }

    /**
     * The log says once for each size of window whether its decoder runs fused, and why: the model's
     * two prices under auto (which fuses at this size), the knob where it decided.
     */
    @ParameterizedTest(name = "fused {0}")
    @ValueSource(strings = {"auto", "on", "off"})
    void theLogSaysOnceWhatTheDecoderRuns(String mode) {
        ModelConfig cfg = Models.config(CellType.LSTM, 23, 9, 33, 2, 0.0);
        List<String> lines = new ArrayList<>();
        CudaTestSupport.withProperty(DecoderXent.PROPERTY, mode, () -> {
            try (Backend be = new CudaBackend(cfg, BackendOptions.defaults().withLog(lines::add))) {
                return CudaGraphTest.train(be, cfg, 5, 4, 6); // windows of 24 rows; the evaluation's too
            }
        });
        String training = "decoder of 24 rows (training): ", evaluation = "decoder of 24 rows (evaluation): ";
        String how = switch (mode) {
            case "auto" -> "fused, decoder_xent (cost model: ";
            case "on" -> "fused, decoder_xent, forced (charrnn.cuda.fusedDecoder=on)";
            default -> "apart, forced (charrnn.cuda.fusedDecoder=off)";
        };
        for (String head : List.of(training, evaluation))
            assertEquals(
                    1,
                    lines.stream().filter(l -> l.startsWith(head + how)).count(),
                    () -> head + how + " once in\n" + String.join("\n", lines));
        assertEquals(2, lines.stream().filter(l -> l.startsWith("decoder of ")).count(), lines::toString);
        if (mode.equals("auto")) { // the unfused launches each names: evaluation has no dL/dtop GEMM
            assertTrue(
                    lines.stream()
                            .anyMatch(
                                    l -> l.startsWith(training) && l.endsWith(" as a GEMM, softmax_xent and a GEMM)")),
                    lines::toString);
            assertTrue(
                    lines.stream()
                            .anyMatch(l -> l.startsWith(evaluation) && l.endsWith(" as a GEMM and softmax_xent)")),
                    lines::toString);
        }
    }

    /** A window of one row says "1 row". */
    @Test
    void aWindowOfOneRowIsOneRow() {
        ModelConfig cfg = Models.config(CellType.LSTM, 23, 9, 33, 1, 0.0);
        List<String> lines = new ArrayList<>();
        CudaTestSupport.withProperty(DecoderXent.PROPERTY, "on", () -> {
            try (Backend be = new CudaBackend(cfg, BackendOptions.defaults().withLog(lines::add))) {
                return CudaGraphTest.train(be, cfg, 1, 1, 1);
            }
        });
        assertTrue(
                lines.contains(
                        "decoder of 1 row (training): fused, decoder_xent, forced (charrnn.cuda.fusedDecoder=on)"),
                lines::toString);
    }

    @ParameterizedTest(name = "{0} fused {1}")
    @MethodSource("cases")
    void trainingStepsMatchTheReference(Verifier.Shape shape, String mode) {
        // every shape's block fits the default shared memory: "on" runs decoder_xent on any device
        assertTrue(DecoderXent.sharedBytes(shape.vocab(), shape.hidden(), 1) <= PersistentRnn.DEFAULT_SHARED);
        CudaTestSupport.withProperty(DecoderXent.PROPERTY, mode, () -> {
            CudaTestSupport.parityDeviceLine(
                    RnnKernel.AUTO, shape, 41 + shape.hashCode(), "decoder fused " + mode + ", " + shape.label());
            return null;
        });
    }
}
