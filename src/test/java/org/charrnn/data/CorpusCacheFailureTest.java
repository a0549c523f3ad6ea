package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.charrnn.testutil.CliRun;
import org.charrnn.testutil.SmallDisk;
import org.charrnn.testutil.TestData;
import org.charrnn.util.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token cache is an optimisation: where it cannot be written (no directory, a full disk) the
 * corpus is still read whole, and why it is not cached is said rather than dropped.
 */
class CorpusCacheFailureTest {
    @TempDir
    Path dir;

    private static String decoded(Corpus c) {
        StringBuilder sb = new StringBuilder();
        for (long i = 0; i < c.tokens().length(); i++)
            sb.append(new String(c.vocabulary().bytes(c.tokens().get(i)), StandardCharsets.UTF_8));
        return sb.toString();
    }

    private static CorpusOptions cachedIn(Path cacheDir) {
        return CorpusOptions.defaults().withCacheDir(cacheDir);
    }

    @Test
    void aCacheDirectoryThatIsAFileIsNamedAndTheCorpusStillRead() throws Exception {
        String text = TestData.pseudoText(2000, 3);
        Path f = Files.writeString(dir.resolve("t.txt"), text);
        Path notADir = Files.writeString(dir.resolve("cache"), "a file");
        String why = "not cached: cannot write " + notADir.resolve("encoded") + ": " + notADir + " is not a directory";
        try (Corpus c = Corpus.open(f, cachedIn(notADir), Progress.NONE)) {
            assertEquals(text, decoded(c));
            assertNull(c.cacheFile());
            assertEquals(why, c.uncached());
            assertEquals("heap (" + why + ")", c.storage());
            assertEquals("corpus " + why + " (encoded again on each run)", c.uncachedNote());
        }
        CliRun info = CliRun.of(
                "corpus", "info", "--data", f.toString(), "--cache-dir", notADir.toString(), "--vocab", "none");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("encoded form: heap (" + why + ")"), info.out());
    }

    @Test
    void aDiskThatFillsWhileTheCacheIsWrittenLeavesTheCorpusOnTheHeap() throws Exception {
        Path disk = Files.createDirectories(dir.resolve("disk"));
        String text = TestData.pseudoText(300_000, 4); // one byte a token: more than the disk holds
        Path f = Files.writeString(dir.resolve("t.txt"), text);
        try (SmallDisk small = SmallDisk.mount(disk, "64k");
                Corpus c = Corpus.open(f, cachedIn(disk), Progress.NONE)) {
            assertEquals(text, decoded(c));
            assertNull(c.cacheFile());
            assertEquals(
                    "not cached: cannot write " + disk.resolve("encoded") + ": No space left on device", c.uncached());
            try (Stream<Path> left = Files.list(disk.resolve("encoded"))) {
                assertEquals(List.of(), left.toList(), "the cut-short cache file is deleted");
            }
        }
    }
}
