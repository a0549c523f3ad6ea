package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The join of our rows with torch_baseline.py's rows and the ratio table, on hand-written lines. */
class CompareTest {

    static final String OURS = """
            backend: cuda on NVIDIA H100 80GB HBM3 (fp32)
            {"impl":"charrnn-cuda","device":"NVIDIA H100 80GB HBM3","precision":"fp32","tf32":false,"graph":true,"cell":"lstm","layers":2,"hidden":256,"batch":50,"seq":50,"ms_per_step":4.0,"chars_per_s":625000}
            {"impl":"charrnn-cuda","device":"NVIDIA H100 80GB HBM3","precision":"tf32","tf32":true,"graph":true,"cell":"lstm","layers":2,"hidden":256,"batch":50,"seq":50,"ms_per_step":3.0,"chars_per_s":833333}
            {"impl":"charrnn-cuda","device":"NVIDIA H100 80GB HBM3","precision":"fp32","tf32":false,"graph":true,"cell":"gru","layers":2,"hidden":256,"batch":50,"seq":50,"ms_per_step":5.0,"chars_per_s":500000}
            """;
    // torch_baseline.py's exact output format (no precision field; tf32 flag instead)
    static final String TORCH = """
            {"impl": "pytorch", "torch": "2.11.0+cu130", "cudnn": 91900, "device": "NVIDIA H100 80GB HBM3", "cell": "lstm", "layers": 2, "hidden": 256, "batch": 50, "seq": 50, "tf32": false, "ms_per_step": 8.0, "chars_per_s": 312500, "peak_mem_mib": 60.1}
            {"impl": "pytorch", "torch": "2.11.0+cu130", "cudnn": 91900, "device": "NVIDIA H100 80GB HBM3", "cell": "lstm", "layers": 2, "hidden": 256, "batch": 50, "seq": 50, "tf32": true, "ms_per_step": 6.0, "chars_per_s": 416667, "peak_mem_mib": 60.1}
            {"impl": "pytorch-cudagraph", "torch": "2.11.0+cu130", "cudnn": 91900, "device": "NVIDIA H100 80GB HBM3", "cell": "lstm", "layers": 2, "hidden": 256, "batch": 50, "seq": 50, "tf32": false, "ms_per_step": 9.0, "chars_per_s": 277778, "peak_mem_mib": 60.1}
            {"impl": "pytorch-cudagraph", "torch": "2.11.0+cu130", "cudnn": 91900, "device": "NVIDIA H100 80GB HBM3", "cell": "lstm", "layers": 2, "hidden": 256, "batch": 50, "seq": 50, "tf32": false, "ms_per_step": 2.0, "chars_per_s": 1250000, "peak_mem_mib": 60.1}
            {"impl": "pytorch", "torch": "2.11.0+cu130", "cudnn": 91900, "device": "NVIDIA H100 80GB HBM3", "cell": "lstm", "layers": 1, "hidden": 128, "batch": 50, "seq": 50, "tf32": false, "ms_per_step": 1.0, "chars_per_s": 2500000, "peak_mem_mib": 20.0}
            """;

    private static List<JsonRows> rows() {
        List<JsonRows> r = new java.util.ArrayList<>(JsonRows.parse(OURS, "ours"));
        r.addAll(JsonRows.parse(TORCH, "torch"));
        return r;
    }

    @Test
    void parsesBothFormats() {
        List<JsonRows> r = rows();
        assertEquals(8, r.size(), "the log line is skipped");
        assertEquals("charrnn-cuda fp32 graph", r.get(0).variant());
        assertEquals("pytorch fp32", r.get(3).variant());
        assertEquals("pytorch tf32", r.get(4).variant());
        assertEquals("pytorch-cudagraph fp32", r.get(5).variant());
    }

    @Test
    void rowsMeasuredWithKnobsAreTheirOwnSeries() {
        String line = "{\"impl\":\"charrnn-cuda\",\"precision\":\"tf32\",\"graph\":true,\"rnn_kernel\":\"auto\","
                + "\"knobs\":{\"charrnn.pipelineChunk\":\"5\",\"charrnn.layerPipeline\":\"off\"},"
                + "\"cell\":\"lstm\",\"layers\":2,\"hidden\":1024,\"batch\":128,\"seq\":100,\"ms_per_step\":6.0}";
        JsonRows r = JsonRows.parse(line, "ours").get(0);
        assertEquals("charrnn-cuda tf32 graph layerPipeline=off pipelineChunk=5", r.variant());
        String notAnObject = line.replace(
                "{\"charrnn.pipelineChunk\":\"5\",\"charrnn.layerPipeline\":\"off\"}", "\"layerPipeline=off\"");
        UserError e = assertThrows(UserError.class, () -> JsonRows.parse(notAnObject, "ours"));
        assertEquals("ours:1: 'knobs' is not an object: \"layerPipeline=off\"", e.getMessage());
    }

    @Test
    void joinsOnConfigurationAndComputesTimeRatios() {
        List<JsonRows> r = rows();
        assertEquals(List.of("pytorch fp32", "pytorch tf32", "pytorch-cudagraph fp32"), Compare.torchVariants(r));
        List<Compare.Joined> j = Compare.join(r);
        assertEquals(3, j.size(), "one joined row per row of ours");
        Compare.Joined lstmFp32 = j.get(0);
        assertEquals(0.5, lstmFp32.ratio("pytorch fp32"), 1e-12);
        assertEquals(4.0 / 6.0, lstmFp32.ratio("pytorch tf32"), 1e-12);
        assertEquals(2.0, lstmFp32.ratio("pytorch-cudagraph fp32"), 1e-12, "the last row of a variant counts");
        assertEquals(0.375, j.get(1).ratio("pytorch fp32"), 1e-12);
        assertTrue(Double.isNaN(j.get(2).ratio("pytorch fp32")), "no PyTorch GRU row");
    }

    @Test
    void markdownTable() {
        String md = Compare.markdown(rows());
        String[] lines = md.strip().split("\n");
        assertEquals(5, lines.length, md);
        assertEquals(
                "| config | impl | device | ms/step | pytorch fp32 ms | ours/pytorch fp32 | pytorch tf32 ms | ours/pytorch tf32 "
                        + "| pytorch-cudagraph fp32 ms | ours/pytorch-cudagraph fp32 |",
                lines[0]);
        assertTrue(lines[1].matches("\\|(---\\|)+"), lines[1]);
        assertEquals(
                "| lstm L2 H256 B50 T50 | charrnn-cuda fp32 graph | NVIDIA H100 80GB HBM3 | 4.00 | 8.00 | 0.50 | 6.00 | 0.67 | 2.00 | 2.00 |",
                lines[2]);
        assertEquals(
                "| gru L2 H256 B50 T50 | charrnn-cuda fp32 graph | NVIDIA H100 80GB HBM3 | 5.00 | - | - | - | - | - | - |",
                lines[4]);
    }

    @Test
    void rowsWithoutKeyFieldsOrBrokenJsonAreErrors() {
        UserError e =
                assertThrows(UserError.class, () -> JsonRows.parse("{\"impl\":\"x\",\"cell\":\"lstm\"}\n", "f.jsonl"));
        assertTrue(e.getMessage().startsWith("f.jsonl:1: "), e.getMessage());
        assertTrue(e.getMessage().contains("layers"), e.getMessage());
        UserError bad = assertThrows(UserError.class, () -> JsonRows.parse("\n{\"impl\": \n", "g.jsonl"));
        assertEquals("g.jsonl:2: not valid JSON: End of input at line 1 column 9 path $.impl", bad.getMessage());
        UserError nan = assertThrows(
                UserError.class,
                () -> JsonRows.parse(
                        "{\"impl\":\"x\",\"cell\":\"lstm\",\"layers\":1,\"hidden\":8,\"batch\":1,\"seq\":1,"
                                + "\"ms_per_step\":\"zz\"}\n",
                        "h.jsonl"));
        assertEquals("h.jsonl:1: \"zz\" is not a number", nan.getMessage());
    }

    @Test
    void aFromThatIsNoTextFileIsOneLine(@TempDir Path dir) throws Exception {
        UserError folder = assertThrows(UserError.class, () -> JsonRows.read(List.of(dir)));
        assertEquals("cannot read " + dir + ": Is a directory", folder.getMessage());
        Path binary = Files.write(dir.resolve("ckpt.safetensors"), new byte[] {'{', (byte) 0xff, (byte) 0xfe, 0});
        UserError notText = assertThrows(UserError.class, () -> JsonRows.read(List.of(binary)));
        assertEquals(binary + " is not UTF-8 text, so not JSON lines", notText.getMessage());
    }
}
