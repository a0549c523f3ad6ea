package org.charrnn.util;

import java.util.regex.Pattern;

/**
 * A JSON parse error in words, for the one-line messages of {@link UserError}: {@code file + ": not
 * valid JSON: " + JsonErrors.reason(e)}.
 */
public final class JsonErrors {
    private JsonErrors() {}

    /** Gson's hint where it meets JSON it reads only in lenient mode (setLenient(true) before Gson 2.11). */
    private static final Pattern LENIENT_HINT = Pattern.compile(
            "^Use JsonReader\\.set(?:Strictness\\(Strictness\\.LENIENT\\)|Lenient\\(true\\)) to accept malformed JSON");

    /**
     * The innermost reason's first line: "End of input at line 1 column 9 path $.impl", "Expected
     * name at line 1 column 8 path $.a", "malformed JSON at line 1 column 6 path $". Gson wraps the
     * reader's exception (whose class name then leads the outer message) and puts a link to its
     * troubleshooting page on a second line; its hint to read leniently is said as "malformed JSON".
     */
    public static String reason(RuntimeException e) {
        Throwable why = e;
        while (why.getCause() != null && why.getCause() != why) why = why.getCause();
        String m = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl);
        return LENIENT_HINT.matcher(m).replaceFirst("malformed JSON");
    }
}
