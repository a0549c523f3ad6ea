package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    private static final String DETAIL = "iter 81  epoch 0.19  loss 1.2345  val 1.4567  12,345 chars/s";

    /** Each redraw (after its carriage return) fits the terminal: it never wraps into a new line. */
    @Test
    void everyRedrawFitsTheTerminalWidth() {
        for (int columns : new int[] {40, 60, 80, 120}) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            long[] now = {0};
            ProgressBar bar = new ProgressBar(
                    new PrintStream(buf, true, StandardCharsets.UTF_8), "train", true, 0, columns, () -> now[0]);
            for (int it = 1; it <= 50; it++) {
                now[0] += 1_000_000_000L;
                bar.update(it, 1000, DETAIL);
            }
            for (String line : buf.toString(StandardCharsets.UTF_8).split("\r")) {
                assertTrue(line.length() <= columns - 1, columns + " columns: " + line.length() + " '" + line + "'");
            }
            String last = buf.toString(StandardCharsets.UTF_8)
                    .substring(buf.toString(StandardCharsets.UTF_8).lastIndexOf('\r') + 1);
            assertTrue(last.startsWith("train ["), last);
            if (columns >= 80) assertTrue(last.contains("loss 1.2345") && last.contains("ETA"), last);
        }
    }

    /** After a resume at iteration 81 of 1000, the ETA is this process's rate times what is left. */
    @Test
    void theEtaCountsOnlyThisProcesssProgress() {
        long[] now = {0};
        ProgressBar bar =
                new ProgressBar(new PrintStream(new ByteArrayOutputStream()), "train", true, 0, 200, () -> now[0]);
        bar.update(81, 1000, "");
        // 10 iterations in 10 s: 909 left take 909 s
        String line = bar.render(91, 1000, "", 10.0);
        assertTrue(line.endsWith("ETA 15:09"), line);
        assertEquals("15:09", ProgressBar.formatDuration(909));
    }
}
