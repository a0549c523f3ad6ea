package org.charrnn.bench;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

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

    private Knobs() {}

    /** Whether the code reads {@code property}: a knob, or one of {@link #WHERE}. */
    public static boolean known(String property) {
        return KNOBS.contains(property) || WHERE.contains(property);
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
