package org.charrnn.data;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.charrnn.util.JsonErrors;
import org.charrnn.util.UserError;

/**
 * The symbols of a model: sorted Unicode code points ({@link Encoding#UTF8}) or byte values
 * ({@link Encoding#BYTES}), optionally followed by one unknown symbol that stands for every symbol
 * left out (see {@code --max-vocab}). Index {@code i} of the model's input and output is symbol
 * {@code symbol(i)}; the unknown symbol, if any, is the last index.
 *
 * <p>Stored in checkpoints as {@link #toJson()}:
 * {@code {"format":"charrnn-vocabulary","version":1,"encoding":"utf8","symbols":[10,32,...],"unknown":false}}.
 */
public final class Vocabulary {
    static final String FORMAT = "charrnn-vocabulary";
    static final int VERSION = 1;
    /** Largest vocabulary a corpus can be encoded with (16-bit indices). */
    public static final int MAX_SIZE = 65536;

    private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private final Encoding encoding;
    private final int[] symbols;
    private final boolean withUnknown;
    private final byte[][] bytes;
    private volatile int[] lookup; // symbol -> index, -1 if absent; built on first use

    private Vocabulary(Encoding encoding, int[] symbols, boolean withUnknown) {
        this.encoding = encoding;
        this.symbols = symbols;
        this.withUnknown = withUnknown;
        int v = size();
        this.bytes = new byte[v][];
        for (int i = 0; i < symbols.length; i++) {
            bytes[i] = encoding == Encoding.BYTES
                    ? new byte[] {(byte) symbols[i]}
                    : new String(Character.toChars(symbols[i])).getBytes(StandardCharsets.UTF_8);
        }
        if (withUnknown) bytes[v - 1] = REPLACEMENT;
    }

    /**
     * A vocabulary of the given symbols, which must be strictly increasing: code points
     * (U+0000..U+10FFFF, no surrogates) for UTF8, byte values 0..255 for BYTES.
     */
    public static Vocabulary of(Encoding enc, int[] symbols, boolean withUnknown) {
        if (enc == null) throw new IllegalArgumentException("encoding is null");
        int[] s = symbols.clone();
        int max = enc == Encoding.BYTES ? 255 : Character.MAX_CODE_POINT;
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 0 || s[i] > max || (enc == Encoding.UTF8 && s[i] >= 0xD800 && s[i] <= 0xDFFF))
                throw new IllegalArgumentException("symbol " + s[i] + " is not valid for encoding " + enc.id());
            if (i > 0 && s[i] <= s[i - 1]) throw new IllegalArgumentException("symbols must be strictly increasing");
        }
        if (s.length + (withUnknown ? 1 : 0) > MAX_SIZE)
            throw new IllegalArgumentException("vocabulary larger than " + MAX_SIZE);
        if (s.length + (withUnknown ? 1 : 0) == 0) throw new IllegalArgumentException("empty vocabulary");
        return new Vocabulary(enc, s, withUnknown);
    }

    public Encoding encoding() {
        return encoding;
    }

    /** V, including the unknown symbol if any. */
    public int size() {
        return symbols.length + (withUnknown ? 1 : 0);
    }

    /** Index of the unknown symbol (the last index), or -1 if there is none. */
    public int unknownIndex() {
        return withUnknown ? symbols.length : -1;
    }

    public boolean hasUnknown() {
        return withUnknown;
    }

    /** Number of real (known) symbols: {@code size()} less the unknown symbol. */
    public int knownSize() {
        return symbols.length;
    }

    /** Code point (UTF8) or byte value (BYTES) of {@code index}; -1 for the unknown symbol. */
    public int symbol(int index) {
        checkIndex(index);
        return index < symbols.length ? symbols[index] : -1;
    }

    /** The sorted known symbols (a copy). */
    public int[] symbols() {
        return symbols.clone();
    }

    /** Index of {@code symbol}; if absent, {@link #unknownIndex()} (which is -1 without one). */
    public int indexOf(int symbol) {
        int i = exactIndexOf(symbol);
        return i >= 0 ? i : unknownIndex();
    }

    /** Index of {@code symbol}, or -1 if it is not a known symbol (never the unknown index). */
    public int exactIndexOf(int symbol) {
        int[] t = lookupTable();
        return symbol >= 0 && symbol < t.length ? t[symbol] : -1;
    }

    /** A table from symbol to index (-1 if absent), sized to the largest symbol + 1. */
    int[] lookupTable() {
        int[] t = lookup;
        if (t == null) {
            int n = symbols.length == 0 ? 0 : symbols[symbols.length - 1] + 1;
            t = new int[encoding == Encoding.BYTES ? 256 : n];
            Arrays.fill(t, -1);
            for (int i = 0; i < symbols.length; i++) t[symbols[i]] = i;
            lookup = t;
        }
        return t;
    }

    /**
     * The bytes to write when sampling {@code index}: the code point's UTF-8 form, the raw byte in
     * BYTES mode, and U+FFFD's UTF-8 form for the unknown symbol. Do not modify the array.
     */
    public byte[] bytes(int index) {
        checkIndex(index);
        return bytes[index];
    }

    /** A printable, one-line form of {@code index} for messages and HTML: {@code \n}, {@code \t}, {@code U+200B}, {@code \xFF} (bytes mode), {@code <unk>}. */
    public String display(int index) {
        checkIndex(index);
        if (index == unknownIndex()) return "<unk>";
        int s = symbols[index];
        if (encoding == Encoding.BYTES && (s >= 0x7F || (s < 0x20 && s != '\n' && s != '\t' && s != '\r')))
            return String.format(Locale.ROOT, "\\x%02X", s);
        return displaySymbol(s);
    }

    static String displaySymbol(int cp) {
        String escaped = switch (cp) {
            case '\n' -> "\\n";
            case '\t' -> "\\t";
            case '\r' -> "\\r";
            case '\\' -> "\\\\";
            default -> null;
        };
        if (escaped != null) return escaped;
        int type = Character.getType(cp);
        boolean invisible = Character.isISOControl(cp)
                || type == Character.FORMAT
                || type == Character.UNASSIGNED
                || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR
                || type == Character.PRIVATE_USE
                || type == Character.SURROGATE
                || (Character.isWhitespace(cp) && cp != ' ')
                || cp == 0x00A0;
        return invisible ? String.format(Locale.ROOT, "U+%04X", cp) : new String(Character.toChars(cp));
    }

    /**
     * Encodes prime text for sampling: code points in UTF8 mode, the text's UTF-8 bytes in BYTES
     * mode. Symbols not in the vocabulary map to the unknown symbol where there is one; otherwise
     * this throws a {@link UserError} listing them.
     */
    public int[] encodePrime(String text) {
        int[] in;
        if (encoding == Encoding.BYTES) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            in = new int[b.length];
            for (int i = 0; i < b.length; i++) in[i] = b[i] & 0xFF;
        } else {
            in = text.codePoints().toArray();
        }
        int[] out = new int[in.length];
        Set<Integer> missing = new LinkedHashSet<>();
        for (int i = 0; i < in.length; i++) {
            int idx = exactIndexOf(in[i]);
            if (idx < 0) {
                if (withUnknown) idx = unknownIndex();
                else missing.add(in[i]);
            }
            out[i] = idx;
        }
        if (!missing.isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (int s : missing) parts.add(describeSymbol(encoding, s));
            throw new UserError("prime text has " + (encoding == Encoding.BYTES ? "bytes" : "characters")
                    + " not in the vocabulary: " + String.join(", ", parts));
        }
        return out;
    }

    /**
     * {@code 'é' (U+00E9)}, {@code '\n' (U+000A)}, {@code U+0001} (a symbol with no visible form
     * is its code alone) or, for bytes, {@code byte 0xE9}.
     */
    static String describeSymbol(Encoding enc, int s) {
        if (enc == Encoding.BYTES) return String.format(Locale.ROOT, "byte 0x%02X", s);
        String code = String.format(Locale.ROOT, "U+%04X", s), shown = displaySymbol(s);
        return shown.equals(code) ? code : "'" + shown + "' (" + code + ")";
    }

    /** The stable JSON form stored in checkpoints. */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("version", VERSION);
        o.addProperty("encoding", encoding.id());
        JsonArray a = new JsonArray(symbols.length);
        for (int s : symbols) a.add(s);
        o.add("symbols", a);
        o.addProperty("unknown", withUnknown);
        return new Gson().toJson(o);
    }

    /**
     * Parses {@link #toJson()}; a malformed vocabulary (not JSON, a field missing or of another
     * type, a number that is not a whole one, symbols {@link #of} refuses) is a one-line {@link
     * UserError}.
     */
    public static Vocabulary fromJson(String json) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) throw malformed("not a JSON object");
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw malformed("not valid JSON: " + JsonErrors.reason(e));
        }
        JsonElement f = o.get("format");
        if (f == null || !f.isJsonPrimitive() || !FORMAT.equals(f.getAsString())) throw malformed("not a " + FORMAT);
        int version = whole(field(o, "version"), "\"version\"");
        if (version != VERSION) throw malformed("unsupported version " + version);
        JsonElement enc = field(o, "encoding"), sym = field(o, "symbols"), unk = field(o, "unknown");
        if (!enc.isJsonPrimitive() || !enc.getAsJsonPrimitive().isString())
            throw malformed("\"encoding\" is not a string");
        if (!sym.isJsonArray()) throw malformed("\"symbols\" is not an array");
        if (!unk.isJsonPrimitive() || !unk.getAsJsonPrimitive().isBoolean())
            throw malformed("\"unknown\" is not true or false");
        JsonArray a = sym.getAsJsonArray();
        int[] s = new int[a.size()];
        for (int i = 0; i < s.length; i++) s[i] = whole(a.get(i), "symbol " + i);
        try {
            return of(Encoding.parse(enc.getAsString()), s, unk.getAsBoolean());
        } catch (IllegalArgumentException | UserError e) {
            throw malformed(e.getMessage());
        }
    }

    private static UserError malformed(String why) {
        return new UserError("malformed vocabulary: " + why);
    }

    private static JsonElement field(JsonObject o, String name) {
        JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) throw malformed("no \"" + name + "\"");
        return e;
    }

    /** A whole number in int range ({@code what} names it in the error). */
    private static int whole(JsonElement e, String what) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber())
            throw malformed(what + " is not a number");
        double v = e.getAsDouble();
        if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)
            throw malformed(what + " is not a whole number: " + e);
        return (int) v;
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= size())
            throw new IndexOutOfBoundsException("index " + index + " of vocabulary size " + size());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v
                && v.encoding == encoding
                && v.withUnknown == withUnknown
                && Arrays.equals(v.symbols, symbols);
    }

    @Override
    public int hashCode() {
        return (encoding.hashCode() * 31 + Arrays.hashCode(symbols)) * 31 + (withUnknown ? 1 : 0);
    }

    @Override
    public String toString() {
        return "Vocabulary[" + encoding.id() + ", " + size() + " symbols" + (withUnknown ? " incl. unknown" : "") + "]";
    }
}
