package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.charrnn.testutil.Properties;
import org.junit.jupiter.api.Test;

/** The -D knobs a bench row records: which are set, how a row's series names them, and that none is missed. */
class KnobsTest {

    @Test
    void aRowRecordsTheKnobsSetAndNothingElse() {
        Map<String, String> k = Properties.with(
                "charrnn.layerPipeline",
                "off",
                () -> Properties.with("charrnn.persistent.rates", "/tmp/rates.json", Knobs::current));
        assertEquals(Map.of("charrnn.layerPipeline", "off"), k, "a path is not a knob");
        assertEquals(" layerPipeline=off", Knobs.label(k));
        assertEquals("", Knobs.label(Map.of()));
    }

    /** Every charrnn.* property the main sources name is a knob or says where something is. */
    @Test
    void everyPropertyTheCodeReadsIsClassified() throws IOException {
        Path main = Path.of(System.getProperty("charrnn.basedir", "."), "src", "main", "java");
        Pattern literal = Pattern.compile("\"(charrnn\\.[a-zA-Z.]+)\"");
        Set<String> named = new TreeSet<>();
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = literal.matcher(Files.readString(f));
                while (m.find()) named.add(m.group(1));
            }
        }
        assertTrue(named.contains("charrnn.layerPipeline"), "the scan finds the properties: " + named);
        for (String p : named)
            assertTrue(
                    Knobs.KNOBS.contains(p) || Knobs.WHERE.contains(p),
                    p + " is read by the code but neither a knob nor a place (bench.Knobs)");
        for (String p : Knobs.KNOBS) assertFalse(Knobs.WHERE.contains(p), p);
    }
}
