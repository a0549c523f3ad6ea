package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.charrnn.testutil.CliRun;
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
            // (Knobs itself names them all, the tests' own among them)
            for (Path f : files.filter(p -> p.toString().endsWith(".java") && !p.endsWith("Knobs.java"))
                    .toList()) {
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

    /** A charrnn.* property the code does not read is an error, with the nearest known one for a slip. */
    @Test
    void anUnknownPropertyIsNamed() throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("java.home", "/jdk");
        p.setProperty("charrnn.layerPipeline", "off");
        p.setProperty("charrnn.persistent.rates", "/tmp/rates.json");
        // the build's test properties pass: a JVM a test starts may inherit them (JAVA_TOOL_OPTIONS)
        p.setProperty("charrnn.shakespeare", "/data/t.txt");
        p.setProperty("charrnn.test.knobFirst", "100");
        assertNull(Knobs.unknownProperty(p));
        p.setProperty("charrnn.layerPipelin", "off");
        assertEquals(
                "unknown property -Dcharrnn.layerPipelin; did you mean -Dcharrnn.layerPipeline?",
                Knobs.unknownProperty(p));
        java.util.Properties far = new java.util.Properties();
        far.setProperty("charrnn.gpu", "1");
        assertTrue(
                Knobs.unknownProperty(far).startsWith("unknown property -Dcharrnn.gpu; charrnn reads charrnn.cuda."),
                Knobs.unknownProperty(far));
        assertEquals(0, Knobs.distance("overlap", "overlap"));
        assertEquals(1, Knobs.distance("overlap", "overlapp"));
        assertEquals(2, Knobs.distance("tiledGemm", "tileGem"));
        // the launcher's JVM refuses it before any command runs
        CliRun.inChildJvm(List.of("-Dcharrnn.overlapp=off"), 60, "devices")
                .assertOneLineError("unknown property -Dcharrnn.overlapp; did you mean -Dcharrnn.overlap?");
    }

    /** Every charrnn.* property the pom hands the tests is one {@link Knobs#unknownProperty} lets pass. */
    @Test
    void theBuildsTestPropertiesAreKnown() throws IOException {
        String pom = Files.readString(Path.of(System.getProperty("charrnn.basedir", "."), "pom.xml"));
        Matcher m = Pattern.compile("<(charrnn\\.[a-zA-Z.]+)>").matcher(pom);
        Set<String> handed = new TreeSet<>();
        while (m.find()) handed.add(m.group(1));
        assertTrue(handed.contains("charrnn.shakespeare"), "the scan finds them: " + handed);
        for (String name : handed)
            assertTrue(
                    Knobs.known(name) || Knobs.TESTS.contains(name),
                    name + " is handed to the tests but would be refused as unknown (Knobs.TESTS)");
    }
}
