package org.charrnn.data;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.charrnn.testutil.TestData;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path dir;

    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();

    private static final byte[] BODY =
            "To be, or not to be, that is the question.\n".repeat(50).getBytes(StandardCharsets.US_ASCII);

    private static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private Datasets.Named named(URI url) throws Exception {
        return new Datasets.Named("hamlet", "hamlet.txt", url, BODY.length, sha(BODY));
    }

    /** Serves {@code body} at /data with the given status and declared length (-1 = actual). */
    private URI serve(int status, byte[] body, long declaredLength) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/data", ex -> {
            requests.incrementAndGet();
            ex.sendResponseHeaders(status, declaredLength >= 0 ? declaredLength : body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            } catch (IOException ignored) {
                // a short body makes the server's stream complain on close
            }
            ex.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/data");
    }

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    private static URI closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return URI.create("http://127.0.0.1:" + s.getLocalPort() + "/data");
        }
    }

    private void assertNothingLeft(Path cache) throws IOException {
        if (!Files.exists(cache)) return;
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(0, s.count(), "no partial files left in " + cache);
        }
    }

    @Test
    void downloadsVerifiesAndWritesAtomically() throws Exception {
        URI url = serve(200, BODY, -1);
        Path cache = dir.resolve("cache");
        long[] progress = {0};
        Path p = Datasets.fetch(named(url), url, cache, (done, total, d) -> progress[0] = done);
        assertEquals(cache.resolve("hamlet.txt"), p);
        assertArrayEquals(BODY, Files.readAllBytes(p));
        assertEquals(BODY.length, progress[0]);
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(1, s.count());
        }
        // second time: served from the cache, no request
        assertEquals(p, Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertEquals(1, requests.get());
    }

    @Test
    void wrongChecksum() throws Exception {
        byte[] other = BODY.clone();
        other[5] ^= 1;
        URI url = serve(200, other, -1);
        Path cache = dir.resolve("cache");
        UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertTrue(
                e.getMessage()
                        .startsWith("cannot download hamlet from " + url + ": checksum mismatch (SHA-256 " + sha(other)
                                + ", expected " + sha(BODY)
                                + "); download it yourself and give Data.path FILE, or place it at "
                                + cache.resolve("hamlet.txt")),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertEquals(2, e.exitCode());
        assertNothingLeft(cache);
    }

    /** A raw server that declares the full length, sends half the body and closes the connection. */
    @Test
    void truncatedBody() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    s.getInputStream().read(new byte[8192]);
                    OutputStream o = s.getOutputStream();
                    o.write(("HTTP/1.1 200 OK\r\nContent-Length: " + BODY.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    o.write(BODY, 0, 1000);
                    o.flush();
                } catch (IOException ignored) {
                    // the test checks the client's side
                }
            });
            t.start();
            URI url = URI.create("http://127.0.0.1:" + ss.getLocalPort() + "/data");
            Path cache = dir.resolve("cache");
            UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
            assertTrue(e.getMessage().startsWith("cannot download hamlet from " + url + ": "), e.getMessage());
            assertTrue(
                    e.getMessage().contains("broke off after 1,000 of 2,150 bytes")
                            || e.getMessage().contains("got 1,000 bytes, expected 2,150"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("give Data.path FILE, or place it at"), e.getMessage());
            assertNothingLeft(cache);
            t.join(5000);
        }
    }

    @Test
    void stalledDownloadTimesOut() throws Exception {
        byte[] half = java.util.Arrays.copyOf(BODY, BODY.length / 2);
        URI url = serve(200, half, BODY.length); // declares more than it sends and keeps the connection open
        Path cache = dir.resolve("cache");
        int saved = Datasets.readTimeoutMs;
        Datasets.readTimeoutMs = 1500;
        try {
            UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
            assertTrue(e.getMessage().contains("broke off after 1,075 of 2,150 bytes"), e.getMessage());
        } finally {
            Datasets.readTimeoutMs = saved;
        }
        assertNothingLeft(cache);
    }

    @Test
    void shortBodyWithoutDeclaredLength() throws Exception {
        byte[] half = java.util.Arrays.copyOf(BODY, 100);
        URI url = serve(200, half, 0); // 0 = chunked, complete but short
        Path cache = dir.resolve("cache");
        UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertTrue(e.getMessage().contains(": got 100 bytes, expected 2,150;"), e.getMessage());
        assertNothingLeft(cache);
    }

    @Test
    void serverError() throws Exception {
        URI url = serve(500, "oops".getBytes(StandardCharsets.US_ASCII), -1);
        Path cache = dir.resolve("cache");
        UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertTrue(
                e.getMessage()
                        .startsWith("cannot download hamlet from " + url
                                + ": the server answered HTTP 500; download it yourself"),
                e.getMessage());
        assertNothingLeft(cache);
    }

    /** A file where the cache directory should be: said in words, not as the path and errno text. */
    @Test
    void aCacheDirectoryBelowAFileSaysSo() throws Exception {
        URI url = closedPort();
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path cache = file.resolve("cache");
        UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertEquals(
                "cannot write to the cache directory " + cache + " (" + file + " is not a directory); give"
                        + " CorpusOptions.cacheDir (or set CHARRNN_HOME to) a writable directory, or give Data.path FILE",
                e.getMessage());
    }

    @Test
    void noServer() throws Exception {
        URI url = closedPort();
        Path cache = dir.resolve("cache");
        UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertTrue(
                e.getMessage().startsWith("cannot download hamlet from " + url + ": cannot connect (offline?"),
                e.getMessage());
        assertTrue(
                e.getMessage().endsWith("give Data.path FILE, or place it at " + cache.resolve("hamlet.txt")),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertNothingLeft(cache);
    }

    @Test
    void corruptCachedFileIsReplaced() throws Exception {
        URI url = serve(200, BODY, -1);
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Files.write(cache.resolve("hamlet.txt"), "truncated".getBytes(StandardCharsets.US_ASCII));
        Path p = Datasets.fetch(named(url), url, cache, Progress.NONE);
        assertArrayEquals(BODY, Files.readAllBytes(p));
    }

    @Test
    void corruptCachedFileAndOfflineSaysBoth() throws Exception {
        URI url = closedPort();
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Files.write(cache.resolve("hamlet.txt"), "truncated".getBytes(StandardCharsets.US_ASCII));
        UserError e = assertThrows(UserError.class, () -> Datasets.fetch(named(url), url, cache, Progress.NONE));
        assertTrue(
                e.getMessage()
                        .startsWith(cache.resolve("hamlet.txt")
                                + " does not match the expected size and checksum; cannot download"),
                e.getMessage());
    }

    @Test
    void shakespeareFromCacheDirWithoutNetwork() throws Exception {
        Path src = shakespeare();
        Path cache = Files.createDirectories(dir.resolve("home"));
        Files.copy(src, cache.resolve("tinyshakespeare.txt"));
        Path p = Datasets.resolve("shakespeare", cache, Progress.NONE, closedPort());
        assertEquals(cache.resolve("tinyshakespeare.txt"), p);
    }

    @Test
    void shakespeareDownloadedFromLocalServer() throws Exception {
        URI url = serve(200, Files.readAllBytes(shakespeare()), -1);
        Path cache = dir.resolve("home");
        Path p = Datasets.resolve("Shakespeare", cache, Progress.NONE, url);
        assertEquals(Datasets.SHAKESPEARE.sha256(), Datasets.sha256Hex(p));
        assertEquals(1_115_394L, Files.size(p));
    }

    @Test
    void shakespeareOffline() throws Exception {
        Path cache = dir.resolve("home");
        UserError e = assertThrows(
                UserError.class, () -> Datasets.resolve("shakespeare", cache, Progress.NONE, closedPort()));
        assertTrue(
                e.getMessage()
                        .contains("download it yourself from " + Datasets.SHAKESPEARE.url()
                                + " and give Data.path FILE, or place it at " + cache.resolve("tinyshakespeare.txt")),
                e.getMessage());
    }

    private static Path shakespeare() {
        Path p = TestData.shakespeare();
        Assumptions.assumeTrue(p != null, "tiny-shakespeare not available (system property charrnn.shakespeare)");
        return p;
    }

    @Test
    void plainPathsAreValidated() throws Exception {
        Path f = Files.write(dir.resolve("mine.txt"), BODY);
        assertEquals(f, Datasets.resolve(f.toString(), dir, Progress.NONE));
        assertEquals(
                "corpus file not found: " + dir.resolve("nope.txt"),
                assertThrows(
                                UserError.class,
                                () -> Datasets.resolve(dir.resolve("nope.txt").toString(), dir, Progress.NONE))
                        .getMessage());
        assertEquals(
                dir + " is a directory, not a corpus file",
                assertThrows(UserError.class, () -> Datasets.resolve(dir.toString(), dir, Progress.NONE))
                        .getMessage());
        assertThrows(UserError.class, () -> Datasets.resolve(" ", dir, Progress.NONE));
        UserError e = assertThrows(UserError.class, () -> Datasets.resolve("a\u0000b", dir, Progress.NONE));
        assertTrue(e.getMessage().contains("is not a valid file name"), e.getMessage());
    }

    @Test
    void namesAndCacheDir() {
        assertSame(Datasets.SHAKESPEARE, Datasets.named("shakespeare"));
        assertSame(Datasets.SHAKESPEARE, Datasets.named("tiny-shakespeare"));
        assertNull(Datasets.named("input.txt"));
        assertEquals(
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                Datasets.SHAKESPEARE.url().toString());
        assertEquals(Path.of("/x/y"), Datasets.defaultCacheDir("/x/y", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/charrnn"), Datasets.defaultCacheDir(null, "/home/u"));
        assertEquals(Path.of("/home/u/.cache/charrnn"), Datasets.defaultCacheDir("", "/home/u"));
        assertNotNull(Datasets.defaultCacheDir());
    }
}
