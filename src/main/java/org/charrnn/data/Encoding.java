package org.charrnn.data;

import java.util.Locale;
import org.charrnn.util.UserError;

/**
 * How a corpus file is read: {@link #UTF8} (the default) decodes it as UTF-8 and uses Unicode code
 * points as symbols; {@link #BYTES} uses the raw bytes 0..255 as symbols, for files that are not
 * valid UTF-8. Sampling writes symbols back in the same form.
 */
public enum Encoding {
    UTF8("utf8"),
    BYTES("bytes");

    private final String id;

    Encoding(String id) {
        this.id = id;
    }

    /** The name used on the command line and in checkpoints: {@code "utf8"} or {@code "bytes"}. */
    public String id() {
        return id;
    }

    /** Parses {@code "utf8"} (also {@code "utf-8"}) or {@code "bytes"}, ignoring case. */
    public static Encoding parse(String s) {
        if (s != null) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (t.equals("utf8") || t.equals("utf-8")) return UTF8;
            if (t.equals("bytes") || t.equals("byte")) return BYTES;
        }
        throw new UserError("unknown encoding '" + s + "': expected utf8 or bytes");
    }

    @Override
    public String toString() {
        return id;
    }
}
