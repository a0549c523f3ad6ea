package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

class JsonErrorsTest {
    private static String reason(String json) {
        return JsonErrors.reason(assertThrows(JsonParseException.class, () -> JsonParser.parseString(json)));
    }

    @Test
    void gsonErrorsAreOnePlainLine() {
        assertEquals("End of input at line 1 column 9 path $.impl", reason("{\"impl\":"));
        assertEquals("Expected name at line 1 column 8 path $.a", reason("{\"a\":1,,}"));
        assertEquals("malformed JSON at line 1 column 6 path $", reason("not json {"));
    }

    @Test
    void otherExceptionsGiveTheirInnermostFirstLine() {
        RuntimeException wrapped =
                new RuntimeException("outer", new IllegalArgumentException("--hidden must be > 0, got 0\nsecond line"));
        assertEquals("--hidden must be > 0, got 0", JsonErrors.reason(wrapped));
        assertEquals("NullPointerException", JsonErrors.reason(new RuntimeException(new NullPointerException())));
        // Gson's int adapter: a string where a number belongs (its place is not in the exception)
        record Batch(int batch) {}
        RuntimeException e = assertThrows(
                RuntimeException.class, () -> new com.google.gson.Gson().fromJson("{\"batch\":\"zz\"}", Batch.class));
        assertEquals("\"zz\" is not a number", JsonErrors.reason(e));
    }
}
