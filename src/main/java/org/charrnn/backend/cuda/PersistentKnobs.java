package org.charrnn.backend.cuda;

import org.charrnn.util.UserError;

/**
 * The developer's knobs of the persistent kernels, system properties read once per backend (for the
 * {@code charrnn} script: {@code JAVA_OPTS}), to compare the kernels on a device; unset, the cost
 * model picks. A bad value is a one-line {@link UserError}.
 *
 * @param rows {@link #BACKWARD_PROPERTY}: the LSTM's and GRU's persistent backward kernel in either
 *     layout, row-stationary (TRUE) or column-stationary (FALSE); null for the model's pick
 * @param units {@link #UNITS_PROPERTY}: units per block of a forced grid-layout run; 0 unset
 * @param groups {@link #GROUPS_PROPERTY}: batch groups of a forced grid-layout run; 0 unset
 * @param layout {@link #LAYOUT_PROPERTY}: "auto", "grid" or "cluster"
 * @param clusters {@link #CLUSTERS_PROPERTY}: clusters of a forced cluster-layout run; 0 unset
 * @param exchange {@link #EXCHANGE_PROPERTY}: "auto", "on" or "off"
 * @param registers {@link #REGISTERS_PROPERTY}: false where "off"
 */
record PersistentKnobs(
        Boolean rows, int units, int groups, String layout, int clusters, String exchange, boolean registers) {
    /** {@code -Dcharrnn.persistent.backward=rows|columns|auto}. */
    static final String BACKWARD_PROPERTY = "charrnn.persistent.backward";

    /** {@code -Dcharrnn.persistent.units=U}: at least ceil(H / SMs). */
    static final String UNITS_PROPERTY = "charrnn.persistent.units";

    /**
     * {@code -Dcharrnn.persistent.groups=G}: the batch groups of a forced grid-layout run
     * (persistent_layout.cuh; at most B, none without rows); G ceil(H / U) blocks must be resident
     * at once, or the driver refuses the cooperative launch.
     */
    static final String GROUPS_PROPERTY = "charrnn.persistent.groups";

    /**
     * {@code -Dcharrnn.persistent.layout=auto|grid|cluster}: the layout of a forced persistent run
     * (persistent_layout.cuh); {@code grid} also keeps auto from the cluster layout.
     */
    static final String LAYOUT_PROPERTY = "charrnn.persistent.layout";

    /**
     * {@code -Dcharrnn.persistent.clusters=C}: the clusters of a forced cluster-layout run (at most
     * B, none without rows); unset, one per {@link Kernels#CLUSTER} SMs.
     */
    static final String CLUSTERS_PROPERTY = "charrnn.persistent.clusters";

    /**
     * {@code -Dcharrnn.persistent.exchange=auto|on|off}: the cluster layout's exchange through
     * distributed shared memory ({@link Exchange}) in every pass that can take it (on), in none
     * (off), or where the cost model predicts it faster (auto; on without a clock rate).
     */
    static final String EXCHANGE_PROPERTY = "charrnn.persistent.exchange";

    /**
     * {@code -Dcharrnn.persistent.registers=auto|off}: the product keeps each thread's part of the
     * W_hh slice (the tensor-core plan's fragments, the FMA plan's rows) in its registers where the
     * plan allows ({@link PersistentPlan#resident}; auto), or reads it from shared memory every step
     * (off, {@code CR_PREC_SHARED_A}). The results are the same bit for bit; the cost model follows
     * the knob.
     */
    static final String REGISTERS_PROPERTY = "charrnn.persistent.registers";

    /** CR_PREC_SHARED_A, or'ed into the kernels' prec where {@link #registers} is off. */
    static final int SHARED_A_BIT = 16;

    /** {@link #REGISTERS_PROPERTY} as set: true for auto (the default), false for off. */
    static boolean registersAllowed() {
        String v = System.getProperty(REGISTERS_PROPERTY, "auto");
        return switch (v) {
            case "auto" -> true;
            case "off" -> false;
            default -> throw new UserError(REGISTERS_PROPERTY + " must be auto or off, not '" + v + "'");
        };
    }

    /** The knobs as set, with {@code fewest} = ceil(H / SMs) the least units a block may have. */
    static PersistentKnobs fromProperties(int fewest) {
        Boolean rows = switch (System.getProperty(BACKWARD_PROPERTY, "auto")) {
            case "auto" -> null;
            case "rows" -> Boolean.TRUE;
            case "columns" -> Boolean.FALSE;
            default ->
                throw new UserError(BACKWARD_PROPERTY + " must be auto, rows or columns, not '"
                        + System.getProperty(BACKWARD_PROPERTY) + "'");
        };
        String layout = System.getProperty(LAYOUT_PROPERTY, "auto");
        if (!layout.equals("auto") && !layout.equals("grid") && !layout.equals("cluster"))
            throw new UserError(LAYOUT_PROPERTY + " must be auto, grid or cluster, not '" + layout + "'");
        String exchange = System.getProperty(EXCHANGE_PROPERTY, "auto");
        if (!exchange.equals("auto") && !exchange.equals("on") && !exchange.equals("off"))
            throw new UserError(EXCHANGE_PROPERTY + " must be auto, on or off, not '" + exchange + "'");
        return new PersistentKnobs(
                rows,
                wholeNumber(UNITS_PROPERTY, fewest, " (one block per SM at most)"),
                wholeNumber(GROUPS_PROPERTY, 1, ""),
                layout,
                wholeNumber(CLUSTERS_PROPERTY, 1, ""),
                exchange,
                registersAllowed());
    }

    /** A whole-number property, 0 unset; a {@link UserError} below {@code fewest} or not a number. */
    private static int wholeNumber(String property, int fewest, String why) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) return 0;
        int u;
        try {
            u = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            u = -1;
        }
        if (u < Math.max(1, fewest))
            throw new UserError(property + " must be a whole number of at least " + Math.max(1, fewest) + why
                    + ", not '" + v + "'");
        return u;
    }
}
