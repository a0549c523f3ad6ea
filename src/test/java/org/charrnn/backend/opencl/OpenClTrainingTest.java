package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.Precision;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.Init;
import org.charrnn.model.ModelConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Multi-step training on OpenCL: agreement with the reference after 100 steps, and a real corpus. */
@Tag("opencl")
class OpenClTrainingTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    /** Trains {@code steps} steps with truncated BPTT over contiguous streams; returns the per-step losses. */
    static double[] train(Backend be, TokenSequence seq, int B, int T, int steps, long seed) {
        double[] losses = new double[steps];
        be.setParameters(Init.initialize(be.layout(), seed));
        be.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
        long stride = (seq.length() - 1) / B;
        long[] starts = new long[B];
        try (RnnState st = be.newState(B);
                TokenBuffer tb = be.upload(seq)) {
            long pos = 0;
            for (int i = 0; i < steps; i++) {
                if (pos + T + 1 > stride) {
                    pos = 0;
                    st.reset();
                }
                for (int b = 0; b < B; b++) starts[b] = b * stride + pos;
                pos += T;
                be.forward(st, new Window(tb, starts, T, i), true);
                be.backward();
                be.clip(ClipMode.NORM, 5.0);
                be.step(2e-3 * 5, i + 1);
                losses[i] = be.loss();
            }
        }
        return losses;
    }

    /** A learnable synthetic corpus: a noisy repeating pattern over V symbols. */
    static TokenSequence patternCorpus(int n, int V, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(10) == 0 ? r.nextInt(V) : (i * 7 + i / 3) % V;
        return TokenSequence.of(t);
    }

    @Test
    void hundredStepsReachTheReferenceLossWithinOnePercent() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 17, 8, 32, 2, 0.1);
        TokenSequence seq = patternCorpus(20_000, 17, 3);
        BackendOptions opt = BackendOptions.defaults().withDropoutSeed(9);
        double[] ref, ocl;
        try (Backend r = new ReferenceBackend(cfg, opt.withPrecision(Precision.FP64))) {
            ref = train(r, seq, 8, 16, 100, 21);
        }
        try (Backend o = new OpenClBackend(cfg, opt)) {
            ocl = train(o, seq, 8, 16, 100, 21);
        }
        double r100 = ref[99], o100 = ocl[99];
        assertTrue(r100 < ref[0] - 0.5, "the reference should learn: " + ref[0] + " -> " + r100);
        assertEquals(r100, o100, 1e-3 + 0.01 * r100, "loss after 100 steps: reference " + r100 + ", opencl " + o100);
    }

    @Test
    void tinyShakespeareTrainsWithoutNaNAndTheLossFalls() throws IOException {
        String prop = System.getProperty("charrnn.shakespeare");
        assumeTrue(prop != null && Files.isRegularFile(Path.of(prop)), "tiny-shakespeare not available");
        byte[] text = Files.readAllBytes(Path.of(prop));
        // byte-level vocabulary: the distinct bytes in increasing order
        int[] map = new int[256];
        java.util.Arrays.fill(map, -1);
        boolean[] seen = new boolean[256];
        for (byte b : text) seen[b & 0xFF] = true;
        int V = 0;
        for (int i = 0; i < 256; i++) if (seen[i]) map[i] = V++;
        int[] ids = new int[text.length];
        for (int i = 0; i < text.length; i++) ids[i] = map[text[i] & 0xFF];
        ModelConfig cfg = new ModelConfig(CellType.LSTM, V, 32, 64, 1, 0.0);
        double[] losses;
        long t0 = System.nanoTime();
        try (Backend o = new OpenClBackend(cfg, BackendOptions.defaults())) {
            losses = train(o, TokenSequence.of(ids), 16, 32, 300, 5);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double first = 0, last = 0;
        for (int i = 0; i < 20; i++) {
            first += losses[i] / 20;
            last += losses[losses.length - 1 - i] / 20;
        }
        for (double l : losses) assertTrue(Double.isFinite(l), "loss must stay finite");
        assertTrue(last < first - 0.8, "loss should fall: first 20 steps " + first + ", last 20 " + last);
        assertTrue(last < 3.0, "after 300 steps the loss should be below 3 nats, got " + last);
        System.out.printf("tiny-shakespeare on OpenCL: %.3f -> %.3f nats in %.1f s%n", first, last, secs);
    }
}
