package org.charrnn.backend.cuda;

import java.util.Locale;
import java.util.Objects;
import java.util.stream.IntStream;
import org.charrnn.model.CellType;

/**
 * Microseconds per layer and timestep of the persistent kernels (kernels/cuda/persistent_*.cu, the
 * staged product of persistent_common.cuh) and of the stepwise path (a recurrent GEMM and a cell
 * kernel per timestep), from the device's multiprocessor count and clock, for one pass of one cell
 * at hidden size H and batch B. {@code --rnn-kernel auto} runs each pass persistent where the block
 * fits in shared memory and this model predicts it faster. The rates and latencies below are the
 * ones of bench/results/persistent-cost-model-2026-12-02.md, which derives them and lists what a
 * GPU run must confirm; {@link RnnRates} holds the ones a probe can measure (assumed, or measured
 * by native-test/probe_rates), this class the rest and the arithmetic.
 *
 * <p>Persistent, per step: one block per SM with U = ceil(H / SMs) units, in G batch groups of P =
 * ceil(H / U) blocks (G P <= SMs; {@link Device#withGroups}), plan {@link PersistentPlan} (R rows of
 * K against a group's B' = ceil(B / G) rows). compute = max(FMAs RP BP K / {@link #FMA_LANES},
 * shared-memory loads, the instructions at {@link #ISSUE_SLOTS} a clock, and the dependent chain of
 * one thread: {@link ProductClocks}); + the right-hand side every block reads from L2, G P 4 B' K bytes at {@link
 * RnnRates#l2BytesPerUs}; + {@link RnnRates#tileClocks} per k-tile; + one {@link RnnRates#gridBarrierUs}; + the
 * cell operands' loads where they outlast the product ({@link #CELL_LOAD_CLOCKS}). Stepwise,
 * per step: {@link RnnRates#stepwiseUs} ({@link #STEPWISE_LAUNCHES_US} unless measured) + the recurrent
 * GEMM's 2 G B H^2 FLOPs at the fp32 peak; where {@code charrnn bench --probe} timed that GEMM's
 * shape, the cell kernel's floor + its measured time instead ({@link RnnRates.Stepwise}).
 * Both paths move the same gx, gates and state bytes, so those cancel and are left out. With the
 * products on tensor cores (TF32, bf16 from sm_80) the compute term is the mma plan's ({@link
 * ProductClocks}) and stepwise's GEMM runs at the same tensor-core rate.
 */
final class RnnCostModel {
    /** fp32 FMA lanes per SM and clock (132 SMs x 128 x 2 FLOP x 1.98 GHz = 67 TFLOP/s). */
    static final int FMA_LANES = 128;
    /** Clocks from one FMA to the next that depends on it. */
    static final int FMA_LATENCY = 4;
    /**
     * Warp instructions an SM issues a clock: one from each of its 4 schedulers, whose 32 FMA lanes
     * each take one warp's FFMA a clock, so a load or any other instruction beside the FFMAs takes
     * one of their slots (there is no dual issue); FMA products count their FFMAs and shared loads.
     */
    static final int ISSUE_SLOTS = 4;
    /**
     * The stepwise path's floor per layer-step: a GEMM and a cell kernel, back to back in a CUDA
     * graph; the low end of the 5-8 µs of issue #16, so persistent has to beat stepwise's best case.
     */
    static final double STEPWISE_LAUNCHES_US = 5.0;
    /**
     * Clocks of a step's cell operands in global memory (the input projection and biases forward;
     * dh_out, the saved gates and states backward): loads issued together, one L2 hit (as {@link
     * StepCostModel.Rates#l2LatencyClocks}). The persistent kernels load them before the product
     * that precedes their cell phase (cr_ahead_load; backward: the next step's, before this step's
     * product or scatter), so only what outlasts that product shows; in the cluster layout they
     * load between the two halves of the barrier before that product (cr_forward_steps, the
     * backward's loop; the row-stationary backward before its scatter and barrier), so only what
     * outlasts the barrier and the product shows. Layer 0's forward by token reads a pair's id and
     * then its row of the table, two hits in a chain; priced as one, since at every persistent row
     * of the bench grids (fp32 and TF32) twice these clocks still hide beside the barrier and product.
     */
    static final int CELL_LOAD_CLOCKS = 270;

    /**
     * The device numbers the model reads: multiprocessors, clock, shared memory a block may use, the
     * rates of its L2, grid barrier and tensor cores, how many blocks a persistent launch's group of
     * every unit may use (one per SM: at most {@code sms}; fewer blocks have more units each), and
     * the grid layout's batch groups of such blocks (persistent_layout.cuh: each group its own rows
     * of the batch; at most one block per SM in all).
     */
    record Device(int sms, double clockGhz, int sharedBytes, RnnRates rates, int maxBlocks, int groups) {
        Device {
            if (sms < 1
                    || !(clockGhz > 0)
                    || sharedBytes < 1
                    || maxBlocks < 1
                    || groups < 1
                    || (long) maxBlocks * groups > sms)
                throw new IllegalArgumentException("device numbers must be positive: " + sms + " SMs, " + clockGhz
                        + " GHz, " + sharedBytes + " bytes, " + groups + " groups of " + maxBlocks
                        + " blocks (at most one per SM)");
            Objects.requireNonNull(rates, "rates");
        }

        /** A device whose persistent launches may use {@code maxBlocks} blocks in one group of every row. */
        Device(int sms, double clockGhz, int sharedBytes, RnnRates rates, int maxBlocks) {
            this(sms, clockGhz, sharedBytes, rates, maxBlocks, 1);
        }

        /** A device whose persistent launches may use every SM. */
        Device(int sms, double clockGhz, int sharedBytes, RnnRates rates) {
            this(sms, clockGhz, sharedBytes, rates, sms);
        }

        /** A device at the {@link RnnRates#ASSUMED} rates. */
        Device(int sms, double clockGhz, int sharedBytes) {
            this(sms, clockGhz, sharedBytes, RnnRates.ASSUMED);
        }

        /** An H200 SXM (and H100 SXM): 132 SMs at 1.98 GHz, 227 KiB of shared memory per block. */
        static Device h200() {
            return new Device(132, 1.98, 227 << 10);
        }

        /**
         * The device with persistent launches of at most {@code p} blocks: one on each of p SMs (U =
         * ceil(H / p) units each), the rates unchanged (L2's total is the SMs' to share, and a third
         * of them already draw more than it); stepwise still has every SM.
         */
        Device withBlocks(int p) {
            return new Device(sms, clockGhz, sharedBytes, rates, Math.min(p, sms));
        }

        /**
         * This device's blocks in {@code g} batch groups of the grid layout (every pass: each block
         * stages, or exchanges, only its group's rows of the batch); at most one block per SM in all.
         */
        Device withGroups(int g) {
            return new Device(sms, clockGhz, sharedBytes, rates, maxBlocks, g);
        }

        /** The groups a launch at batch B runs: {@link #groups}, fewer where some would own no rows. */
        int groupsAt(int batch) {
            return clustersOf(groups, batch);
        }

        double clocksPerUs() {
            return clockGhz * 1e3;
        }

        @Override
        public String toString() {
            String d = String.format(Locale.ROOT, "%d SMs at %.2f GHz, %d KiB", sms, clockGhz, sharedBytes >> 10);
            return rates == RnnRates.ASSUMED ? d : d + ", " + rates;
        }
    }

    /**
     * One pass's two estimates per layer-step, whether the persistent block fits at all, for a
     * backward pass whether the persistent one is the row-stationary kernel ({@link RowsPlan}), the
     * clusters of the cluster layout (0: the grid layout) and whether the pass there takes the
     * exchange through distributed shared memory ({@link Exchange}).
     */
    record Estimate(
            double persistentUs, double stepwiseUs, boolean fits, boolean rows, int clusters, boolean exchange) {
        Estimate(double persistentUs, double stepwiseUs, boolean fits, boolean rows) {
            this(persistentUs, stepwiseUs, fits, rows, 0, false);
        }

        /** Persistent where it fits and is predicted faster. */
        boolean persistent() {
            return fits && persistentUs < stepwiseUs;
        }

        /** "persistent 4.3 µs vs stepwise 5.4 µs" (the chosen one first), or why it cannot run. */
        String describe() {
            if (!fits) return "stepwise: the block does not fit in shared memory";
            String p = String.format(Locale.ROOT, "%.1f µs", persistentUs)
                    + (rows && clusters > 0
                            ? " (clusters, rows)"
                            : rows
                                    ? " (rows)"
                                    : exchange ? " (clusters, exchange)" : clusters > 0 ? " (clusters)" : "");
            String s = String.format(Locale.ROOT, "%.1f µs", stepwiseUs);
            return persistent() ? "persistent " + p + " vs stepwise " + s : "stepwise " + s + " vs persistent " + p;
        }
    }

    private RnnCostModel() {}

    /** Hidden units per block: one block per SM. */
    static int units(int hidden, int sms) {
        return (hidden + sms - 1) / sms;
    }

    /**
     * The block counts a persistent launch of hidden size H may use on {@code sms} SMs, most first:
     * every distinct ceil(H / U) for U from the fewest units per block, ceil(H / SMs), to 4 times
     * that (fewer, larger blocks: less of h_{t-1} read through L2, more compute each).
     */
    static int[] blockCounts(int hidden, int sms) {
        int u0 = units(hidden, sms);
        return IntStream.rangeClosed(u0, 4 * u0)
                .map(u -> (hidden + u - 1) / u)
                .distinct()
                .toArray();
    }

    /** The forward pass (h_{t-1} W_hh^T and the cell) of one fp32 layer-step. */
    static Estimate forward(Device d, CellType cell, int hidden, int batch) {
        return forward(d, cell, hidden, batch, ProductArithmetic.FP32);
    }

    /**
     * The forward pass of one layer-step whose products compute in arithmetic {@code a} (bf16: the
     * block fits at a larger H; tensor cores: the mma plan at {@link RnnRates#mmaFmas}, and stepwise's
     * GEMM at the same tensor-core rate).
     */
    static Estimate forward(Device d, CellType cell, int hidden, int batch, ProductArithmetic a) {
        int g = cell.recurrentGates(), u = units(hidden, d.maxBlocks());
        return estimate(d, g, hidden, batch, PersistentPlan.forward(g, u, hidden, groupRows(d, batch), a), true);
    }

    /** The rows of the batch each of device d's batch groups owns: ceil(B / G). */
    static int groupRows(Device d, int batch) {
        int groups = d.groupsAt(batch);
        return (batch + groups - 1) / groups;
    }

    /** The backward pass (the cell's backward and dgates W_hh) of one fp32 layer-step. */
    static Estimate backward(Device d, CellType cell, int hidden, int batch) {
        return backward(d, cell, hidden, batch, ProductArithmetic.FP32);
    }

    /**
     * As {@link #backward(Device, CellType, int, int)} with products in arithmetic {@code a}: of the
     * LSTM's and GRU's two persistent backward kernels the one that fits and is predicted faster
     * (the column-stationary where neither fits); the RNN has the column-stationary only.
     */
    static Estimate backward(Device d, CellType cell, int hidden, int batch, ProductArithmetic a) {
        Estimate columns = backwardColumns(d, cell, hidden, batch, a);
        if (!hasRows(cell)) return columns;
        Estimate rows = backwardRows(d, cell, hidden, batch, a);
        if (!rows.fits()) return columns;
        return !columns.fits() || rows.persistentUs() < columns.persistentUs() ? rows : columns;
    }

    /** The column-stationary backward (persistent_{lstm,gru,rnn}_backward): every block reads all of dgates[t]. */
    static Estimate backwardColumns(Device d, CellType cell, int hidden, int batch, ProductArithmetic a) {
        int g = cell.recurrentGates(), u = units(hidden, d.maxBlocks());
        return estimate(d, g, hidden, batch, PersistentPlan.backward(g, u, hidden, groupRows(d, batch), a), false);
    }

    /** Whether the cell has a row-stationary backward: the LSTM and the GRU (the RNN's would move more bytes). */
    static boolean hasRows(CellType cell) {
        return cell.recurrentGates() > 1;
    }

    /**
     * The row-stationary backward (persistent_{lstm,gru}_backward_rows, {@link RowsPlan}) of one
     * layer-step in device d's batch groups, each a plan of PB = ceil(B / G) rows: compute = max(FMAs
     * R BP H / {@link #FMA_LANES}; shared loads: per item (a column, 4 rows b) and row one load of the
     * slice and one 16-byte broadcast of 4 dgates, plus the PB H shares the scatter stages and copies
     * out and the P PB U the gather stages and sums; the issue of a row's 4 FFMAs and 2 loads per
     * item at {@link #ISSUE_SLOTS}; one thread's chain of R FMAs per item); + the
     * shares through L2, G PB H P floats written and as many read; + {@link RnnRates#tileClocks} for
     * each tile of the scatter and of the gather (ND blocks' shares each, as the forward's k-tiles of
     * h); + one grid barrier. Its products are fp32 FMAs at every precision.
     */
    static Estimate backwardRows(Device d, CellType cell, int hidden, int batch, ProductArithmetic a) {
        int g = cell.recurrentGates(), u = units(hidden, d.maxBlocks()), rows = groupRows(d, batch);
        RowsPlan p = RowsPlan.of(g, u, hidden, rows, a);
        double cols = (double) p.blocks() * u, items = cols * (p.batchPad() / 4);
        double fma = (double) p.rows() * p.batchPad() * cols / FMA_LANES;
        double loads = items * p.rows() * 2 / 32 + 4.0 * rows * cols / 32;
        double issue = items * p.rows() * (4 + 2) / 32 / ISSUE_SLOTS; // a row's 4 FFMAs and 2 loads a warp
        double chain = Math.ceil(items / Kernels.BLOCK) * p.rows() * FMA_LATENCY;
        double compute = Math.max(Math.max(fma, issue), Math.max(loads, chain)) / d.clocksPerUs();
        RnnRates r = d.rates();
        double l2 = 2.0 * d.groupsAt(batch) * p.blocks() * 4 * rows * cols / r.l2BytesPerUs();
        double tiles = 2.0 * p.tiles() * r.tileClocks() / d.clocksPerUs();
        double persistent = compute + l2 + tiles + r.gridBarrierUs() + cellLoadUs(d, compute); // beside the scatter
        return new Estimate(persistent, stepwiseUs(d, g, hidden, batch, a, false), p.bytes() <= d.sharedBytes(), true);
    }

    /**
     * Clusters of {@link Kernels#CLUSTER} blocks the cluster layout runs at batch B: one block per SM
     * at most, no more than B, and no cluster without rows (C = ceil(B / ceil(B / C0))).
     */
    static int clusters(int sms, int batch) {
        return clustersOf(sms / Kernels.CLUSTER, batch);
    }

    /** As {@link #clusters(int, int)}, no more than the device holds at once where its rates say ({@link RnnRates#residentClusters}). */
    static int clusters(Device d, int batch) {
        int resident = d.rates().residentClusters();
        int most = d.sms() / Kernels.CLUSTER;
        return clustersOf(resident > 0 ? Math.min(resident, most) : most, batch);
    }

    /** At most {@code c0} clusters (at least one) over B rows with none of them empty: ceil(B / ceil(B / c0)). */
    static int clustersOf(int c0, int batch) {
        int c = Math.max(1, Math.min(c0, batch));
        int rows = (batch + c - 1) / c;
        return (batch + rows - 1) / rows;
    }

    /** Units per block of the cluster layout: H over the blocks of one cluster. */
    static int clusterUnits(int hidden) {
        return (hidden + Kernels.CLUSTER - 1) / Kernels.CLUSTER;
    }

    /**
     * The forward pass of one layer-step in the cluster layout (persistent_*_forward_cluster, sm_90):
     * C = {@link #clusters} clusters, each the rows [c PB, ...) of the batch, PB = ceil(B / C), its
     * {@link Kernels#CLUSTER} blocks {@link #clusterUnits} units each. The plan's compute for PB
     * rows; + the right-hand side each block reads from L2, C CLUSTER 4 PB K bytes; + the k-tiles;
     * + one {@link RnnRates#clusterBarrierUs}. Fits where the block fits (the device must be sm_90 or
     * newer with at least CLUSTER SMs: the caller's to know). With the exchange ({@link Exchange},
     * where the plan is one k-tile and the block with two x buffers fits) the L2 and k-tile terms
     * give way to the stores into the cluster's blocks: PB rows of the block's U units (backward G U
     * values) to CLUSTER blocks, 4 bytes each (2 at bf16 on tensor cores), the peers' at {@link
     * RnnRates#dsmemBytesPerUs} ({@link #exchangeUs}); the pass exchanges where that is predicted faster.
     */
    static Estimate forwardCluster(Device d, CellType cell, int hidden, int batch, ProductArithmetic a) {
        return forwardCluster(d, cell, hidden, batch, a, clusters(d, batch));
    }

    /** As {@link #forwardCluster(Device, CellType, int, int, ProductArithmetic)} with {@code c} clusters. */
    static Estimate forwardCluster(Device d, CellType cell, int hidden, int batch, ProductArithmetic a, int c) {
        int g = cell.recurrentGates(), pb = (batch + c - 1) / c;
        return clusterEstimate(
                d, g, hidden, batch, c, PersistentPlan.forward(g, clusterUnits(hidden), hidden, pb, a), true);
    }

    /** The backward of one layer-step in the cluster layout at {@link #clusters} clusters (below). */
    static Estimate backwardCluster(Device d, CellType cell, int hidden, int batch, ProductArithmetic a) {
        return backwardCluster(d, cell, hidden, batch, a, clusters(d, batch));
    }

    /**
     * As {@link #backwardCluster(Device, CellType, int, int, ProductArithmetic)} with {@code c}
     * clusters: the row-stationary kernel ({@link #backwardClusterRows}) where the cell has one, its
     * block fits and it is predicted faster, else the column-stationary one ({@link
     * #backwardClusterColumns}).
     */
    static Estimate backwardCluster(Device d, CellType cell, int hidden, int batch, ProductArithmetic a, int c) {
        Estimate columns = backwardClusterColumns(d, cell, hidden, batch, a, c);
        if (!hasRows(cell)) return columns;
        Estimate rows = backwardClusterRows(d, cell, hidden, batch, a, c);
        return rows.fits() && (!columns.fits() || rows.persistentUs() < columns.persistentUs()) ? rows : columns;
    }

    /** The column-stationary backward of one layer-step in C clusters, priced as {@link #forwardCluster}. */
    static Estimate backwardClusterColumns(Device d, CellType cell, int hidden, int batch, ProductArithmetic a, int c) {
        int g = cell.recurrentGates(), pb = (batch + c - 1) / c;
        return clusterEstimate(
                d, g, hidden, batch, c, PersistentPlan.backward(g, clusterUnits(hidden), hidden, pb, a), false);
    }

    /**
     * The row-stationary backward of one layer-step in C clusters (persistent_*_backward_cluster_rows,
     * {@link ClusterRowsPlan}): a block's scatter multiplies its G U rows into the cluster's CLUSTER U
     * columns for PB rows, on tensor cores (TF32) max(the mma at {@link RnnRates#mmaFmas}; 6 fragment
     * words a tile and k-step; a warp's chain of k-steps at {@link RnnRates#mmaLatency}, its tiles
     * {@link ClusterRowsPlan#MMA_TILES} at a time), else max(the FMAs over {@link #FMA_LANES}; two
     * shared loads a row and item, one where the column stays in registers ({@link
     * ClusterRowsPlan#resident}), 32 lanes a load; those loads and a row's 4 FFMAs at {@link
     * #ISSUE_SLOTS}; a thread's chain of R FMAs an item); + the shares
     * it stores into its cluster's blocks, PB U floats into each ({@link #clusterStoresUs}: the
     * peers' at {@link RnnRates#dsmemBytesPerUs}); + one {@link RnnRates#clusterBarrierUs}. Fits where
     * its block fits.
     */
    static Estimate backwardClusterRows(Device d, CellType cell, int hidden, int batch, ProductArithmetic a, int c) {
        int g = cell.recurrentGates(), pb = (batch + c - 1) / c;
        ClusterRowsPlan p = ClusterRowsPlan.of(g, clusterUnits(hidden), hidden, pb, a);
        RnnRates r = d.rates();
        double clocks;
        if (p.mma()) {
            int tiles = p.tiles(), steps = p.rowsPad() / 8;
            double fma = (double) tiles * steps * PersistentPlan.MMA_ROWS * PersistentPlan.MMA_BATCH * 8 / r.mmaFmas(4);
            boolean resident = p.resident() && PersistentKnobs.registersAllowed(); // A fragments in registers
            double loads = (double) tiles * steps * (resident ? 2 : 6);
            double perWarp = Math.ceil((double) tiles / PersistentPlan.WARPS);
            double chain = Math.ceil(perWarp / ClusterRowsPlan.MMA_TILES) * steps * r.mmaLatency();
            clocks = Math.max(fma, Math.max(loads, chain));
        } else {
            double items = (double) p.columns() * p.batchPad() / 4;
            double fma = (double) p.rows() * p.columns() * p.batchPad() / FMA_LANES;
            boolean resident = p.resident() && PersistentKnobs.registersAllowed(); // the column in registers
            double loads = items * p.rows() * (resident ? 1 : 2) / 32;
            double issue = items * p.rows() * (4 + (resident ? 1 : 2)) / 32 / ISSUE_SLOTS; // a row's FFMAs and loads
            double chain = Math.ceil(items / Kernels.BLOCK) * p.rows() * FMA_LATENCY;
            clocks = Math.max(Math.max(fma, issue), Math.max(loads, chain));
        }
        double stores = clusterStoresUs(d, (double) pb * p.columns() / Kernels.CLUSTER, 4);
        double scatter = clocks / d.clocksPerUs() + stores; // the next step's cell operands load beside it
        // the next step's cell operands load before the scatter, so beside it and the barrier after it
        double persistent = scatter + r.clusterBarrierUs() + cellLoadUs(d, scatter + r.clusterBarrierUs());
        boolean fits = d.sms() >= Kernels.CLUSTER && p.bytes() <= d.sharedBytes();
        return new Estimate(persistent, stepwiseUs(d, g, hidden, batch, a, false), fits, true, c, false);
    }

    private static Estimate clusterEstimate(
            Device d, int gates, int hidden, int batch, int c, PersistentPlan p, boolean forwardPass) {
        int u = clusterUnits(hidden);
        Exchange x = new Exchange(forwardPass, !forwardPass);
        boolean fits = d.sms() >= Kernels.CLUSTER
                && PersistentPlan.sharedBytes(gates, u, hidden, p.batch(), p.arithmetic()) <= d.sharedBytes();
        boolean canExchange = fits
                && p.exchangeable()
                && PersistentPlan.sharedBytes(gates, u, hidden, p.batch(), p.arithmetic(), x) <= d.sharedBytes();
        RnnRates r = d.rates();
        double compute = ProductClocks.of(r, p) / d.clocksPerUs();
        double l2 = (double) c * Kernels.CLUSTER * 4 * p.batch() * p.k() / r.l2BytesPerUs();
        double tiles = (double) p.tiles() * r.tileClocks() / d.clocksPerUs();
        double staged = l2 + tiles, exchanged = exchangeUs(d, p, u, hidden);
        boolean exchange = canExchange && exchanged < staged;
        // the cell's operands load beside the product and, without the exchange, its staging, and
        // beside the barrier, between its two halves (cr_forward_steps; the backward's loop)
        double loads = cellLoadUs(d, compute + (exchange ? 0 : staged) + r.clusterBarrierUs());
        double persistent = compute + (exchange ? exchanged : staged) + r.clusterBarrierUs() + loads;
        double stepwise = stepwiseUs(d, gates, hidden, batch, p.arithmetic(), forwardPass);
        return new Estimate(persistent, stepwise, fits, false, c, exchange);
    }

    /**
     * The exchange's stores of one block and step: PB rows of its values (U a row forward, the G U
     * of its units' gate rows backward: K U / H) to every block of its cluster, 4 bytes each, 2 where
     * the tensor cores read bf16 ({@link #clusterStoresUs}).
     */
    static double exchangeUs(Device d, PersistentPlan p, int units, int hidden) {
        int bytes = p.arithmetic().mma && p.arithmetic().elemBytes == 2 ? 2 : 4;
        return clusterStoresUs(d, (double) p.batch() * units * (p.k() / hidden), bytes);
    }

    /**
     * A block's stores of {@code values} values of {@code bytes} bytes each into every block of its
     * cluster (cr_cluster_dest): the {@link Kernels#CLUSTER} - 1 peers' copies through distributed
     * shared memory at {@link RnnRates#dsmemBytesPerUs}, its own a plain shared-memory store, a
     * warp's 32 values a clock (as the products' shared loads are counted).
     */
    static double clusterStoresUs(Device d, double values, int bytes) {
        return values * (Kernels.CLUSTER - 1) * bytes / d.rates().dsmemBytesPerUs() + values / 32 / d.clocksPerUs();
    }

    /** The cell operands' load time that shows: {@link #CELL_LOAD_CLOCKS} less what runs beside them. */
    static double cellLoadUs(Device d, double besideUs) {
        return Math.max(0, CELL_LOAD_CLOCKS / d.clocksPerUs() - besideUs);
    }

    /**
     * The grid layout's estimate of plan p, whose B is one batch group's rows (of the batch's {@code
     * batch}), of the forward pass or the backward.
     */
    private static Estimate estimate(
            Device d, int gates, int hidden, int batch, PersistentPlan p, boolean forwardPass) {
        int u = units(hidden, d.maxBlocks());
        int blocks = (hidden + u - 1) / u * d.groupsAt(batch), rows = p.batch();
        boolean fits = PersistentPlan.sharedBytes(gates, u, hidden, rows, p.arithmetic()) <= d.sharedBytes();
        RnnRates r = d.rates();
        double compute = ProductClocks.of(r, p) / d.clocksPerUs();
        double l2 = (double) blocks * 4 * rows * p.k() / r.l2BytesPerUs();
        double tiles = (double) p.tiles() * r.tileClocks() / d.clocksPerUs();
        double loads = cellLoadUs(d, compute + l2 + tiles); // beside the product and its staging
        double persistent = compute + l2 + tiles + r.gridBarrierUs() + loads;
        return new Estimate(persistent, stepwiseUs(d, gates, hidden, batch, p.arithmetic(), forwardPass), fits, false);
    }

    /**
     * Stepwise per layer-step of one pass ({@link RnnRates.Stepwise#us}): the cell kernel's floor +
     * the recurrent GEMM's time where {@code charrnn bench --probe} measured its shape ({@link
     * #stepwiseGemm}), else the launches' floor + its FLOPs at the peak of arithmetic a.
     */
    private static double stepwiseUs(
            Device d, int gates, int hidden, int batch, ProductArithmetic a, boolean forwardPass) {
        GemmShape gemm = stepwiseGemm(gates, hidden, batch, a, forwardPass);
        double perClock = a.mma ? 2.0 * d.rates().mmaFmas(a.elemBytes) : 2.0 * FMA_LANES;
        double peak = perClock * d.sms() * d.clocksPerUs(); // FLOPs per µs
        return d.rates().stepwise().us(gemm, gemm.flops() / peak);
    }

    /**
     * The stepwise path's recurrent GEMM of one layer-step, as DeviceCell issues it: forward gh
     * [B,G H] (=) h_{t-1} [B,H] W_hh^T, backward dh [B,H] (+=) dgates [B,G H] W_hh.
     */
    static GemmShape stepwiseGemm(int gates, int hidden, int batch, ProductArithmetic a, boolean forwardPass) {
        return forwardPass
                ? new GemmShape(a.precision(), false, true, batch, gates * hidden, hidden, false)
                : new GemmShape(a.precision(), false, false, batch, hidden, gates * hidden, true);
    }
}
