package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.charrnn.testutil.CliRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A corpus several times larger than the heap encodes: {@code charrnn corpus info} in a JVM capped
 * at 48 MB of heap encodes a 160 MB UTF-8 file (multi-byte and supplementary-plane characters
 * included) into the cache and loads it back, and without a cache encodes it into a mapped scratch
 * file. Holding the text as a String (2 bytes a char) or the tokens as ints would need over 300 MB.
 */
class LargeCorpusHeapTest {
    private static final String HEAP = "-Xmx48m";
    private static final long TARGET_BYTES = 160L << 20;
    private static final String[] PIECES = {
        "the ", "cat ", "한국어 ", "🌸 ", "naïve ", "\n", "int main(void) { return 0; }\n"
    };

    @TempDir
    static Path dir;

    private static Path corpus;
    private static long chars, vocab;

    @BeforeAll
    static void writeCorpus() throws IOException {
        corpus = dir.resolve("big.txt");
        SplittableRandom r = new SplittableRandom(17);
        StringBuilder block = new StringBuilder();
        while (block.length() < 1 << 16) block.append(PIECES[r.nextInt(PIECES.length)]);
        byte[] bytes = block.toString().getBytes(StandardCharsets.UTF_8);
        long blockChars = block.codePoints().count();
        vocab = block.codePoints().distinct().count();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(corpus), 1 << 20)) {
            for (long n = 0; n < TARGET_BYTES; n += bytes.length) {
                out.write(bytes);
                chars += blockChars;
            }
        }
    }

    @ParameterizedTest(name = "cache: {0}")
    @ValueSource(booleans = {true, false})
    void encodesACorpusFarLargerThanTheHeap(boolean cache) throws Exception {
        List<String> args = new ArrayList<>(List.of("corpus", "info", "--quiet", "--data", corpus.toString()));
        args.addAll(cache ? List.of("--cache-dir", dir.resolve("cache").toString()) : List.of("--no-cache"));
        String first = runCapped(args);
        assertTrue(first.contains(String.format(Locale.ROOT, "%,d chars, vocabulary %d", chars, vocab)), first);
        assertTrue(first.contains(cache ? "encoded in" : "memory-mapped temporary file"), first);
        if (cache) {
            String second = runCapped(args);
            assertTrue(second.contains("loaded from the cache"), second);
            assertTrue(second.contains(String.format(Locale.ROOT, "%,d chars", chars)), second);
        }
    }

    /** Runs the CLI in a child JVM with the capped heap; fails unless it exits 0. Returns its stdout. */
    private static String runCapped(List<String> args) throws Exception {
        CliRun r = CliRun.inChildJvm(List.of(HEAP), 120, args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return r.out();
    }
}
