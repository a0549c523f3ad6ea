package org.charrnn.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.charrnn.util.AtomicFile;

/**
 * The on-disk cache of an encoded corpus: {@code <cacheDir>/encoded/<key hash>.tokens}, where the
 * key hash is the first 16 hex digits of SHA-256 over the corpus's absolute path and the options
 * that change the encoding (encoding, --max-vocab or the given vocabulary).
 *
 * <p>Layout, little-endian: an 8-byte magic {@code CRNNTOKS}, int version, int header length
 * (a multiple of 64; the symbols start there), long corpus size in bytes, long corpus modification
 * time (ns since the epoch), 32-byte content hash, int element width (1 or 2 bytes), long symbol
 * count, long count of symbols mapped to the unknown symbol, int number of distinct such symbols,
 * then length-prefixed UTF-8 strings: the full cache key and the vocabulary JSON; zero padding;
 * the symbols.
 *
 * <p>A cache file is used only if its key, corpus size, modification time and content hash all
 * match the corpus now, else it is rebuilt. The content hash covers every byte of the file:
 * SHA-256 up to 64 MiB, above that the size and the CRC-32C of the whole file (hardware-assisted:
 * it streams at memory speed, so opening a cached 1 GB corpus stays fast), so an edit that keeps
 * size and modification time is still seen. Files are written to a temporary name,
 * fsynced and renamed into place, so a crash never leaves a half-written cache under the final name.
 */
final class TokenCache {
    static final byte[] MAGIC = "CRNNTOKS".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2; // 2: a leading UTF-8 byte-order mark is not a symbol
    /** Files up to this size are hashed with SHA-256, larger ones with CRC-32C (changed by tests). */
    static long fullHashLimit = 64L << 20;

    /** What a cache file says about its contents. */
    record Header(
            String key,
            long fileSize,
            long mtime,
            byte[] contentHash,
            int width,
            long count,
            long unknownCount,
            int unknownDistinct,
            String vocabJson) {

        byte[] encode() {
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            byte[] v = vocabJson.getBytes(StandardCharsets.UTF_8);
            int raw = 8 + 4 + 4 + 8 + 8 + 32 + 4 + 8 + 8 + 4 + 4 + k.length + 4 + v.length;
            int len = (raw + 63) / 64 * 64;
            ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
            b.put(MAGIC)
                    .putInt(VERSION)
                    .putInt(len)
                    .putLong(fileSize)
                    .putLong(mtime)
                    .put(contentHash)
                    .putInt(width)
                    .putLong(count)
                    .putLong(unknownCount)
                    .putInt(unknownDistinct)
                    .putInt(k.length)
                    .put(k)
                    .putInt(v.length)
                    .put(v);
            return b.array();
        }
    }

    /** A corpus loaded from the cache. */
    record Loaded(Header header, TokenSequence tokens) {}

    private TokenCache() {}

    /** The cache file for {@code key} under {@code cacheDir}. */
    static Path fileFor(Path cacheDir, String key) {
        return cacheDir.resolve("encoded")
                .resolve(sha256Hex(key.getBytes(StandardCharsets.UTF_8)).substring(0, 16) + ".tokens");
    }

    /**
     * Loads {@code cacheFile} if it exists, is intact and matches the given key, size, time and
     * hash; otherwise null (the caller rebuilds it).
     */
    static Loaded tryLoad(Path cacheFile, String key, long fileSize, long mtime, byte[] contentHash) {
        if (!Files.isRegularFile(cacheFile)) return null;
        try (FileChannel ch = FileChannel.open(cacheFile, StandardOpenOption.READ)) {
            long total = ch.size();
            ByteBuffer head = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(ch, head, 0)) return null;
            head.flip();
            byte[] magic = new byte[8];
            head.get(magic);
            if (!Arrays.equals(magic, MAGIC) || head.getInt() != VERSION) return null;
            int hlen = head.getInt();
            if (hlen < 64 || hlen > total || hlen > (64 << 20)) return null;
            ByteBuffer b = ByteBuffer.allocate(hlen).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(ch, b, 0)) return null;
            b.flip().position(16);
            long size = b.getLong(), time = b.getLong();
            byte[] hash = new byte[32];
            b.get(hash);
            int width = b.getInt();
            long count = b.getLong(), unk = b.getLong();
            int unkDistinct = b.getInt();
            String k = readString(b);
            String vocab = readString(b);
            if (k == null
                    || vocab == null
                    || !k.equals(key)
                    || size != fileSize
                    || time != mtime
                    || !Arrays.equals(hash, contentHash)
                    || (width != 1 && width != 2)
                    || count <= 0
                    || total != hlen + count * width) return null;
            Header h = new Header(k, size, time, hash, width, count, unk, unkDistinct, vocab);
            return new Loaded(h, new MappedTokens(ch, hlen, count, width, cacheFile));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String readString(ByteBuffer b) {
        if (b.remaining() < 4) return null;
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) return null;
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static boolean readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) return false;
            pos += r;
        }
        return true;
    }

    /** Writes symbols to a temporary file beside {@code target}, renamed into place on finish. */
    static final class Writer implements TokenSink {
        private final Path target;
        private final Path tmp;
        private final FileChannel ch;
        private final Header header;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private final int headerLength;
        private final boolean scratch;
        private long written;

        /** Creates the temporary file; fails (IOException) if the directory is not writable. */
        Writer(Path target, Header header) throws IOException {
            this(target, header, false);
        }

        /**
         * With {@code scratch}, the file is only a backing store for the mapping: it is not
         * fsynced and is deleted as soon as it is mapped (the mapping stays valid).
         */
        Writer(Path target, Header header, boolean scratch) throws IOException {
            this.scratch = scratch;
            this.target = target;
            this.header = header;
            AtomicFile.createDirectories(target.getParent());
            this.tmp = AtomicFile.createTemp(target.getParent(), target.getFileName() + ".", ".tmp");
            FileChannel c = null;
            try {
                c = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.READ);
                byte[] h = header.encode();
                headerLength = h.length;
                ByteBuffer hb = ByteBuffer.wrap(h);
                while (hb.hasRemaining()) c.write(hb);
            } catch (IOException | RuntimeException e) {
                if (c != null) c.close();
                Files.deleteIfExists(tmp);
                throw e;
            }
            this.ch = c;
        }

        @Override
        public void put(int[] idx, int n) throws IOException {
            int w = header.width();
            for (int j = 0; j < n; j++) {
                if (buf.remaining() < 2) flush();
                if (w == 1) buf.put((byte) idx[j]);
                else buf.putShort((short) idx[j]);
            }
            written += n;
        }

        private void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
            buf.clear();
        }

        @Override
        public TokenSequence finish() throws IOException {
            try {
                flush();
                if (written != header.count())
                    throw new IllegalStateException("wrote " + written + " symbols, expected " + header.count());
                ch.close();
                if (scratch) Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING); // never kept: no fsync
                else AtomicFile.commit(tmp, target);
                try (FileChannel r = FileChannel.open(target, StandardOpenOption.READ)) {
                    return new MappedTokens(r, headerLength, header.count(), header.width(), target);
                } finally {
                    if (scratch) deleteScratch(target);
                }
            } catch (IOException | RuntimeException e) {
                abort();
                throw e;
            }
        }

        @Override
        public void abort() {
            try {
                ch.close();
            } catch (IOException ignored) {
                /* best effort */
            }
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                /* best effort */
            }
            if (scratch) deleteScratch(target); // the placeholder the scratch file's name was taken with
        }
    }

    private static void deleteScratch(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            p.toFile().deleteOnExit(); // platforms that cannot delete a mapped file
        }
    }

    /** The content hash described in the class comment. */
    static byte[] contentHash(Path file, long size) throws IOException {
        MessageDigest md = size <= fullHashLimit ? sha256() : null;
        java.util.zip.CRC32C crc = md == null ? new java.util.zip.CRC32C() : null;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            long pos = 0;
            while (true) {
                b.clear();
                int r = ch.read(b, pos);
                if (r < 0) break;
                pos += r;
                b.flip();
                if (md != null) md.update(b);
                else crc.update(b);
            }
        }
        if (md != null) return md.digest();
        // 32 bytes as the header holds them: a tag, the size, the CRC-32C of every byte
        return ByteBuffer.allocate(32)
                .put((byte) 'C')
                .putLong(1, size)
                .putLong(9, crc.getValue())
                .array();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }
}
