package org.charrnn.backend.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Properties;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;

/**
 * What a workspace allocates, counted through a stand-in DeviceOps: the device backends' peak memory
 * is the parameters, gradients and optimizer state plus this, so this is what keeps it at or under
 * PyTorch's on the large bench rows. One [N,Gi] projection buffer serves every layer's forward and
 * is backward's dgx.
 */
class WorkspaceMemoryTest {

    /** A DeviceOps that records each allocation's size and does nothing else. */
    private static DeviceOps counting(List<Long> sizes) {
        return counting(sizes, false);
    }

    /** As above, answering {@code overlap} to overlapWeightGradients. */
    private static DeviceOps counting(List<Long> sizes, boolean overlap) {
        return (DeviceOps) Proxy.newProxyInstance(
                DeviceOps.class.getClassLoader(), new Class<?>[] {DeviceOps.class}, (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "alloc" -> {
                            long bytes = (Long) args[0];
                            sizes.add(bytes);
                            return (DeviceArray) () -> bytes;
                        }
                        case "allocStepStarts" -> { // the default's plain allocation of B int64
                            long bytes = 8L * (Integer) args[0];
                            sizes.add(bytes);
                            return (DeviceArray) () -> bytes;
                        }
                        case "free" -> {
                            if (args[0] != null) sizes.add(-((DeviceArray) args[0]).bytes()); // null: a no-op
                            return null;
                        }
                        case "name" -> {
                            return "counting";
                        }
                        case "reserveGemmScratch" -> {
                            return null;
                        }
                        case "overlapWeightGradients" -> {
                            return overlap;
                        }
                        case "windows" -> {
                            return WindowKernels.NONE; // every layer alone: no pairs
                        }
                        default -> throw new UnsupportedOperationException(m.getName());
                    }
                });
    }

    private static long sum(List<Long> sizes) {
        return sizes.stream().mapToLong(Long::longValue).sum();
    }

    @Test
    void aTrainingWorkspaceHoldsOneProjectionBufferForAllLayers() {
        int L = 3, E = 24, H = 40, V = 65, T = 7, B = 5;
        long n = (long) T * B, G = 4L * H, f = 4;
        List<Long> sizes = new ArrayList<>();
        ModelConfig cfg = new ModelConfig(CellType.LSTM, V, E, H, L, 0.0);
        Workspace w = new Workspace(counting(sizes), cfg, DeviceCell.of(CellType.LSTM), true);
        w.ensure(T, B);
        long window = 2 * n * 4
                + B * 8L // x, y, starts
                + n * E * f
                + (long) B * E * f // emb, firstInput
                + n * G * f // gx: one for all layers (and dgx)
                + L * (n * G * f + 2 * (n * H + (long) B * H) * f) // per layer: saved gates, hs, cs (one buffer)
                + (long) B * G * f
                + n * V * f
                + n * f
                + f
                + n * f
                + f // gh, logits, rowLoss, lossSum, targetWeight, counted
                + 2 * n * Math.max(E, H) * f // dA, dB
                + (long) L * 2 * B * H * f
                + (long) B * E * f; // stateGrad (also backward's dhNext and dc), firstInputGrad
        assertEquals(window, sum(sizes), "bytes of a training workspace, L " + L + " T " + T + " B " + B);
        assertSame(w.gx, w.dgx, "backward's dgx is the forward's projection buffer");
        assertSame(w.dgx, w.recurrentGrad(0), "an LSTM's recurrent gradient is dgx");

        w.release();
        assertEquals(0, sum(sizes), "release frees each buffer once (dgx is not freed twice)");
    }

    @Test
    void aTokenTableTakesTheEmbeddingRowsPlaceUntilAWindowBringsAFirstInput() {
        int L = 2, E = 24, H = 40, V = 11, T = 7, B = 5; // V < N = 35: projected by token
        long n = (long) T * B, f = 4;
        ModelConfig cfg = new ModelConfig(CellType.LSTM, V, E, H, L, 0.0);
        List<Long> rows = new ArrayList<>(), table = new ArrayList<>();
        Workspace r = Properties.with(TokenProjection.PROPERTY, "off", () -> {
            Workspace w = new Workspace(counting(rows), cfg, DeviceCell.of(CellType.LSTM), true);
            w.ensure(T, B);
            return w;
        });
        Workspace t = new Workspace(counting(table), cfg, DeviceCell.of(CellType.LSTM), true);
        t.ensure(T, B);
        assertEquals(null, r.tokenTable);
        assertEquals(
                (long) V * 4 * H * f - n * E * f,
                sum(table) - sum(rows),
                "the table [V,4H] in place of the embedding rows [N,E]");
        assertEquals(null, t.emb, "no window read them yet");
        int before = table.size();
        assertTrue(t.embeddingRows(), "a first input's window allocates them");
        assertEquals(List.of(n * E * f), table.subList(before, table.size()));
        assertTrue(!t.embeddingRows() && !r.embeddingRows(), "once");
        t.release();
        r.release();
        assertEquals(0, sum(table), "release frees them with the rest");
        assertEquals(0, sum(rows));
        List<Long> mut = new ArrayList<>();
        Workspace m = Properties.with(TokenProjection.PROPERTY, "on", () -> {
            Workspace w = new Workspace(
                    counting(mut), new ModelConfig(CellType.MUT3, V, E, H, L, 0.0), DeviceCell.of(CellType.MUT3), true);
            w.ensure(T, B);
            return w;
        });
        assertTrue(m.tokenTable != null && m.emb != null, "MUT3's step kernels take x: it keeps the rows");
        m.release();
    }

    @Test
    void aGruKeepsItsOwnRecurrentGradientAndAnEvaluationWorkspaceHasNoGradients() {
        int L = 2, H = 16, T = 3, B = 2;
        long n = (long) T * B;
        ModelConfig cfg = new ModelConfig(CellType.GRU, 11, H, H, L, 0.0);
        List<Long> train = new ArrayList<>(), eval = new ArrayList<>();
        Workspace t = new Workspace(counting(train), cfg, DeviceCell.of(CellType.GRU), true);
        Workspace e = new Workspace(counting(eval), cfg, DeviceCell.of(CellType.GRU), false);
        t.ensure(T, B);
        e.ensure(T, B);
        long gradients = n * 3 * H * 4 // dgh [N,3H]; dgx is gx
                + 2 * n * H * 4 // dA, dB
                + (long) L * B * H * 4
                + (long) B * H * 4; // stateGrad (also backward's dhNext), firstInputGrad
        assertEquals(gradients, sum(train) - sum(eval), "what training adds to an evaluation workspace");
        assertSame(t.gx, t.dgx);
        assertEquals(t.dgh, t.recurrentGrad(0));
        t.release();
        e.release();
        assertEquals(0, sum(train));
        assertEquals(0, sum(eval));
    }

    @Test
    void overlappedWeightGradientsAlternateTwoGradientBuffersByLayer() {
        int L = 3, H = 16, T = 3, B = 2;
        long n = (long) T * B;
        ModelConfig cfg = new ModelConfig(CellType.GRU, 11, H, H, L, 0.0);
        List<Long> plain = new ArrayList<>(), over = new ArrayList<>();
        Workspace p = new Workspace(counting(plain, false), cfg, DeviceCell.of(CellType.GRU), true);
        Workspace o = new Workspace(counting(over, true), cfg, DeviceCell.of(CellType.GRU), true);
        p.ensure(T, B);
        o.ensure(T, B);
        assertEquals(2 * n * 3 * H * 4, sum(over) - sum(plain), "a second dgx [N,3H] and dgh [N,3H]");
        assertSame(o.dgx, o.dgx(2), "the top layer writes the projection buffer");
        assertSame(o.dgxAlt, o.dgx(1));
        assertSame(o.dgx, o.dgx(0));
        assertSame(o.dghAlt, o.recurrentGrad(1));
        assertSame(o.dgh, o.recurrentGrad(0));
        for (int l = 0; l < L; l++) assertSame(p.dgx, p.dgx(l), "without overlap one buffer serves every layer");
        o.release();
        assertEquals(0, sum(over));
        List<Long> one = new ArrayList<>();
        Workspace single = new Workspace(
                counting(one, true),
                new ModelConfig(CellType.LSTM, 11, H, H, 1, 0.0),
                DeviceCell.of(CellType.LSTM),
                true);
        single.ensure(T, B);
        assertTrue(single.overlap);
        assertSame(single.dgx, single.recurrentGrad(0), "one layer: nothing to alternate");
        assertEquals(null, single.dgxAlt);
    }

    @Test
    void layersWhoseStatesPassTwoToThe31ElementsAreOneLineErrors() {
        // T*B*4H = 1.6e9 passes the window check; the states of 3 LSTM layers, 6 (T+1) B H = 2.5e9, do not
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 1024, 1024, 3, 0.0);
        List<Long> sizes = new ArrayList<>();
        Workspace w = new Workspace(counting(sizes), cfg, DeviceCell.of(CellType.LSTM), true);
        UserError e = assertThrows(UserError.class, () -> w.ensure(1, 400_000));
        assertEquals(
                "window too large for the counting backend: the layers' states, L*S*(T+1)*B*H, exceed 2^31 elements",
                e.getMessage());
        assertEquals(0, sizes.size(), "nothing was allocated");
    }
}
