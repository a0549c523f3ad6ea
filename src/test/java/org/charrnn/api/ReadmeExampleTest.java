package org.charrnn.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.charrnn.testutil.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Library use" example is {@link LibraryExample}, word for word, and it runs. */
class ReadmeExampleTest {

    private static Path basedir() {
        return Path.of(System.getProperty("charrnn.basedir", "."));
    }

    @Test
    void readmeShowsTheExampleFile() throws Exception {
        String readme = Files.readString(basedir().resolve("README.md"), StandardCharsets.UTF_8);
        String section = readme.substring(readme.indexOf("## Library use"));
        int start = section.indexOf("```java\n") + "```java\n".length();
        String shown = section.substring(start, section.indexOf("```\n", start));
        String file = Files.readString(
                basedir().resolve("src/test/java/org/charrnn/api/LibraryExample.java"), StandardCharsets.UTF_8);
        assertEquals(file, shown, "README.md's example differs from LibraryExample.java: copy the file into it");
    }

    @Test
    void exampleTrainsSamplesAndEvaluates(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("input.txt"), "ROMEO:\n" + TestData.pseudoText(20000, 3));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        double bpc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            bpc = LibraryExample.trainSampleEvaluate(input, dir.resolve("run"), "reference", 50);
        } finally {
            System.setOut(old);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.startsWith("iteration 50/50: loss "), printed); // the listener's line
        assertTrue(printed.contains("\nROMEO:"), printed); // the sample, primed
        assertTrue(bpc > 0 && bpc < 7, "bits/char " + bpc);
    }
}
