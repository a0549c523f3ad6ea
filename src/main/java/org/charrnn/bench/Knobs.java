package org.charrnn.bench;

import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The {@code -Dcharrnn.*} knobs set when a row was measured (the layer pipeline, the token
 * projection, the persistent kernels' layout...), so that rows of one configuration measured with
 * different knobs stay apart in the tables ({@link JsonRows#variant}). Properties that say where
 * (kernel sources, the persistent kernels' measured rates) are not knobs: {@link #WHERE}. KnobsTest
 * checks that every {@code charrnn.*} property the code reads is one or the other.
 */
public final class Knobs {
    static final String PREFIX = "charrnn.";

    /** The properties that change what a step runs. */
    static final Set<String> KNOBS = Set.of(
            "charrnn.layerPipeline",
            "charrnn.pipelineChunk",
            "charrnn.tokenProjection",
            "charrnn.overlap",
            "charrnn.persistent.backward",
            "charrnn.persistent.clusters",
            "charrnn.persistent.exchange",
            "charrnn.persistent.groups",
            "charrnn.persistent.layout",
            "charrnn.persistent.registers",
            "charrnn.persistent.units",
            "charrnn.persistent.wavefront",
            "charrnn.cuda.tiledGemm",
            "charrnn.cuda.fusedDecoder",
            "charrnn.reference.vector");

    /** The properties that say where things are (or that the output is a terminal): left out of a row. */
    static final Set<String> WHERE =
            Set.of("charrnn.kernels", "charrnn.opencl.kernels", "charrnn.persistent.rates", "charrnn.terminal");

    /**
     * The properties the build hands its tests (the pom's surefire settings, and charrnn.test.*): a
     * JVM a test starts inherits them where they come through JAVA_TOOL_OPTIONS (bench/gpu-check.sh's
     * junit step), so {@link #unknownProperty} lets them pass.
     */
    static final Set<String> TESTS = Set.of(
            "charrnn.shakespeare",
            "charrnn.basedir",
            "charrnn.torchcheck",
            "charrnn.torchbaseline",
            "charrnn.cnnfeatures");

    private static final String TEST_PREFIX = "charrnn.test.";

    private Knobs() {}

    /** Whether the code reads {@code property}: a knob, or one of {@link #WHERE}. */
    public static boolean known(String property) {
        return KNOBS.contains(property) || WHERE.contains(property);
    }

    /**
     * The one-line error for the first {@code charrnn.*} property in {@code properties} that the code
     * does not read (a misspelt knob would leave its default in silence), naming the nearest known
     * one where it is a slip of a few letters; null where every one is known.
     */
    public static String unknownProperty(Properties properties) {
        for (String name : new TreeSet<>(properties.stringPropertyNames())) {
            if (!name.startsWith(PREFIX) || known(name) || TESTS.contains(name) || name.startsWith(TEST_PREFIX))
                continue;
            TreeSet<String> all = new TreeSet<>(KNOBS);
            all.addAll(WHERE);
            String nearest = null;
            int best = 4; // at most 3 edits away
            for (String k : all) {
                int d = distance(name, k);
                if (d < best) {
                    best = d;
                    nearest = k;
                }
            }
            return "unknown property -D" + name
                    + (nearest != null
                            ? "; did you mean -D" + nearest + "?"
                            : "; charrnn reads " + String.join(", ", all));
        }
        return null;
    }

    /** The Levenshtein distance of {@code a} and {@code b}: single-character edits from one to the other. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++)
                cur[j] = Math.min(
                        Math.min(cur[j - 1] + 1, prev[j] + 1),
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The knobs set now, by name. */
    public static SortedMap<String, String> current() {
        SortedMap<String, String> m = new TreeMap<>();
        for (String k : KNOBS) {
            String v = System.getProperty(k);
            if (v != null) m.put(k, v);
        }
        return Collections.unmodifiableSortedMap(m);
    }

    /** " layerPipeline=off pipelineChunk=5" (names without the prefix, in name order), or "" for none. */
    public static String label(Map<String, String> knobs) {
        StringBuilder s = new StringBuilder();
        for (Map.Entry<String, String> e : new TreeMap<>(knobs).entrySet()) {
            String k = e.getKey();
            s.append(' ')
                    .append(k.startsWith(PREFIX) ? k.substring(PREFIX.length()) : k)
                    .append('=')
                    .append(e.getValue());
        }
        return s.toString();
    }
}
