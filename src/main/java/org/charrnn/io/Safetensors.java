package org.charrnn.io;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * Minimal safetensors reader and writer (the format of huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header mapping each tensor name to
 * {@code {"dtype", "shape", "data_offsets"}} plus an optional {@code "__metadata__"} map of
 * strings, then the raw little-endian tensor bytes. Supports F32 and F64.
 *
 * <p>Writes are atomic: a temp file in the same directory, fsync, then rename over the target.
 * Reads validate every structural property and turn a bad file into a one-line {@link UserError}.
 */
public final class Safetensors {
    private Safetensors() {}

    /** Element type of a stored tensor. */
    public enum DType {
        F32(4),
        F64(8);
        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor to write or as read: values held in double, stored as {@code dtype}. */
    public record Tensor(String name, DType dtype, long[] shape, double[] values) {
        public Tensor {
            long n = 1;
            for (long d : shape) n *= d;
            if (n != values.length)
                throw new IllegalArgumentException(name + ": shape has " + n + " elements, values " + values.length);
        }
    }

    /** Contents of a file: tensors in file order and the metadata map. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Tensor require(String name, Path file) {
            Tensor t = tensors.get(name);
            if (t == null) throw new UserError(file + ": missing tensor '" + name + "'");
            return t;
        }
    }

    /** Bytes of tensor data read at a time (a multiple of every element size). */
    static final int READ_CHUNK = 1 << 20;

    /** Largest header accepted (the format's own limit is 100 MB). */
    static final long MAX_HEADER = 100L << 20;

    /** Writes tensors and metadata to {@code file} atomically. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        if (metadata != null) metadata.forEach(meta::addProperty);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        encodeData(tensors, crc::update);
        meta.addProperty(CHECKSUM_KEY, Long.toHexString(crc.getValue())); // replaces any copied from another file
        header.add("__metadata__", meta);
        long offset = 0;
        for (Tensor t : tensors) {
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.dtype().name());
            var shape = new com.google.gson.JsonArray();
            for (long d : t.shape()) shape.add(d);
            o.add("shape", shape);
            long size = (long) t.values().length * t.dtype().bytes;
            var offs = new com.google.gson.JsonArray();
            offs.add(offset);
            offs.add(offset + size);
            o.add("data_offsets", offs);
            header.add(t.name(), o);
            offset += size;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8; // align the data to 8 bytes, padding with spaces
        byte[] headerBytes = new byte[json.length + pad];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < headerBytes.length; i++) headerBytes[i] = ' ';

        AtomicFile.write(file, ch -> {
            ByteBuffer len =
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length);
            len.flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(headerBytes));
            encodeData(tensors, buf -> writeFully(ch, buf));
        });
    }

    /** Metadata key of the CRC-32C (hex) of the data section, written by {@link #write} and checked by {@link #read}. */
    public static final String CHECKSUM_KEY = "charrnn.data_crc32c";

    private interface DataSink {
        void accept(ByteBuffer encoded) throws IOException;
    }

    /** Hands the data section (every tensor's values, little-endian, in order) to {@code sink} in chunks. */
    private static void encodeData(List<Tensor> tensors, DataSink sink) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : tensors) {
            for (double v : t.values()) {
                if (buf.remaining() < 8) {
                    buf.flip();
                    sink.accept(buf);
                    buf.clear();
                }
                if (t.dtype() == DType.F32) buf.putFloat((float) v);
                else buf.putDouble(v);
            }
        }
        buf.flip();
        sink.accept(buf);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Reads only the metadata map (cheap: the tensor data is not touched). */
    public static Map<String, String> readMetadata(Path file) {
        try (FileChannel ch = open(file)) {
            return parseMetadata(readHeader(file, ch), file);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read checkpoint: " + IoErrors.reason(e), e);
        }
    }

    /** Reads and validates a whole file. */
    public static Contents read(Path file) {
        try (FileChannel ch = open(file)) {
            JsonObject header = readHeader(file, ch);
            long dataStart = 8 + headerLength(ch);
            long dataLen = ch.size() - dataStart;
            Map<String, String> metadata = parseMetadata(header, file);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                Entry entry = Entry.of(file, e.getKey(), e.getValue());
                if (entry.end() > dataLen)
                    throw new UserError(file + ": file is truncated (tensor '" + entry.name() + "' ends at byte "
                            + (dataStart + entry.end()) + ", file has " + ch.size() + ")");
                entries.add(entry);
                tensors.put(entry.name(), entry.read(file, ch, dataStart));
            }
            checkLayout(file, entries, dataLen);
            String sum = metadata.get(CHECKSUM_KEY);
            if (sum != null && !sum.equalsIgnoreCase(checksum(ch, dataStart)))
                throw corrupt(file, "its tensor data do not match their checksum (the file was changed or damaged)");
            return new Contents(tensors, metadata);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read checkpoint: " + IoErrors.reason(e), e);
        }
    }

    /** A tensor's header entry: its data lies at bytes [start, end) of the data section, {@code count} elements. */
    private record Entry(String name, DType dtype, long[] shape, long start, long end, int count) {
        /** The entry {@code name: {"dtype", "shape", "data_offsets"}}, checked against itself. */
        static Entry of(Path file, String name, JsonElement value) {
            if (!value.isJsonObject()) throw corrupt(file, "entry '" + name + "' is not an object");
            JsonObject o = value.getAsJsonObject();
            DType dtype;
            try {
                dtype = DType.valueOf(o.get("dtype").getAsString());
            } catch (RuntimeException ex) {
                throw corrupt(file, "tensor '" + name + "' has unsupported dtype " + o.get("dtype"));
            }
            long[] shape, offs;
            try {
                shape = wholeNumbers(o.getAsJsonArray("shape"));
                offs = wholeNumbers(o.getAsJsonArray("data_offsets"));
                if (offs.length != 2) throw new IllegalArgumentException("two offsets");
            } catch (RuntimeException ex) {
                throw corrupt(file, "tensor '" + name + "' has a malformed shape or data_offsets");
            }
            long n = 1;
            for (long d : shape) {
                if (d < 0) throw corrupt(file, "tensor '" + name + "' has a negative dimension");
                n = d == 0 ? 0 : n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d; // saturates: too large all the same
            }
            if (n > Integer.MAX_VALUE) throw corrupt(file, "tensor '" + name + "' is too large");
            if (offs[0] < 0 || offs[1] < offs[0] || offs[1] - offs[0] != n * dtype.bytes)
                throw corrupt(file, "tensor '" + name + "' data_offsets do not match its shape");
            return new Entry(name, dtype, shape, offs[0], offs[1], (int) n);
        }

        /**
         * Its values, read from the data section that starts at byte {@code dataStart} of the file,
         * a chunk at a time: a tensor may hold more than 2 GiB (a training state's F64 parameters
         * of a model over 268 million parameters), more than one buffer can.
         */
        Tensor read(Path file, FileChannel ch, long dataStart) throws IOException {
            double[] values = new double[count];
            ByteBuffer buf = ByteBuffer.allocate(READ_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            long pos = dataStart + start;
            for (int i = 0; i < count; ) {
                buf.clear();
                buf.limit((int) Math.min(READ_CHUNK, (long) (count - i) * dtype.bytes));
                while (buf.hasRemaining()) {
                    int r = ch.read(buf, pos);
                    if (r < 0) throw new UserError(file + ": file is truncated");
                    pos += r;
                }
                buf.flip();
                while (buf.hasRemaining()) values[i++] = dtype == DType.F32 ? buf.getFloat() : buf.getDouble();
            }
            return new Tensor(name, dtype, shape, values);
        }
    }

    /** The elements of a JSON array of whole numbers (1.5, "2" or 1e30 are not). */
    private static long[] wholeNumbers(com.google.gson.JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber())
                throw new IllegalArgumentException("not a number: " + e);
            out[i] = e.getAsBigDecimal().longValueExact();
        }
        return out;
    }

    /** The tensors' data must tile the data section: no overlap, no gap, nothing after the last. */
    private static void checkLayout(Path file, List<Entry> entries, long dataLen) {
        List<Entry> byStart = new ArrayList<>(entries);
        byStart.sort((a, b) -> Long.compare(a.start(), b.start()));
        long expect = 0;
        for (Entry e : byStart) {
            if (e.start() != expect) throw corrupt(file, "tensor data overlaps or leaves gaps");
            expect = e.end();
        }
        if (expect != dataLen) throw corrupt(file, "file has " + (dataLen - expect) + " bytes beyond its tensors");
    }

    /** The CRC-32C (hex) of the file from {@code dataStart} on, as {@link #write} records it. */
    private static String checksum(FileChannel ch, long dataStart) throws IOException {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        for (long pos = dataStart; pos < ch.size(); ) {
            buf.clear();
            int r = ch.read(buf, pos);
            if (r < 0) break;
            pos += r;
            buf.flip();
            crc.update(buf);
        }
        return Long.toHexString(crc.getValue());
    }

    private static FileChannel open(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new UserError(file + " is a directory, expected a .safetensors file");
        // a pipe would block open() until a writer came, and has no size to read a header by
        if (AtomicFile.isSpecial(file))
            throw new UserError(file + " " + AtomicFile.SPECIAL + ", expected a .safetensors file");
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new UserError("checkpoint not found: " + file);
        }
    }

    private static long headerLength(FileChannel ch) throws IOException {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (len.hasRemaining()) if (ch.read(len, len.position()) < 0) return -1;
        len.flip();
        return len.getLong();
    }

    private static JsonObject readHeader(Path file, FileChannel ch) throws IOException {
        if (ch.size() < 8)
            throw new UserError(
                    file + ": file is truncated or empty (" + ch.size() + " bytes), not a safetensors file");
        long n = headerLength(ch);
        if (n <= 0 || n > MAX_HEADER)
            throw new UserError(file + ": not a safetensors file, or a corrupt one: its first 8 bytes give a"
                    + " header length of " + n + " (a safetensors header is 1 to " + MAX_HEADER + " bytes)");
        if (8 + n > ch.size())
            throw new UserError(
                    file + ": file is truncated (header needs " + (8 + n) + " bytes, file has " + ch.size() + ")");
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        while (hb.hasRemaining())
            if (ch.read(hb, 8 + hb.position()) < 0) throw new UserError(file + ": file is truncated");
        String json = new String(hb.array(), StandardCharsets.UTF_8);
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonObject()) throw corrupt(file, "header is not a JSON object");
            return el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw corrupt(file, "header is not valid JSON");
        }
    }

    private static Map<String, String> parseMetadata(JsonObject header, Path file) {
        Map<String, String> meta = new LinkedHashMap<>();
        JsonElement m = header.get("__metadata__");
        if (m == null) return meta;
        if (!m.isJsonObject()) throw corrupt(file, "__metadata__ is not an object");
        for (Map.Entry<String, JsonElement> e : m.getAsJsonObject().entrySet()) {
            if (!e.getValue().isJsonPrimitive()) throw corrupt(file, "__metadata__ values must be strings");
            meta.put(e.getKey(), e.getValue().getAsString());
        }
        return meta;
    }

    private static UserError corrupt(Path file, String what) {
        return new UserError(file + ": corrupt checkpoint: " + what);
    }
}
