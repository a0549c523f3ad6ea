package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.junit.jupiter.api.Test;

/** A bench row on the reference backend has sane fields and a JSON line joinable with torch_baseline.py's. */
class BenchRunnerTest {

    private static BenchResult runTiny(CellType cell, List<Long> progress) {
        BenchSpec spec = new BenchSpec(cell, 2, 8, 3, 4);
        return BenchRunner.run(
                spec,
                cfg -> new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(1)),
                new BenchRunner.Settings(4, 2, 3, 7),
                true,
                RnnKernel.AUTO,
                (done, total, detail) -> {
                    assertEquals(9, total);
                    progress.add(done);
                });
    }

    @Test
    void rowFieldsAreSane() {
        List<Long> progress = new ArrayList<>();
        BenchResult r = runTiny(CellType.LSTM, progress);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), progress);
        assertEquals("charrnn-reference", r.impl());
        assertEquals("fp64", r.precision());
        assertFalse(r.graph(), "graph is only reported for cuda");
        assertTrue(r.msMedian() > 0 && r.msMin() > 0 && r.msMin() <= r.msMedian(), r.toString());
        assertEquals(3 * 4 / r.msMedian() * 1000, r.charsPerSecond(), 1e-9);
        assertTrue(r.forwardMs() > 0 && r.backwardMs() > 0 && r.updateMs() > 0, r.toString());
        assertEquals("heap", r.memKind());
        assertTrue(r.peakMemMib() > 0, "peak memory " + r.peakMemMib());
        assertEquals(4, r.steps());
        assertEquals(2, r.warmup());
        assertEquals(3, r.splitSteps());
    }

    @Test
    void jsonLineHasTorchBaselineFields() {
        BenchResult r = runTiny(CellType.GRU, new ArrayList<>());
        String line = r.toJsonLine();
        assertFalse(line.contains("\n"));
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        // the fields torch_baseline.py prints, with the same types
        assertEquals("charrnn-reference", o.get("impl").getAsString());
        assertEquals("gru", o.get("cell").getAsString());
        assertEquals(2, o.get("layers").getAsInt());
        assertEquals(8, o.get("hidden").getAsInt());
        assertEquals(3, o.get("batch").getAsInt());
        assertEquals(4, o.get("seq").getAsInt());
        assertFalse(o.get("tf32").getAsBoolean());
        assertTrue(o.get("device").getAsString().startsWith("Java"));
        assertEquals(
                Math.round(r.msMedian() * 1000) / 1000.0, o.get("ms_per_step").getAsDouble(), 1e-12);
        assertEquals(Math.round(r.charsPerSecond()), o.get("chars_per_s").getAsLong());
        assertTrue(o.get("peak_mem_mib").getAsDouble() > 0);
        for (String f : new String[] {"ms_min", "forward_ms", "backward_ms", "update_ms", "precision", "java", "date"})
            assertTrue(o.has(f), f);
        JsonRows back = JsonRows.of(o);
        assertEquals(new JsonRows.Key("gru", 2, 8, 3, 4), back.key());
        assertEquals("charrnn-reference fp64", back.variant());
        assertEquals("auto", o.get("rnn_kernel").getAsString(), "the --rnn-kernel asked for");
    }

    @Test
    void withoutSplitStepsThePhaseFieldsAreNull() {
        BenchResult r = BenchRunner.run(
                new BenchSpec(CellType.RNN, 1, 4, 2, 3),
                cfg -> new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(1)),
                new BenchRunner.Settings(2, 0, 0, 1),
                false,
                RnnKernel.STEPWISE,
                (done, total, detail) -> {});
        assertTrue(Double.isNaN(r.forwardMs()));
        JsonObject o = JsonParser.parseString(r.toJsonLine()).getAsJsonObject();
        assertEquals("charrnn-reference fp64 stepwise", JsonRows.of(o).variant(), "a forced kernel is its own series");
        assertTrue(
                o.get("forward_ms").isJsonNull()
                        && o.get("backward_ms").isJsonNull()
                        && o.get("update_ms").isJsonNull(),
                o.toString());
        assertTrue(o.get("ms_per_step").getAsDouble() > 0);
        assertEquals("-", Table.cells(r)[10]);
    }

    @Test
    void grids() {
        List<BenchSpec> torch = Grids.grid("torch-rnn");
        assertEquals(12, torch.size());
        for (BenchSpec s : torch) {
            assertEquals(CellType.LSTM, s.cell());
            assertEquals(50, s.batch());
            assertEquals(50, s.seq());
        }
        assertEquals(
                List.of(
                        new BenchSpec(CellType.LSTM, 3, 512, 128, 100),
                        new BenchSpec(CellType.LSTM, 2, 1024, 128, 100),
                        new BenchSpec(CellType.GRU, 2, 256, 50, 50),
                        new BenchSpec(CellType.RNN, 2, 256, 50, 50)),
                Grids.grid("large"));
        assertEquals(16, Grids.grid("ALL").size());
        List<BenchSpec> small = Grids.filter(
                torch, new Grids.Filter(List.of(), List.of(), List.of(64, 128, 256), List.of(), List.of()));
        assertEquals(9, small.size());
        assertTrue(small.stream().allMatch(s -> s.hidden() <= 256));
        assertEquals(
                2,
                Grids.filter(
                                Grids.grid("all"),
                                new Grids.Filter(
                                        List.of(CellType.GRU, CellType.RNN),
                                        List.of(),
                                        List.of(),
                                        List.of(),
                                        List.of()))
                        .size());
        assertThrows(IllegalArgumentException.class, () -> Grids.grid("bogus"));
        assertEquals(
                6,
                Grids.product(
                                List.of(CellType.LSTM, CellType.RNN),
                                List.of(1, 2, 3),
                                List.of(16),
                                List.of(2),
                                List.of(3))
                        .size());
    }

    @Test
    void settingsRejectBadCounts() {
        assertThrows(IllegalArgumentException.class, () -> new BenchRunner.Settings(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BenchRunner.Settings(1, -1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BenchRunner.Settings(1, 1, -1, 1));
    }

    @Test
    void statistics() {
        assertEquals(2.0, Stats.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Stats.median(new double[] {4, 1, 3, 2}));
        assertEquals(1.0, Stats.min(new double[] {4, 1, 3, 2}));
        assertTrue(Double.isNaN(Stats.median(new double[0])));
    }
}
