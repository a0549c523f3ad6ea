package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Program binaries cached on disk: a second build loads them, damaged or rejected ones are rebuilt. */
@Tag("opencl")
class OpenClProgramCacheTest {
    private static ClDevice device;
    private static String source;

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
        device = ClRuntime.select(-1);
        source = ClRuntime.source();
    }

    private static String key() {
        return ClBinaryCache.key(ClProgram.identity(device), ClRuntime.BUILD_OPTIONS, source);
    }

    private static ClProgram build(ClBinaryCache cache, List<String> log) {
        return ClProgram.build(device, source, cache, log::add);
    }

    /** C = A B (33x40 by 40x29) on {@code program}, bit for bit. */
    private static float[] gemm(ClProgram program) {
        SplittableRandom r = new SplittableRandom(7);
        int m = 33, n = 29, k = 40;
        float[] a = new float[m * k], b = new float[k * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
        try (ClQueue q = new ClQueue(program, () -> "cache test")) {
            ClBuffer ab = q.alloc(a.length, "a"), bb = q.alloc(b.length, "b"), cb = q.alloc(m * n, "c");
            q.write(ab, 0, a);
            q.write(bb, 0, b);
            q.kernels().gemm(false, false, m, n, k, 1f, ab, 0, k, bb, 0, n, 0f, cb, 0, n);
            return q.read(cb, 0, m * n);
        }
    }

    @Test
    void aSecondBuildLoadsTheBinaryAndComputesTheSame(@TempDir Path dir) throws Exception {
        ClBinaryCache cache = new ClBinaryCache(dir, new AtomicBoolean());
        List<String> log = new ArrayList<>();
        float[] compiled, loaded;
        try (ClProgram first = build(cache, log)) {
            assertFalse(first.fromCache, "nothing cached yet");
            compiled = gemm(first);
        }
        assertTrue(Files.isRegularFile(cache.file(key())), "binary stored as " + cache.file(key()));
        try (ClProgram second = build(cache, log)) {
            assertTrue(second.fromCache, "the second build loads the stored binary");
            loaded = gemm(second);
        }
        assertArrayEquals(compiled, loaded);
        assertEquals(List.of(), log, "no warnings");
    }

    @Test
    void aDamagedFileIsCompiledAgainAndReplaced(@TempDir Path dir) throws Exception {
        ClBinaryCache cache = new ClBinaryCache(dir, new AtomicBoolean());
        List<String> log = new ArrayList<>();
        build(cache, log).close();
        Path file = cache.file(key());
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5A; // one flipped byte in the binary
        Files.write(file, bytes);
        try (ClProgram p = build(cache, log)) {
            assertFalse(p.fromCache, "a damaged file is not loaded");
        }
        try (ClProgram p = build(cache, log)) {
            assertTrue(p.fromCache, "the compile replaced the damaged file");
        }
        Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 100)); // truncated
        try (ClProgram p = build(cache, log)) {
            assertFalse(p.fromCache);
        }
        assertEquals(List.of(), log, "no warnings");
    }

    @Test
    void aBinaryTheDriverRejectsIsCompiledAgainAndReplaced(@TempDir Path dir) throws Exception {
        ClBinaryCache cache = new ClBinaryCache(dir, new AtomicBoolean());
        List<String> log = new ArrayList<>();
        // intact as a file (its checksum matches) but no program binary: what another driver version may leave
        byte[] garbage = "not a program binary".getBytes(StandardCharsets.US_ASCII);
        cache.write(key(), garbage, log::add);
        assertArrayEquals(garbage, cache.read(key()));
        try (ClProgram p = build(cache, log)) {
            assertFalse(p.fromCache, "the driver rejects it: compiled from source");
            assertTrue(gemm(p).length > 0);
        }
        byte[] stored = cache.read(key());
        assertNotNull(stored);
        assertFalse(java.util.Arrays.equals(garbage, stored), "replaced by the driver's binary");
        try (ClProgram p = build(cache, log)) {
            assertTrue(p.fromCache);
        }
        assertEquals(List.of(), log, "no warnings");
    }

    @Test
    void anUnwritableCacheCompilesAndWarnsOnce(@TempDir Path dir) throws Exception {
        Path notADir = Files.writeString(dir.resolve("file"), "x");
        ClBinaryCache cache = new ClBinaryCache(notADir.resolve("opencl"), new AtomicBoolean());
        List<String> log = new ArrayList<>();
        float[] first, second;
        try (ClProgram p = build(cache, log)) {
            assertFalse(p.fromCache);
            first = gemm(p);
        }
        try (ClProgram p = build(cache, log)) {
            assertFalse(p.fromCache);
            second = gemm(p);
        }
        assertArrayEquals(first, second);
        assertEquals(1, log.size(), "one warning for both builds: " + log);
        assertTrue(log.get(0).startsWith("WARNING: cannot write the OpenCL kernel cache"), log.get(0));
    }
}
