package org.charrnn.backend.cuda;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Consumer;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * The choice between the persistent passes of an LSTM, GRU or RNN (kernels/cuda/persistent_*.cu:
 * one cooperative launch per layer for all T steps, forward and backward, each block's slice of
 * W_hh in dynamic shared memory) and the stepwise ones, and the launches themselves. At most one
 * block of {@link Kernels#BLOCK} threads per multiprocessor, U >= ceil(H / SMs) hidden units each
 * (per batch size, {@link PersistentChoice}), so every block is resident at once as a cooperative
 * launch requires; a block's slice is the G = Gh / H gate
 * rows of each of its units (4 LSTM, 3 GRU, 1 RNN), G U H floats, next to an h (or dgates) tile and
 * the products ({@link PersistentPlan}). The products multiply what the run's GEMMs multiply
 * ({@link Gemm#arithmetic}): fp32, or W_hh and the right-hand side rounded to TF32 or bf16 (then
 * the slice is stored as bf16, half the bytes), on tensor cores from compute capability 8.0 ({@link
 * ProductArithmetic}). What does not depend on the batch is decided once per
 * backend; the rest once per batch size B and pass, on its first window: {@link RnnKernel#AUTO}
 * runs a pass persistent where the block fits and {@link RnnCostModel} predicts it faster, and
 * says so in one log line with both estimates.
 */
final class PersistentRnn {
    static final int DEFAULT_SHARED = 48 << 10; // per block without cuFuncSetAttribute

    /** Why auto cannot compare the two paths on a device that reports no clock rate. */
    static final String NO_CLOCK = "auto: the device reports no clock rate for the cost model";

    private final PersistentLaunches launches; // null where no pass can run persistent
    private final PersistentPairs pairs; // null where no two layers run as one wavefront
    private final PersistentPairs.Wavefront wavefront; // its knob
    private final Consumer<String> log;
    private final RnnKernel kernel;
    private final CellType cell;
    private final int gates, hidden, units; // units: the fewest U, ceil(H / SMs); 0 where no pass can run persistent
    private final int sms;
    private final PersistentKnobs knobs;
    private final ProductArithmetic arithmetic; // what the products compute: the kernels' prec argument
    private final int limit; // shared memory a block may use
    private final RnnCostModel.Device model; // null without a clock rate
    private final String why; // why no pass runs persistent; null when some may
    private final Map<Integer, PersistentChoice> choices = new LinkedHashMap<>();
    private final Map<Integer, PersistentChoice> pairChoices = new LinkedHashMap<>(); // null values: no pair

    /**
     * Decides what it can for arithmetic {@code p} (the GEMMs'); {@link RnnKernel#PERSISTENT} that
     * cannot run is a {@link UserError} saying why.
     */
    PersistentRnn(
            Kernels kernels,
            CUstream stream,
            CUdevice device,
            ModelConfig config,
            Precision p,
            RnnKernel k,
            Consumer<String> log) {
        this.log = log;
        this.kernel = k;
        this.cell = config.cell();
        int H = config.hidden();
        PersistentLimits.Numbers numbers = PersistentLimits.Numbers.of(device);
        this.sms = numbers.sms();
        this.limit = numbers.limit();
        RnnRates rates = RnnRates.fromProperty(); // read on every device, so a bad file is an error everywhere
        this.wavefront = PersistentPairs.wanted(); // likewise a bad value
        String mismatch = rates.mismatch(sms);
        if (mismatch != null && k != RnnKernel.STEPWISE) log.accept(mismatch);
        this.model = numbers.model(rates);
        int u = RnnCostModel.units(H, sms);
        this.knobs = PersistentKnobs.fromProperties(u);
        this.gates = RnnKernel.hasPersistent(cell) ? cell.recurrentGates() : 0;
        this.hidden = H;
        this.arithmetic = ProductArithmetic.of(
                p,
                ProductArithmetic.tensorCores(
                        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)));
        long slice = (long) arithmetic.elemBytes * gates * u * H;
        String no = null;
        if (!RnnKernel.hasPersistent(cell))
            no = "only the lstm, gru and rnn cells have a persistent kernel, not " + cell.id();
        else if (attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) == 0)
            no = "the device does not support cooperative launches";
        else if (slice > limit)
            no = "a slice of W_hh (" + gates + " rows x " + u + " units x " + H + ", " + (slice >> 10)
                    + " KiB) exceeds the " + (limit >> 10) + " KiB of shared memory per block";
        if (k == RnnKernel.PERSISTENT && no != null)
            throw UserError.naming("{BackendOptions.rnnKernel} persistent: " + no);
        if (k == RnnKernel.AUTO && no == null && model == null) no = NO_CLOCK;
        this.why = k == RnnKernel.STEPWISE ? "" : no;
        boolean possible = why == null;
        this.units = possible ? u : 0;
        boolean clusters =
                possible && attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) >= 9;
        if (k == RnnKernel.PERSISTENT && knobs.layout().equals("cluster") && !clusters)
            throw new UserError(
                    PersistentKnobs.LAYOUT_PROPERTY + "=cluster needs a device of compute capability 9.0 or newer");
        this.launches = possible
                ? new PersistentLaunches(
                        kernels,
                        stream,
                        cell,
                        gates,
                        arithmetic,
                        clusters,
                        limit,
                        limit > DEFAULT_SHARED,
                        knobs.registers())
                : null;
        this.pairs = possible && cell == CellType.RNN
                ? PersistentPairs.open(
                        wavefront,
                        kernels,
                        stream,
                        arithmetic,
                        clusters,
                        limit,
                        limit > DEFAULT_SHARED,
                        knobs.registers())
                : null;
    }

    /**
     * The choice at batch B where two stacked layers run as one wavefront ({@link PersistentPairs}):
     * both passes in the cluster layout with the exchange, the pair kernels' blocks fit, and the
     * wavefront knob says so (auto: {@link PairCostModel} predicts it faster, logged once per B);
     * else null.
     */
    PersistentChoice pairChoice(int B) {
        if (pairs == null) return null;
        if (pairChoices.containsKey(B)) return pairChoices.get(B);
        PersistentChoice c = choice(B);
        boolean can =
                PairCostModel.candidate(c) && pairs.fits(c.units(), hidden, (B + c.clusters() - 1) / c.clusters());
        PairCostModel.Estimate e =
                can && model != null ? PairCostModel.of(model, hidden, B, arithmetic, c.clusters()) : null;
        if (can && wavefront == PersistentPairs.Wavefront.AUTO)
            log.accept("rnn layers at batch size " + B + ": "
                    + (e == null ? "one layer a launch (" + NO_CLOCK + ")" : e.describe() + " (cost model)"));
        PersistentChoice pair = can && PairCostModel.runs(wavefront, e) ? c : null;
        pairChoices.put(B, pair);
        return pair;
    }

    /** The pair kernels, where {@link #pairChoice} is not null. */
    PersistentPairs pairs() {
        return pairs;
    }

    /** Whether the cluster layout may run: the device has clusters and the layout knob is not grid. */
    private boolean clusterLayout() {
        return launches.hasClusters() && !knobs.layout().equals("grid");
    }

    /**
     * What runs at batch B, where the persistent kernels can run at all: forced persistent runs both
     * passes (a {@link UserError} where the block does not fit at this B); auto each pass by {@link
     * PersistentChoice#decide}, logged once per B.
     */
    private PersistentChoice choice(int B) {
        PersistentChoice c = choices.get(B);
        if (c != null) return c;
        if (kernel == RnnKernel.PERSISTENT) {
            int cl = forcedClusters(B);
            int u = cl > 0 ? RnnCostModel.clusterUnits(hidden) : forcedUnits(B);
            int g = cl > 0 ? 1 : forcedGroups(B, u), parts = cl > 0 ? cl : g;
            long bytes = PersistentPlan.sharedBytes(gates, u, hidden, (B + parts - 1) / parts, arithmetic);
            if (bytes > limit)
                throw UserError.naming(
                        "{BackendOptions.rnnKernel} persistent: at batch size " + B + " a block needs " + (bytes >> 10)
                                + " KiB of shared memory (its W_hh slice, an h tile and the products), more than the "
                                + (limit >> 10) + " KiB per block");
            c = new PersistentChoice(true, true, cl == 0 && forcedRows(B, u, g), u, g, cl, Exchange.NONE, "");
            if (cl == 0) requireResident(c, B);
            if (model != null) { // what the model predicts, to set beside what the forced kernels take
                log.accept(PersistentChoice.forcedLine(model, cell, hidden, B, arithmetic, u, g, cl));
            }
        } else {
            c = PersistentChoice.decide(model, cell, hidden, B, arithmetic, clusterLayout());
            if (c.backward() && c.clusters() == 0 && knobs.rows() != null)
                c = PersistentChoice.grid(
                        c.forward(),
                        true,
                        rowsFit(B, c.units(), c.groups()) && knobs.rows(),
                        c.units(),
                        c.groups(),
                        c.line());
            log.accept(c.line());
        }
        if (c.clusters() > 0) c = clustered(c, B);
        choices.put(B, c);
        return c;
    }

    /**
     * A cluster-layout choice c at batch B with its backward kernel, row-stationary (LSTM, GRU:
     * {@link ClusterRowsPlan}) where its block fits and {@link PersistentKnobs#BACKWARD_PROPERTY}
     * says rows, else the cost model predicts it faster, else (no clock rate) wherever it fits; and
     * the passes that exchange ({@link #exchange}; a row-stationary backward has no exchange).
     */
    private PersistentChoice clustered(PersistentChoice c, int B) {
        int cl = c.clusters(), pb = (B + cl - 1) / cl;
        boolean fits = launches.hasRows()
                && ClusterRowsPlan.of(gates, c.units(), hidden, pb, arithmetic).bytes() <= limit;
        boolean rows = c.backward()
                && fits
                && (knobs.rows() != null
                        ? knobs.rows()
                        : model == null
                                || RnnCostModel.backwardCluster(model, cell, hidden, B, arithmetic, cl)
                                        .rows());
        Exchange x = exchange(
                B, cl, model == null ? null : PersistentChoice.forcedExchange(model, cell, hidden, B, arithmetic, cl));
        return new PersistentChoice(
                c.forward(),
                c.backward(),
                rows,
                c.units(),
                cl,
                new Exchange(c.forward() && x.forward(), c.backward() && !rows && x.backward()),
                c.line());
    }

    /**
     * Forced persistent's backward kernel at batch B with u units a block in {@code groups} batch
     * groups: the row-stationary one (LSTM, GRU) where its block fits and, on a device with a clock
     * rate, the cost model predicts it faster than the column-stationary one; without a clock rate
     * wherever it fits (it moves 2 / G of the bytes); {@link PersistentKnobs#BACKWARD_PROPERTY}
     * overrides that.
     */
    private boolean forcedRows(int B, int u, int groups) {
        if (!rowsFit(B, u, groups)) return false;
        if (knobs.rows() != null) return knobs.rows();
        return model == null
                || RnnCostModel.backward(
                                model.withBlocks((hidden + u - 1) / u).withGroups(groups), cell, hidden, B, arithmetic)
                        .rows();
    }

    /**
     * Forced persistent's units per block at batch B: {@link #UNITS_PROPERTY}'s; else, on a device
     * with a clock rate, the cost model's ({@link PersistentChoice#forcedUnits}); else the fewest.
     */
    private int forcedUnits(int B) {
        if (knobs.units() > 0) return Math.min(knobs.units(), hidden); // one block for all of H at most
        return model == null
                ? units
                : RnnCostModel.units(
                        hidden,
                        PersistentChoice.forcedGrid(model, cell, hidden, B, arithmetic, 0)
                                .maxBlocks());
    }

    /**
     * A forced grid-layout choice c at batch B: a {@link UserError} naming the knobs where its G
     * ceil(H / U) blocks are more than the device holds at once ({@link
     * PersistentLaunches#residentBlocks}), before a cooperative launch the driver would refuse.
     */
    private void requireResident(PersistentChoice c, int B) {
        int g = c.groups(), u = c.units();
        long blocks = (long) g * ((hidden + u - 1) / u), resident = launches.residentBlocks(c, hidden, B, sms);
        if (blocks > resident)
            throw UserError.naming("{BackendOptions.rnnKernel} persistent: at batch size " + B + ", " + g
                    + " batch groups of " + blocks / g + " blocks (" + PersistentKnobs.GROUPS_PROPERTY + ", "
                    + PersistentKnobs.UNITS_PROPERTY + ") are " + blocks + " blocks, more than the " + resident
                    + " the device holds at once, as a cooperative launch needs");
    }

    /**
     * Forced persistent's batch groups at batch B with u units a block: {@link
     * PersistentKnobs#GROUPS_PROPERTY}'s (fewer where some group would own no rows); else, on a
     * device with a clock rate, the cost model's ({@link PersistentChoice#forcedGrid}); else one.
     */
    private int forcedGroups(int B, int u) {
        if (knobs.groups() > 0) return RnnCostModel.clustersOf(knobs.groups(), B);
        return model == null
                ? 1
                : PersistentChoice.forcedGrid(model, cell, hidden, B, arithmetic, u)
                        .groupsAt(B);
    }

    /**
     * Forced persistent's clusters at batch B (0: the grid layout): the layout knob's; else, on a
     * device with clusters and a clock rate and without the grid layout's units, groups or backward knob,
     * the cost model's ({@link PersistentChoice#forcedClusters}); else the grid layout.
     */
    private int forcedClusters(int B) {
        if (!launches.hasClusters() || knobs.layout().equals("grid")) return 0;
        if (knobs.layout().equals("cluster"))
            return knobs.clusters() > 0
                    ? RnnCostModel.clustersOf(knobs.clusters(), B)
                    : model != null ? RnnCostModel.clusters(model, B) : RnnCostModel.clusters(sms, B);
        if (model == null || knobs.units() > 0 || knobs.groups() > 0 || knobs.rows() != null)
            return 0; // the grid layout's knobs
        int u = forcedUnits(B);
        return PersistentChoice.forcedClusters(
                model,
                cell,
                hidden,
                B,
                arithmetic,
                model.withBlocks((hidden + u - 1) / u).withGroups(forcedGroups(B, u)));
    }

    /**
     * The passes that exchange in the cluster layout's C clusters at batch B ({@link Exchange}): per
     * {@link PersistentKnobs#EXCHANGE_PROPERTY}, none (off), the model's {@code modelled} (auto with a
     * clock rate), or every pass whose plan is one k-tile (on; auto without a clock rate), of those
     * whose block with two x buffers fits.
     */
    private Exchange exchange(int B, int clusters, Exchange modelled) {
        if (knobs.exchange().equals("off")) return Exchange.NONE;
        if (knobs.exchange().equals("auto") && modelled != null) return modelled;
        int u = RnnCostModel.clusterUnits(hidden), pb = (B + clusters - 1) / clusters;
        boolean f = PersistentPlan.forward(gates, u, hidden, pb, arithmetic).exchangeable()
                && PersistentPlan.sharedBytes(gates, u, hidden, pb, arithmetic, new Exchange(true, false)) <= limit;
        boolean b = PersistentPlan.backward(gates, u, hidden, pb, arithmetic).exchangeable()
                && PersistentPlan.sharedBytes(gates, u, hidden, pb, arithmetic, new Exchange(false, true)) <= limit;
        return new Exchange(f, b);
    }

    /** Whether the cell has a row-stationary backward and its block of u units fits at batch B in that many groups. */
    private boolean rowsFit(int B, int u, int groups) {
        return launches.hasRows() && rowsPlan(B, u, groups).bytes() <= limit;
    }

    /** The row-stationary backward's plan at batch B, u units a block: one of its groups' ceil(B / groups) rows. */
    private RowsPlan rowsPlan(int B, int u, int groups) {
        return RowsPlan.of(gates, u, hidden, (B + groups - 1) / groups, arithmetic);
    }

    static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, attribute, device);
        return v[0];
    }

    /** True when the forward pass of a window of batch size B runs as one persistent launch per layer. */
    boolean forwardPersistent(int B) {
        return units > 0 && choice(B).forward();
    }

    /** True when the backward pass of a window of batch size B runs as one persistent launch per layer. */
    boolean backwardPersistent(int B) {
        return units > 0 && choice(B).backward();
    }

    /** True when the backward pass at batch size B runs persistent in the cluster layout (which leaves SMs idle). */
    boolean backwardInClusters(int B) {
        return backwardPersistent(B) && choice(B).clusters() > 0;
    }

    /**
     * Bytes of the exchange buffer (RowsPlan.exchangeFloats) the persistent backward of batch size
     * B needs, 0 where it runs the column-stationary kernel or stepwise: the caller passes such a
     * buffer (scratch; kept for later windows) to {@link #lstmBackward} and {@link #gruBackward}.
     */
    long exchangeBytes(int B) {
        if (!backwardPersistent(B) || !choice(B).rows() || choice(B).clusters() > 0) return 0;
        PersistentChoice c = choice(B);
        return RowsPlan.exchangeBytes(gates, c.units(), hidden, B, c.groups(), arithmetic);
    }

    /**
     * "rnn persistent (...)", "rnn stepwise (why)" or "rnn auto (...)" with what auto chose so far,
     * for the device line of bench rows and logs.
     */
    String description() {
        String d = passes();
        return pairs != null && pairs.ran() ? d + ", layers two a launch as a wavefront" : d;
    }

    /** {@link #description} but for the wavefront. */
    private String passes() {
        if (why != null) return "rnn stepwise" + (why.isEmpty() ? "" : " (" + why + ")");
        if (kernel == RnnKernel.PERSISTENT) {
            PersistentChoice first =
                    choices.isEmpty() ? null : choices.values().iterator().next();
            int u = first == null ? forcedUnitsSoFar() : first.units();
            String blocks = first != null && first.clusters() > 0
                    ? PersistentChoice.layout(first.clusters(), u)
                            + first.exchange().describe()
                    : PersistentChoice.gridLayout(first == null ? 1 : first.groups(), hidden, u);
            return "rnn persistent (" + blocks
                    + (arithmetic == ProductArithmetic.FP32 ? "" : ", " + arithmetic.label + " products")
                    + backwards() + ")";
        }
        if (choices.isEmpty()) return "rnn auto (each pass by the cost model, " + model + ")";
        StringJoiner s = new StringJoiner("; ", "rnn auto (", ")");
        for (Map.Entry<Integer, PersistentChoice> e : choices.entrySet())
            s.add("B " + e.getKey() + ": forward " + (e.getValue().forward() ? "persistent" : "stepwise")
                    + ", backward " + (e.getValue().backward() ? "persistent" : "stepwise")
                    + (e.getValue().rows() ? " (rows)" : "")
                    + (e.getValue().clusters() > 0
                            ? ", " + e.getValue().clusters() + " clusters"
                                    + e.getValue().exchange().describe()
                            : (e.getValue().units() == units
                                            ? ""
                                            : ", " + e.getValue().units() + " units a block")
                                    + (e.getValue().groups() > 1
                                            ? ", " + e.getValue().groups() + " batch groups"
                                            : "")));
        return s.toString();
    }

    /** The units per block a forced run uses before its first window: the property's, or the fewest. */
    private int forcedUnitsSoFar() {
        return knobs.units() > 0 ? Math.min(knobs.units(), hidden) : units;
    }

    /**
     * ", backward rows at B 50" for each batch size run so far (forced persistent), with its units
     * per block where they differ from the first batch size's.
     */
    private String backwards() {
        StringBuilder b = new StringBuilder();
        int first = choices.isEmpty() ? 0 : choices.values().iterator().next().units();
        for (Map.Entry<Integer, PersistentChoice> e : choices.entrySet())
            b.append(", backward ")
                    .append(e.getValue().rows() ? "rows" : e.getValue().clusters() > 0 ? "clusters" : "columns")
                    .append(" at B ")
                    .append(e.getKey())
                    .append(
                            e.getValue().units() == first
                                    ? ""
                                    : " (" + e.getValue().units() + " units a block)");
        return b.toString();
    }

    /** The launches, where some pass can run persistent (else null). */
    PersistentLaunches launches() {
        return launches;
    }

    /** What runs at batch B ({@link #choice}), where some pass can run persistent. */
    PersistentChoice choiceAt(int B) {
        return choice(B);
    }
}
