package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LogLinesTest {
    private static final String BACKEND = "backend: opencl on pthread-skylake-avx512-AMD EPYC"
            + " (Portable Computing Language, rnn window) (fp32, auto)";

    @Test
    void aLongLineBreaksAtSpacesWithinTheWidth() {
        List<String> lines = LogLines.wrap(BACKEND, 80);
        assertEquals(
                List.of(
                        "backend: opencl on pthread-skylake-avx512-AMD EPYC (Portable Computing Language,",
                        "    rnn window) (fp32, auto)"),
                lines);
        for (String l : LogLines.wrap(BACKEND, 40)) assertTrue(l.length() <= 40, l);
        assertEquals(BACKEND, String.join(" ", LogLines.wrap(BACKEND, 40)).replaceAll(" +", " "));
    }

    @Test
    void shortLinesAndUnbreakableWordsStayWhole() {
        assertEquals(List.of("iter 1/60  loss 4.15"), LogLines.wrap("iter 1/60  loss 4.15", 80));
        String path = "checkpoint " + "/very/long/path".repeat(8);
        assertEquals(List.of("checkpoint", "    " + "/very/long/path".repeat(8)), LogLines.wrap(path, 40));
        assertEquals(List.of(BACKEND), LogLines.wrap(BACKEND, 10), "a width too narrow to help changes nothing");
    }
}
