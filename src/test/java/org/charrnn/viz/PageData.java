package org.charrnn.viz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jsoup.nodes.Element;

/** The data of a cells page decoded as its script does, for tests that read the page without a browser. */
record PageData(JsonObject d, int[] si, byte[] pred) {

    static PageData of(String html) {
        Matcher m = Pattern.compile("var D=(.*);\n").matcher(html);
        assertTrue(m.find(), "no data object in the page");
        JsonObject d = JsonParser.parseString(m.group(1)).getAsJsonObject();
        byte[] si = Base64.getDecoder().decode(d.get("si").getAsString());
        int w = d.get("siw").getAsInt();
        int[] idx = new int[si.length / w];
        for (int i = 0; i < idx.length; i++) idx[i] = index(si, i, w);
        return new PageData(d, idx, Base64.getDecoder().decode(d.get("pred").getAsString()));
    }

    private static int index(byte[] b, int i, int w) {
        return w == 2 ? (b[2 * i] & 0xFF) | (b[2 * i + 1] & 0xFF) << 8 : b[i] & 0xFF;
    }

    int length() {
        return si.length;
    }

    private JsonArray sym(int t) {
        return d.getAsJsonArray("sym").get(si[t]).getAsJsonArray();
    }

    /** The text shown for character t. */
    String shown(int t) {
        return sym(t).get(0).getAsString();
    }

    /** The tooltip's label of character t. */
    String label(int t) {
        return sym(t).get(2).getAsString();
    }

    /** The activations of a block, dequantized. */
    static double[] activations(Element block) {
        byte[] q = Base64.getDecoder().decode(block.selectFirst(".text").attr("data-a"));
        double[] v = new double[q.length];
        for (int i = 0; i < q.length; i++) v[i] = q[i] / 127.0;
        return v;
    }

    /** The colour the script gives activation level {@code q} (-127..127). */
    String colour(int q) {
        return d.getAsJsonArray("pal").get(q + 127).getAsString();
    }

    int k() {
        return d.get("k").getAsInt();
    }

    /** The vocabulary index of the i-th likeliest symbol after character t. */
    int predicted(int t, int i) {
        int w = d.get("pw").getAsInt(), per = k() * (w + 1);
        return index(java.util.Arrays.copyOfRange(pred, t * per, (t + 1) * per), i, w);
    }

    /** Its probability in whole percent. */
    int percent(int t, int i) {
        int w = d.get("pw").getAsInt(), per = k() * (w + 1);
        return pred[t * per + k() * w + i] & 0xFF;
    }

    String vocabLabel(int v) {
        return d.getAsJsonArray("vocab").get(v).getAsString();
    }
}
