package org.charrnn.util;

import java.util.regex.Matcher;
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

    /** Java's words for a string that does not parse as a number. */
    private static final Pattern NOT_A_NUMBER = Pattern.compile("For input string: (\".*\")");

    /**
     * The innermost reason's first line: "End of input at line 1 column 9 path $.impl", "Expected
     * name at line 1 column 8 path $.a", "malformed JSON at line 1 column 6 path $", "\"zz\" is not
     * a number". Gson wraps the reader's exception (whose class name then leads the outer message)
     * and puts a link to its troubleshooting page on a second line; its hint to read leniently is
     * said as "malformed JSON", and Java's "For input string" as what it is.
     */
    public static String reason(RuntimeException e) {
        Throwable why = e;
        while (why.getCause() != null && why.getCause() != why) why = why.getCause();
        String m = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl);
        if (why instanceof NumberFormatException) {
            // what Gson's number adapters pass on, without the value's place
            Matcher input = NOT_A_NUMBER.matcher(m);
            if (input.matches()) return input.group(1) + " is not a number";
        }
        return LENIENT_HINT.matcher(m).replaceFirst("malformed JSON");
    }
}
