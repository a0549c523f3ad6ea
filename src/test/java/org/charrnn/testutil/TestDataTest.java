package org.charrnn.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.charrnn.data.Datasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the tests find tiny-shakespeare: the build's path first, then the cache directory that
 * {@code charrnn train --data shakespeare} uses ({@code $CHARRNN_HOME}, else
 * {@code ~/.cache/charrnn}).
 */
class TestDataTest {
    @TempDir
    Path dir;

    /** A file of tiny-shakespeare's size (sparse: only the lookup is tested, not the text). */
    private static Path corpusAt(Path p) throws IOException {
        Files.createDirectories(p.getParent());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(Datasets.SHAKESPEARE.size());
        }
        return p;
    }

    @Test
    void theBuildsPathComesFirst() throws IOException {
        Path shared = corpusAt(dir.resolve("shared/data/tinyshakespeare.txt"));
        Path home = dir.resolve("home");
        corpusAt(home.resolve("tinyshakespeare.txt"));
        corpusAt(dir.resolve("user/.cache/charrnn/tinyshakespeare.txt"));
        assertEquals(
                shared,
                TestData.shakespeare(
                        shared.toString(), home.toString(), dir.resolve("user").toString()));
    }

    @Test
    void thenCharrnnHome() throws IOException {
        Path home = dir.resolve("home");
        Path cached = corpusAt(home.resolve("tinyshakespeare.txt"));
        corpusAt(dir.resolve("user/.cache/charrnn/tinyshakespeare.txt"));
        String missing = dir.resolve("shared/data/tinyshakespeare.txt").toString();
        assertEquals(
                cached,
                TestData.shakespeare(
                        missing, home.toString(), dir.resolve("user").toString()));
        assertEquals(
                cached,
                TestData.shakespeare(null, home.toString(), dir.resolve("user").toString()));
    }

    @Test
    void thenTheDefaultCacheUnderHomeWhenCharrnnHomeIsUnset() throws IOException {
        Path user = dir.resolve("user");
        Path cached = corpusAt(user.resolve(".cache/charrnn/tinyshakespeare.txt"));
        String missing = dir.resolve("shared/data/tinyshakespeare.txt").toString();
        assertEquals(cached, TestData.shakespeare(missing, null, user.toString()));
        assertEquals(cached, TestData.shakespeare(missing, "", user.toString()));
    }

    @Test
    void charrnnHomeReplacesTheDefaultCacheAsInTheMainCode() throws IOException {
        Path user = dir.resolve("user");
        corpusAt(user.resolve(".cache/charrnn/tinyshakespeare.txt"));
        Path emptyHome = Files.createDirectories(dir.resolve("home"));
        assertNull(TestData.shakespeare(null, emptyHome.toString(), user.toString()));
    }

    @Test
    void aCachedFileOfTheWrongSizeIsNotTheCorpus() throws IOException {
        Path home = Files.createDirectories(dir.resolve("home"));
        Files.writeString(home.resolve("tinyshakespeare.txt"), "First Citizen:\n");
        assertNull(TestData.shakespeare(null, home.toString(), dir.toString()));
    }

    @Test
    void nothingAnywhereIsNull() {
        assertNull(TestData.shakespeare(
                dir.resolve("nope.txt").toString(),
                dir.resolve("home").toString(),
                dir.resolve("user").toString()));
        assertNull(TestData.shakespeare(null, null, null));
    }
}
