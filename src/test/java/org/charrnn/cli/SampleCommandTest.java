package org.charrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sample reads the checkpoint while it probes the devices for --backend auto: same text, same errors. */
class SampleCommandTest {
    @TempDir
    Path dir;

    @Test
    void autoSamplesWhatItsChoiceSamplesAndSaysWhy() throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), TestData.pseudoText(3000, 4));
        Path run = dir.resolve("run");
        CliRun t = CliRun.of(
                "train",
                "--backend",
                "reference",
                "--quiet",
                "--data",
                text.toString(),
                "--cache-dir",
                dir.resolve("cache").toString(),
                "--out",
                run.toString(),
                "--batch",
                "2",
                "--seq",
                "10",
                "--hidden",
                "8",
                "--embedding",
                "4",
                "--layers",
                "1",
                "--max-iters",
                "3");
        assertEquals(0, t.code(), t.err());

        CliRun auto = CliRun.of("sample", "--checkpoint", run.toString(), "--length", "40", "--seed", "5");
        assertEquals(0, auto.code(), auto.err());
        Matcher m = Pattern.compile("(?m)^backend: (\\w+) on .*, auto\\)$").matcher(auto.err());
        assertTrue(m.find(), auto.err());
        assertTrue(auto.err().contains("\n  chosen because: "), auto.err());
        CliRun named = CliRun.of(
                "sample", "--checkpoint", run.toString(), "--length", "40", "--seed", "5", "--backend", m.group(1));
        assertEquals(0, named.code(), named.err());
        assertEquals(named.out(), auto.out());
        assertEquals(41, auto.out().codePointCount(0, auto.out().length()), auto.out());
    }

    @Test
    void aMissingCheckpointIsOneLineAndItsTraceIsItsOwn() {
        String missing = dir.resolve("no-run").toString();
        CliRun r = CliRun.of("sample", "--checkpoint", missing);
        r.assertOneLineError(missing);
        CliRun debug = CliRun.of("sample", "--debug", "--checkpoint", missing);
        assertEquals(2, debug.code(), debug.err());
        assertTrue(debug.err().startsWith("charrnn: "), debug.err());
        assertTrue(debug.err().contains("\tat "), debug.err());
        assertFalse(debug.err().contains("CompletionException"), debug.err());
    }
}
