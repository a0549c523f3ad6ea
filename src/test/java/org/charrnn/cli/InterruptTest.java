package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.charrnn.io.Checkpoint;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Ctrl-C (SIGINT) and SIGTERM (timeout, docker stop, job schedulers) finish the step, write a
 * loadable checkpoint and exit 130 or 143.
 */
class InterruptTest {

    @ParameterizedTest(name = "SIG{0} exits {1}")
    @CsvSource({"INT,130", "TERM,143"})
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void stopSignalWritesCheckpointAndExits(String signal, int exitCode, @TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(20000, 5));
        Path out = dir.resolve("run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "train",
                        "--backend",
                        "reference",
                        "--quiet",
                        "--print-every",
                        "1",
                        "--data",
                        data.toString(),
                        "--out",
                        out.toString(),
                        "--cache-dir",
                        dir.resolve("cache").toString(),
                        "--batch",
                        "4",
                        "--seq",
                        "20",
                        "--hidden",
                        "16",
                        "--layers",
                        "1",
                        "--checkpoint-every",
                        "100000",
                        "--max-iters",
                        "100000"))
                .redirectErrorStream(true)
                .start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = r.readLine()) != null) {
                seen.append(line).append('\n');
                if (line.startsWith("iter 5/")) break;
            }
            assertTrue(seen.toString().contains("iter 5/"), seen.toString());
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .start()
                    .waitFor();
            while ((line = r.readLine()) != null) seen.append(line).append('\n');
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "process exits");
            assertEquals(exitCode, p.exitValue(), seen.toString());
            assertTrue(seen.toString().contains("interrupted: checkpoint written"), seen.toString());
        } finally {
            p.destroyForcibly();
        }
        List<Path> ckpts = Checkpoint.list(out);
        assertEquals(1, ckpts.size());
        Checkpoint.Model m = Checkpoint.loadModel(ckpts.get(0));
        assertTrue(m.info().iteration() >= 5);
        assertEquals(m.info().iteration(), Checkpoint.loadState(ckpts.get(0)).iteration());
    }
}
