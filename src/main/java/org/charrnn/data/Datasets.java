package org.charrnn.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.Progress;
import org.charrnn.util.UserError;

/**
 * Named datasets for {@code --data}. {@code shakespeare} is tiny-shakespeare, looked up as
 * {@code <cacheDir>/tinyshakespeare.txt} and otherwise downloaded from karpathy/char-rnn, checked
 * against its size and SHA-256 and written atomically (temporary file, fsync, rename). Anything
 * else names a corpus file.
 */
public final class Datasets {

    /** A dataset with a canonical address and checksum. */
    public record Named(String name, String fileName, URI url, long size, String sha256) {}

    public static final Named SHAKESPEARE = new Named(
            "shakespeare",
            "tinyshakespeare.txt",
            URI.create("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"),
            1_115_394L,
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed");

    private static final Map<String, Named> NAMED =
            Map.of("shakespeare", SHAKESPEARE, "tinyshakespeare", SHAKESPEARE, "tiny-shakespeare", SHAKESPEARE);

    private static final int CONNECT_TIMEOUT_MS = 20_000;
    /** How long a download may stall without receiving a byte (changed by tests). */
    static int readTimeoutMs = 30_000;

    private Datasets() {}

    /** {@code $CHARRNN_HOME}, else {@code ~/.cache/charrnn}. */
    public static Path defaultCacheDir() {
        return defaultCacheDir(System.getenv("CHARRNN_HOME"), System.getProperty("user.home"));
    }

    /** The cache directory for the given {@code $CHARRNN_HOME} (null or blank when unset) and home directory. */
    public static Path defaultCacheDir(String charrnnHome, String userHome) {
        if (charrnnHome != null && !charrnnHome.isBlank()) return Path.of(charrnnHome);
        return Path.of(userHome, ".cache", "charrnn");
    }

    /** The named dataset {@code name} (ignoring case), or null. */
    public static Named named(String name) {
        return name == null ? null : NAMED.get(name.toLowerCase(Locale.ROOT));
    }

    /**
     * Resolves {@code --data}: a dataset name to its file in {@code cacheDir} (downloading it if
     * absent), anything else to a path that must be a readable, non-empty file. A file named like a
     * dataset in the working directory wins over the dataset.
     */
    public static Path resolve(String dataArg, Path cacheDir, Progress progress) {
        Named n = named(dataArg);
        return resolve(dataArg, cacheDir, progress, n == null ? null : n.url());
    }

    /** As {@link #resolve(String, Path, Progress)}, downloading from {@code url} (tests). */
    static Path resolve(String dataArg, Path cacheDir, Progress progress, URI url) {
        if (dataArg == null || dataArg.isBlank())
            throw UserError.naming("{Data.path} is empty: give a corpus file or 'shakespeare'");
        Named n = named(dataArg);
        Path p;
        try {
            p = Path.of(dataArg);
        } catch (InvalidPathException e) {
            throw UserError.naming("{Data.path} " + dataArg + " is not a valid file name (" + e.getReason() + ")", e);
        }
        if (n == null || Files.exists(p)) {
            Corpus.checkFile(p);
            return p;
        }
        if (cacheDir == null) cacheDir = defaultCacheDir();
        return fetch(n, url, cacheDir, progress == null ? Progress.NONE : progress);
    }

    /** The dataset's file in {@code cacheDir}, downloaded from {@code url} unless already there and intact. */
    static Path fetch(Named n, URI url, Path cacheDir, Progress progress) {
        Path target = cacheDir.resolve(n.fileName());
        String problem = null;
        if (Files.isRegularFile(target)) {
            try {
                if (Files.size(target) == n.size() && sha256Hex(target).equals(n.sha256())) return target;
                problem = target + " does not match the expected size and checksum";
            } catch (IOException e) {
                problem = "cannot read " + target + ": " + IoErrors.reason(e);
            }
        }
        try {
            download(n, url, target, progress);
            return target;
        } catch (UserError e) {
            if (problem != null) throw e.prefixed(problem + "; ");
            throw e;
        }
    }

    /** Downloads into a temporary file beside {@code target}, verifies it and renames it into place. */
    static void download(Named n, URI url, Path target, Progress progress) {
        String how = "download it yourself" + (url.equals(n.url()) ? "" : " from " + n.url())
                + " and give {Data.path} FILE, or place it at " + target;
        String what = "cannot download " + n.name() + " from " + url + ": ";
        Path tmp = partFile(n, target);
        boolean ok = false;
        HttpURLConnection conn = null;
        try {
            conn = (HttpURLConnection) url.toURL().openConnection();
            conn.setConnectTimeout(CONNECT_TIMEOUT_MS);
            conn.setReadTimeout(readTimeoutMs);
            conn.setInstanceFollowRedirects(true);
            int status = conn.getResponseCode();
            if (status != 200) throw UserError.naming(what + "the server answered HTTP " + status + "; " + how);
            try (InputStream in = conn.getInputStream()) {
                receive(in, tmp, n, progress, what, how);
            }
            AtomicFile.commit(tmp, target);
            ok = true;
        } catch (SocketTimeoutException e) {
            throw UserError.naming(what + "no answer in time (offline?); " + how, e);
        } catch (ConnectException e) {
            throw UserError.naming(
                    what + "cannot connect (offline?" + (e.getMessage() != null ? " " + e.getMessage() : "") + "); "
                            + how,
                    e);
        } catch (UnknownHostException e) {
            throw UserError.naming(what + "unknown host " + url.getHost() + " (offline?); " + how, e);
        } catch (IOException | IllegalArgumentException e) {
            throw UserError.naming(what + describe(e) + "; " + how, e);
        } finally {
            progress.finish();
            if (conn != null) conn.disconnect();
            if (!ok) CorpusBuild.deleteQuietly(tmp);
        }
    }

    /** A new empty {@code .NAME.RANDOM.part} file beside {@code target}, its directory made where missing. */
    private static Path partFile(Named n, Path target) {
        try {
            AtomicFile.createDirectories(target.getParent());
            return AtomicFile.createTemp(target.getParent(), "." + n.fileName() + ".", ".part");
        } catch (IOException e) {
            throw UserError.naming(
                    "cannot write to the cache directory " + target.getParent() + " (" + IoErrors.reason(e)
                            + "); give {CorpusOptions.cacheDir} (or set CHARRNN_HOME to) a writable directory, or give {Data.path} FILE",
                    e);
        }
    }

    /**
     * Copies the dataset's bytes from {@code in} into {@code tmp}, reading no more than one byte past
     * its size; a {@link UserError} ({@code what}, the reason, {@code how}) where the stream breaks
     * off or its length or SHA-256 is not the dataset's.
     */
    private static void receive(InputStream in, Path tmp, Named n, Progress progress, String what, String how)
            throws IOException {
        MessageDigest md = TokenCache.sha256();
        long got = 0;
        try (OutputStream out = Files.newOutputStream(tmp)) {
            byte[] buf = new byte[64 << 10];
            int r;
            while ((r = in.read(buf)) >= 0) {
                out.write(buf, 0, r);
                md.update(buf, 0, r);
                got += r;
                progress.update(got, n.size(), n.fileName());
                if (got > n.size()) break;
            }
        } catch (IOException e) {
            throw UserError.naming(
                    String.format(
                            Locale.ROOT,
                            "%sthe download broke off after %,d of %,d bytes (%s); %s",
                            what,
                            got,
                            n.size(),
                            describe(e),
                            how),
                    e);
        }
        if (got != n.size())
            throw UserError.naming(
                    String.format(Locale.ROOT, "%sgot %,d bytes, expected %,d; %s", what, got, n.size(), how));
        String sha = HexFormat.of().formatHex(md.digest());
        if (!sha.equals(n.sha256()))
            throw UserError.naming(
                    what + "checksum mismatch (SHA-256 " + sha + ", expected " + n.sha256() + "); " + how);
    }

    private static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    static String sha256Hex(Path file) throws IOException {
        MessageDigest md = TokenCache.sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) >= 0) md.update(buf, 0, r);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
