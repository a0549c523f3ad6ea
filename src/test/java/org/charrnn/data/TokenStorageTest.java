package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunked heap and multi-mapping storage, with tiny chunks so that chunk boundaries are exercised. */
class TokenStorageTest {
    @TempDir
    Path dir;

    private static int[] random(int n, int v, long seed) {
        Random r = new Random(seed);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(v);
        return a;
    }

    private static void check(int[] want, TokenSequence t) {
        assertEquals(want.length, t.length());
        for (int i = 0; i < want.length; i++) assertEquals(want[i], t.get(i), "at " + i);
        for (int from : new int[] {0, 1, 7, 15, 16, 17, 100}) {
            for (int n : new int[] {0, 1, 15, 16, 33, 200}) {
                if (from + n > want.length) continue;
                int[] dst = new int[n + 3];
                t.copyTo(from, dst, 3, n);
                for (int k = 0; k < n; k++) assertEquals(want[from + k], dst[3 + k], "copy from " + from + " n " + n);
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(want.length));
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.copyTo(want.length - 1, new int[2], 0, 2));
        TokenSequence s = t.slice(10, 50);
        assertEquals(40, s.length());
        assertEquals(want[10], s.get(0));
        assertEquals(want[49], s.get(39));
    }

    @Test
    void heapChunks() throws IOException {
        for (int width : new int[] {1, 2}) {
            int[] want = random(1000, width == 1 ? 256 : 65536, width);
            HeapTokens.Builder b = new HeapTokens.Builder(want.length, width, 4);
            b.put(want, 500);
            b.put(java.util.Arrays.copyOfRange(want, 500, 1000), 500);
            check(want, b.finish());
        }
        HeapTokens.Builder b = new HeapTokens.Builder(10, 1, 4);
        b.put(new int[5], 5);
        assertThrows(IllegalStateException.class, b::finish);
        assertThrows(IllegalStateException.class, () -> b.put(new int[6], 6));
    }

    @Test
    void mappedChunks() throws IOException {
        for (int width : new int[] {1, 2}) {
            int[] want = random(1000, width == 1 ? 256 : 65536, 10 + width);
            Path f = dir.resolve("t" + width + ".tokens");
            TokenCache.Header h = new TokenCache.Header("k", 1, 2, new byte[32], width, want.length, 0, 0, "{}");
            TokenCache.Writer w = new TokenCache.Writer(f, h);
            w.put(want, want.length);
            check(want, w.finish());
            int hlen = h.encode().length;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f)) {
                check(want, new MappedTokens(ch, hlen, want.length, width, 4, f));
                check(want, new MappedTokens(ch, hlen, want.length, width, 5, f));
            }
            TokenCache.Loaded l = TokenCache.tryLoad(f, "k", 1, 2, new byte[32]);
            assertNotNull(l);
            check(want, l.tokens());
            assertNull(TokenCache.tryLoad(f, "other", 1, 2, new byte[32]));
            assertNull(TokenCache.tryLoad(f, "k", 9, 2, new byte[32]));
            assertNull(TokenCache.tryLoad(f, "k", 1, 3, new byte[32]));
            assertNull(TokenCache.tryLoad(f, "k", 1, 2, new byte[31]));
        }
    }

    @Test
    void largeCorpusWithoutCacheIsMappedFromAnUnlinkedScratchFile() throws IOException {
        String text = "the quick brown fox 😀 jumps\n".repeat(200);
        Path f = Files.writeString(dir.resolve("big.txt"), text, StandardCharsets.UTF_8);
        long saved = Corpus.heapLimitBytes;
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before = countScratch(tmp);
        Corpus.heapLimitBytes = 100;
        try (Corpus c = Corpus.open(f, CorpusOptions.defaults(), Progress.NONE)) {
            assertNull(c.cacheFile());
            assertEquals("memory-mapped temporary file", c.storage());
            StringBuilder sb = new StringBuilder();
            for (long i = 0; i < c.tokens().length(); i++)
                sb.append(new String(c.vocabulary().bytes(c.tokens().get(i)), StandardCharsets.UTF_8));
            assertEquals(text, sb.toString());
            assertEquals(before, countScratch(tmp), "scratch file is deleted once mapped");
        } finally {
            Corpus.heapLimitBytes = saved;
        }
    }

    @Test
    void scratchFileOfACorpusThatChangedWhileReadIsDeleted() throws IOException {
        Path f = Files.writeString(dir.resolve("moving.txt"), "abca".repeat(100), StandardCharsets.UTF_8);
        // after the first pass, a symbol the vocabulary lacks: the second pass (into the scratch file) fails
        Progress modifyAfterScan = (done, total, detail) -> {
            if (detail.equals("scanning") && done == total / 2) {
                try {
                    Files.writeString(f, "abcz".repeat(100), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        long saved = Corpus.heapLimitBytes;
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before = countScratch(tmp);
        Corpus.heapLimitBytes = 100;
        try {
            UserError e =
                    assertThrows(UserError.class, () -> Corpus.open(f, CorpusOptions.defaults(), modifyAfterScan));
            assertEquals(f + " changed while it was being read; try again", e.getMessage());
            assertEquals(before, countScratch(tmp), "no scratch file (nor its placeholder) is left behind");
        } finally {
            Corpus.heapLimitBytes = saved;
        }
    }

    private static long countScratch(Path tmp) throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("charrnn-corpus-"))
                    .count();
        }
    }

    /** Every byte of a large corpus counts: an edit that keeps size and modification time is seen anywhere. */
    @Test
    void contentHashCoversEveryByteOfLargeFiles() throws IOException {
        Path f = dir.resolve("h.bin");
        byte[] b = new byte[12 << 20];
        new Random(1).nextBytes(b);
        Files.write(f, b);
        assertEquals(64L << 20, TokenCache.fullHashLimit);
        byte[] whole = TokenCache.contentHash(f, b.length);
        long saved = TokenCache.fullHashLimit;
        TokenCache.fullHashLimit = 1 << 20; // above it: the large-file hash
        try {
            byte[] large = TokenCache.contentHash(f, b.length);
            assertFalse(java.util.Arrays.equals(whole, large), "the two kinds of hash differ");
            assertArrayEquals(large, TokenCache.contentHash(f, b.length), "deterministic");
            // 1 MiB + 100,000 lies between the 64 KiB blocks that a sampled hash would read
            for (int at : new int[] {0, (1 << 20) + 5, (1 << 20) + 100_000, (7 << 20) + 12_345, (12 << 20) - 1}) {
                b[at] ^= 1;
                Files.write(f, b);
                assertFalse(java.util.Arrays.equals(large, TokenCache.contentHash(f, b.length)), "change at " + at);
                b[at] ^= 1;
            }
            Files.write(f, b);
            assertArrayEquals(large, TokenCache.contentHash(f, b.length));
        } finally {
            TokenCache.fullHashLimit = saved;
        }
    }

    /** A cache file truncated under a running reader is a one-line error naming it, not an InternalError. */
    @Test
    void aCacheTruncatedWhileMappedIsAOneLineError() throws IOException {
        int[] want = random(1 << 16, 256, 3);
        Path f = dir.resolve("trunc.tokens");
        TokenCache.Header h = new TokenCache.Header("k", 1, 2, new byte[32], 1, want.length, 0, 0, "{}");
        TokenCache.Writer w = new TokenCache.Writer(f, h);
        w.put(want, want.length);
        w.finish();
        TokenCache.Loaded l = TokenCache.tryLoad(f, "k", 1, 2, new byte[32]);
        assertNotNull(l);
        TokenSequence t = l.tokens();
        assertEquals(want[want.length - 1], t.get(want.length - 1));
        try (java.nio.channels.FileChannel ch =
                java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(h.encode().length + 100); // someone cut the file while it is mapped
        }
        org.charrnn.util.UserError e =
                org.junit.jupiter.api.Assertions.assertThrows(org.charrnn.util.UserError.class, () -> {
                    int[] all = new int[want.length];
                    t.copyTo(0, all, 0, all.length);
                });
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }
}
