package org.charrnn.viz;

/** HTML text helpers shared by the pages. */
final class Html {
    private Html() {}

    /** Escapes text for element content and double-quoted attribute values. */
    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** {@code <script>} content cannot contain "</": JSON from Gson is HTML-safe already; this guards the rest. */
    static String scriptSafe(String js) {
        return js.replace("</", "<\\/");
    }
}
