package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk store of program binaries, without a driver: keys, damaged files, pruning, unwritable directories. */
class ClBinaryCacheTest {
    private static final List<String> DEVICE = List.of("PoCL", "OpenCL 3.0", "cpu", "vendor", "OpenCL 1.2", "3.1");

    @Test
    void theKeyChangesWithEveryPart() {
        String key = ClBinaryCache.key(DEVICE, "-O", "kernel");
        assertEquals(64, key.length());
        assertEquals(key, ClBinaryCache.key(DEVICE, "-O", "kernel"));
        assertNotEquals(key, ClBinaryCache.key(DEVICE, "-O2", "kernel"));
        assertNotEquals(key, ClBinaryCache.key(DEVICE, "-O", "kernel "));
        for (int i = 0; i < DEVICE.size(); i++) {
            List<String> other = new ArrayList<>(DEVICE);
            other.set(i, other.get(i) + "x");
            assertNotEquals(key, ClBinaryCache.key(other, "-O", "kernel"), "part " + i);
        }
        // parts are delimited: moving a character from one to the next is another key
        assertNotEquals(ClBinaryCache.key(List.of("ab", "c"), "", ""), ClBinaryCache.key(List.of("a", "bc"), "", ""));
    }

    @Test
    void readsBackWhatItWroteAndNothingDamaged(@TempDir Path dir) throws Exception {
        ClBinaryCache cache = new ClBinaryCache(dir.resolve("opencl"), new AtomicBoolean());
        List<String> log = new ArrayList<>();
        assertNull(cache.read("k"), "absent");
        byte[] binary = new byte[1000];
        for (int i = 0; i < binary.length; i++) binary[i] = (byte) (i * 7);
        cache.write("k", binary, log::add);
        assertArrayEquals(binary, cache.read("k"));

        Path file = cache.file("k");
        byte[] stored = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(stored, stored.length - 1));
        assertNull(cache.read("k"), "truncated");
        byte[] flipped = stored.clone();
        flipped[stored.length - 10] ^= 1;
        Files.write(file, flipped);
        assertNull(cache.read("k"), "one bit changed");
        byte[] badMagic = stored.clone();
        badMagic[0] = 'X';
        Files.write(file, badMagic);
        assertNull(cache.read("k"), "not a cache file");
        Files.write(file, new byte[0]);
        assertNull(cache.read("k"), "empty");

        cache.write("k", binary, log::add);
        assertArrayEquals(binary, cache.read("k"), "rewritten");
        assertEquals(List.of(), log);
        try (Stream<Path> s = Files.list(cache.dir())) {
            assertEquals(List.of(file), s.toList(), "no temporary files left");
        }
    }

    @Test
    void keepsOnlyTheNewestBinaries(@TempDir Path dir) throws Exception {
        ClBinaryCache cache = new ClBinaryCache(dir, new AtomicBoolean());
        List<String> log = new ArrayList<>();
        int n = ClBinaryCache.KEEP + 3;
        for (int i = 0; i < n; i++) {
            cache.write("k" + i, new byte[] {(byte) i}, log::add);
            Files.setLastModifiedTime(cache.file("k" + i), FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Files.writeString(dir.resolve("other.txt"), "not a binary");
        cache.write("new", new byte[] {9}, log::add);
        for (int i = 0; i < n; i++)
            assertEquals(i >= n - (ClBinaryCache.KEEP - 1), Files.exists(cache.file("k" + i)), "k" + i + " of " + n);
        assertArrayEquals(new byte[] {9}, cache.read("new"));
        assertTrue(Files.exists(dir.resolve("other.txt")), "only binaries are pruned");
        assertEquals(List.of(), log);
    }

    @Test
    void anUnwritableDirectoryWarnsOnceAndNeverThrows(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        ClBinaryCache cache = new ClBinaryCache(file.resolve("opencl"), new AtomicBoolean());
        List<String> log = new ArrayList<>();
        cache.write("k", new byte[] {1}, log::add);
        cache.write("k", new byte[] {1}, log::add);
        assertNull(cache.read("k"));
        assertEquals(1, log.size(), log.toString());
        assertTrue(
                log.get(0).startsWith("WARNING: cannot write the OpenCL kernel cache in " + file.resolve("opencl")),
                log.get(0));
        assertTrue(log.get(0).contains("compiled again at every start"), log.get(0));
    }

    @Test
    void poclKeepsItsOwnCacheUnlessItIsTurnedOff() {
        String pocl = "Portable Computing Language";
        assertTrue(ClRuntime.driverCaches(pocl, null), "PoCL's default");
        assertTrue(ClRuntime.driverCaches(pocl, "1"));
        assertFalse(ClRuntime.driverCaches(pocl, "0"));
        assertFalse(ClRuntime.driverCaches(pocl, ""), "PoCL reads anything but 1... as off");
        assertFalse(ClRuntime.driverCaches("NVIDIA CUDA", null));
        assertFalse(ClRuntime.driverCaches("Intel(R) OpenCL", "1"));
    }
}
