package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The bar's verdicts on hand-written rows: which rows it judges, against which PyTorch rows, and why one misses. */
class BarTest {

    static String ours(
            String cell, int l, int h, int b, int t, String precision, String kernel, double ms, Double peak) {
        return String.format(
                Locale.ROOT,
                "{\"impl\":\"charrnn-cuda\",\"device\":\"NVIDIA H200\",\"precision\":\"%s\",\"graph\":true,"
                        + "%s\"cell\":\"%s\",\"layers\":%d,\"hidden\":%d,\"batch\":%d,\"seq\":%d,\"ms_per_step\":%s,"
                        + "\"peak_mem_mib\":%s}",
                precision,
                kernel == null ? "" : "\"rnn_kernel\":\"" + kernel + "\",",
                cell,
                l,
                h,
                b,
                t,
                ms,
                peak == null ? "null" : peak.toString());
    }

    static String torch(String impl, String cell, int l, int h, int b, int t, boolean tf32, double ms, double peak) {
        return String.format(
                Locale.ROOT,
                "{\"impl\": \"%s\", \"device\": \"NVIDIA H200\", \"cell\": \"%s\", \"layers\": %d, \"hidden\": %d, "
                        + "\"batch\": %d, \"seq\": %d, \"tf32\": %b, \"ms_per_step\": %s, \"peak_mem_mib\": %s}",
                impl,
                cell,
                l,
                h,
                b,
                t,
                tf32,
                ms,
                peak);
    }

    /** PyTorch's four variants of one configuration: eager fp32 / TF32, graph fp32 / TF32. */
    static List<String> torchRows(
            String cell, int l, int h, int b, int t, double graphFp32, double graphTf32, double peak) {
        return List.of(
                torch("pytorch", cell, l, h, b, t, false, graphFp32 * 3, peak),
                torch("pytorch", cell, l, h, b, t, true, graphTf32 * 3, peak),
                torch("pytorch-cudagraph", cell, l, h, b, t, false, graphFp32, peak * 2),
                torch("pytorch-cudagraph", cell, l, h, b, t, true, graphTf32, peak * 2));
    }

    /** The table's last line: how many of how many rows met the bar, and what the bar is. */
    static void assertSummary(String md, int met, int rows) {
        String last = "bar: " + met + " of " + rows
                + " rows met (5x PyTorch with a CUDA graph at B <= 50, 2x above; peak memory <= eager PyTorch's)";
        assertTrue(md.strip().endsWith(last), md);
    }

    static List<JsonRows> parse(List<String> lines) {
        return JsonRows.parse(String.join("\n", lines), "rows.jsonl");
    }

    @Test
    void smallRowsNeedFiveTimesAndLargeRowsTwice() {
        assertEquals(5.0, Bar.needed(1));
        assertEquals(5.0, Bar.needed(50));
        assertEquals(2.0, Bar.needed(51));
        assertEquals(2.0, Bar.needed(128));
    }

    @Test
    void judgesAutoCudaRowsAgainstTheGraphAndEagerRowsOfTheirPrecision() {
        List<String> lines = new ArrayList<>(torchRows("lstm", 2, 256, 50, 50, 2.0, 1.6, 155.0));
        lines.addAll(torchRows("lstm", 2, 1024, 128, 100, 36.0, 11.5, 1471.0));
        lines.add(ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.4, 150.0)); // 5.00x: met exactly
        lines.add(ours("lstm", 2, 256, 50, 50, "tf32", null, 0.4, 150.0)); // 4.00x against TF32's 1.6
        lines.add(ours("lstm", 2, 1024, 128, 100, "fp32", "auto", 17.0, 1400.0)); // 2.12x: met
        lines.add(ours("lstm", 2, 1024, 128, 100, "tf32", "auto", 5.0, 1500.0)); // 2.30x, more memory
        lines.add(ours("lstm", 2, 256, 50, 50, "fp32", "persistent", 0.1, 1.0)); // forced: not judged
        lines.add(ours("lstm", 2, 256, 50, 50, "bf16", "auto", 0.1, 1.0)); // no PyTorch bf16: not judged
        lines.add(ours("lstm", 2, 1024, 128, 100, "tf32", "auto", 1.0, 1.0)
                .replace("\"cell\"", "\"knobs\":{\"charrnn.layerPipeline\":\"off\"},\"cell\"")); // a knob: not judged
        List<Bar.Verdict> v = Bar.judge(parse(lines));
        assertEquals(4, v.size(), v.toString());
        assertEquals(2.0, v.get(0).graphMs());
        assertEquals(155.0, v.get(0).eagerPeak(), "eager PyTorch's peak, not the graph's");
        assertEquals(5.0, v.get(0).speedup(), 1e-12);
        assertTrue(v.get(0).met());
        assertEquals(1.6, v.get(1).graphMs(), "TF32 against PyTorch's TF32");
        assertFalse(v.get(1).fastEnough());
        assertTrue(v.get(1).leanEnough());
        assertEquals(2.0, v.get(2).needed());
        assertTrue(v.get(2).met());
        assertTrue(v.get(3).fastEnough());
        assertFalse(v.get(3).leanEnough());
        assertFalse(v.get(3).met());

        String md = Bar.markdown(v);
        assertTrue(
                md.contains(
                        "| lstm L2 H256 B50 T50 | charrnn-cuda fp32 graph | 0.400 | 2.00 | 5.00x | 5x | 150.0 | 155.0 | yes |"),
                md);
        assertTrue(md.contains("| 4.00x | 5x | 150.0 | 155.0 | no (speed) |"), md);
        assertTrue(md.contains("| 2.30x | 2x | 1500.0 | 1471.0 | no (memory) |"), md);
        assertSummary(md, 2, 4);
    }

    @Test
    void aRowWithoutItsPyTorchRowsOrPeakIsNotMet() {
        List<String> lines = new ArrayList<>(torchRows("lstm", 2, 256, 50, 50, 2.0, 1.6, 155.0));
        lines.add(ours("gru", 2, 256, 50, 50, "fp32", "auto", 0.1, 10.0)); // no PyTorch GRU rows
        lines.add(ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.1, null)); // no peak of ours
        List<Bar.Verdict> v = Bar.judge(parse(lines));
        assertEquals(2, v.size());
        assertFalse(v.get(0).met());
        assertTrue(Double.isNaN(v.get(0).speedup()));
        assertFalse(v.get(1).met(), "fast, but its memory is unknown");
        assertTrue(v.get(1).fastEnough());
        String md = Bar.markdown(v);
        assertTrue(md.contains("| - | - | 5x | 10.0 | - | no (no PyTorch graph row, no peak memory) |"), md);
        assertTrue(md.contains("| 20.00x | 5x | - | 155.0 | no (no peak memory) |"), md);
        assertSummary(md, 0, 2);
    }

    @Test
    void theLastRowOfAConfigurationCounts() {
        List<String> lines = new ArrayList<>(torchRows("lstm", 2, 256, 50, 50, 2.0, 1.6, 155.0));
        lines.add(ours("lstm", 2, 256, 50, 50, "fp32", "auto", 1.0, 100.0));
        lines.add(ours("lstm", 2, 256, 50, 50, "fp32", "auto", 0.2, 100.0)); // a rerun
        lines.add(torch("pytorch-cudagraph", "lstm", 2, 256, 50, 50, false, 0.5, 300.0)); // PyTorch's rerun
        List<Bar.Verdict> v = Bar.judge(parse(lines));
        assertEquals(1, v.size());
        assertEquals(0.2, v.get(0).ours().msPerStep());
        assertEquals(0.5, v.get(0).graphMs());
        assertFalse(v.get(0).met(), "2.5x after PyTorch's rerun");
    }
}
