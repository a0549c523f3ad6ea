package org.charrnn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Safetensors#read}: tensors larger than its read buffer come back whole, and a damaged
 * header (the data checksum does not cover it) is one line saying what is wrong: every structural
 * rule on a two-tensor file whose header is edited as text, the data left as written.
 */
class SafetensorsReadTest {
    /** As {@link Safetensors#write} lays the two tensors out: a [2,3] F32 at bytes 0..24, a [2] F64 at 24..40. */
    private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";

    private static final String B = "\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[24,40]}";

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void write() throws Exception {
        file = dir.resolve("t.safetensors");
        Safetensors.write(
                file,
                List.of(
                        new Safetensors.Tensor(
                                "a", Safetensors.DType.F32, new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6}),
                        new Safetensors.Tensor("b", Safetensors.DType.F64, new long[] {2}, new double[] {0.5, -7})),
                Map.of("k", "v"));
    }

    /** The file's header JSON. */
    private String header() throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    }

    /** Rewrites the header through {@code edit}, keeping the data section (and so its checksum) as it was. */
    private void editHeader(UnaryOperator<String> edit) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String before = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String after = edit.apply(before);
        if (after.equals(before)) throw new IllegalStateException("the edit changed nothing in " + before);
        byte[] json = after.getBytes(StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(bytes, 8 + (int) n, bytes.length);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(data);
        Files.write(file, out.array());
    }

    @Test
    void theUneditedFileReadsBackAndTheEditsStartFromItsLayout() throws Exception {
        Safetensors.Contents c = Safetensors.read(file);
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, c.tensors().get("a").values());
        assertArrayEquals(new double[] {0.5, -7}, c.tensors().get("b").values());
        assertEquals("v", c.metadata().get("k"));
        String h = header();
        if (!h.contains(A) || !h.contains(B)) throw new AssertionError("the write's layout changed: " + h);
        // a whole number written as 2.0 is the same dimension
        editHeader(s -> s.replace("\"shape\":[2,3]", "\"shape\":[2.0,3]"));
        assertArrayEquals(
                new long[] {2, 3}, Safetensors.read(file).tensors().get("a").shape());
    }

    /** Tensors spanning several read chunks and ending inside one, F32 and F64, read back bit for bit. */
    @Test
    void tensorsLargerThanTheReadBufferComeBackWhole() throws Exception {
        SplittableRandom rng = new SplittableRandom(7);
        double[] f64 = rng.doubles(2 * Safetensors.READ_CHUNK / 8 + 3).toArray();
        double[] f32 =
                rng.doubles(Safetensors.READ_CHUNK / 4 + 1).map(v -> (float) v).toArray();
        Path big = dir.resolve("big.safetensors");
        Safetensors.write(
                big,
                List.of(
                        new Safetensors.Tensor("f32", Safetensors.DType.F32, new long[] {f32.length}, f32),
                        new Safetensors.Tensor("f64", Safetensors.DType.F64, new long[] {f64.length}, f64)),
                Map.of());
        Safetensors.Contents c = Safetensors.read(big);
        assertArrayEquals(f32, c.tensors().get("f32").values());
        assertArrayEquals(f64, c.tensors().get("f64").values());
    }

    static Stream<Arguments> damage() {
        return Stream.of(
                Arguments.of(A, "\"a\":[1,2]", "entry 'a' is not an object"),
                Arguments.of("\"dtype\":\"F32\"", "\"dtype\":\"F16\"", "tensor 'a' has unsupported dtype \"F16\""),
                Arguments.of("\"dtype\":\"F32\",", "", "tensor 'a' has unsupported dtype null"),
                Arguments.of("[2,3]", "[2.5,3]", "tensor 'a' has a malformed shape or data_offsets"),
                Arguments.of("[2,3]", "[\"2\",3]", "tensor 'a' has a malformed shape or data_offsets"),
                Arguments.of("[2,3]", "[1e30,3]", "tensor 'a' has a malformed shape or data_offsets"),
                Arguments.of("[0,24]", "[0,24,40]", "tensor 'a' has a malformed shape or data_offsets"),
                Arguments.of("[0,24]", "[0]", "tensor 'a' has a malformed shape or data_offsets"),
                Arguments.of("[2,3]", "[-2,-3]", "tensor 'a' has a negative dimension"),
                // 2^62 x 4 wraps to 0 in a long: an empty tensor of that shape unless the product saturates
                Arguments.of(
                        "[2,3],\"data_offsets\":[0,24]",
                        "[4611686018427387904,4],\"data_offsets\":[0,0]",
                        "tensor 'a' is too large"),
                Arguments.of("[2,3]", "[2,4]", "tensor 'a' data_offsets do not match its shape"),
                Arguments.of(
                        "[2],\"data_offsets\":[24,40]",
                        "[3],\"data_offsets\":[24,48]",
                        "file is truncated (tensor 'b' ends at byte"),
                Arguments.of("[24,40]", "[16,32]", "corrupt checkpoint: tensor data overlaps or leaves gaps"),
                Arguments.of(
                        "[2],\"data_offsets\":[24,40]",
                        "[1],\"data_offsets\":[24,32]",
                        "corrupt checkpoint: file has 8 bytes beyond its tensors"),
                Arguments.of("\"k\":\"v\"", "\"k\":{}", "__metadata__ values must be strings"));
    }

    /** A pipe (a process substitution's /dev/fd/N, a mkfifo) is named: opening it would wait for a writer. */
    @Test
    void aPipeIsNotReadAsACheckpoint() throws Exception {
        Path pipe = org.charrnn.testutil.NamedPipe.at(dir.resolve("p.safetensors"));
        String expect = pipe + " is not a regular file (a device, pipe or socket), expected a .safetensors file";
        UserError e = assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(30), () -> assertThrows(UserError.class, () -> Safetensors.read(pipe)));
        assertEquals(expect, e.getMessage());
        e = assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(30),
                () -> assertThrows(UserError.class, () -> Safetensors.readMetadata(pipe)));
        assertEquals(expect, e.getMessage());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("damage")
    void aDamagedHeaderIsOneLineSayingWhatIsWrong(String from, String to, String expect) throws Exception {
        editHeader(s -> s.replace(from, to));
        UserError e = assertThrows(UserError.class, () -> Safetensors.read(file));
        String m = e.getMessage();
        if (!m.startsWith(file + ": ") || !m.contains(expect) || m.contains("\n"))
            throw new AssertionError("expected one line on " + file + " containing <" + expect + ">, got: " + m);
    }
}
