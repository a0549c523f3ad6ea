package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.Kernels.arg;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.model.CellType;

/**
 * One cell's persistent kernels (kernels/cuda/persistent_*.cu) and their launches in the layout a
 * {@link PersistentChoice} names (persistent_layout.cuh): the grid layout's cooperative launch of
 * G batch groups of ceil(H / U) blocks, or the cluster layout's ordinary launch of C clusters of {@link
 * Kernels#CLUSTER} blocks; {@link PersistentRnn} decides which and passes the kernels' arguments.
 */
final class PersistentLaunches {
    private final CUfunction forward, backward, backwardRows; // backwardRows: null for the RNN
    private final CUfunction forwardCluster, backwardCluster; // null where the device runs no clusters
    private final CUfunction backwardClusterRows; // null without clusters, and for the RNN
    private final CUstream stream;
    private final int gates;
    private final ProductArithmetic arithmetic;
    private final boolean registers; // PersistentKnobs.registers: the resident plan where it applies

    /**
     * The kernels of {@code cell} (G = {@code gates} rows a unit), the cluster ones where {@code
     * clusters} (compute capability 9.0 and newer), each allowed {@code limit} bytes of dynamic
     * shared memory where that is more than the default; without {@code registers} every launch
     * reads its part of W_hh from shared memory ({@link PersistentKnobs#SHARED_A_BIT}).
     */
    PersistentLaunches(
            Kernels kernels,
            CUstream stream,
            CellType cell,
            int gates,
            ProductArithmetic a,
            boolean clusters,
            int limit,
            boolean raiseLimit,
            boolean registers) {
        this.stream = stream;
        this.registers = registers;
        this.gates = gates;
        this.arithmetic = a;
        String name = "persistent_" + cell.id();
        this.forward = kernels.fn(name + "_forward");
        this.backward = kernels.fn(name + "_backward");
        this.backwardRows = RnnCostModel.hasRows(cell) ? kernels.fn(name + "_backward_rows") : null;
        this.forwardCluster = clusters ? clusterFn(kernels, name + "_forward_cluster") : null;
        this.backwardCluster = clusters ? clusterFn(kernels, name + "_backward_cluster") : null;
        this.backwardClusterRows =
                clusters && backwardRows != null ? clusterFn(kernels, name + "_backward_cluster_rows") : null;
        if (raiseLimit)
            for (CUfunction f : new CUfunction[] {
                forward, backward, backwardRows, forwardCluster, backwardCluster, backwardClusterRows
            })
                if (f != null)
                    JCudaDriver.cuFuncSetAttribute(
                            f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, limit);
    }

    /** A cluster kernel, whose compiled cluster size must be the {@link Kernels#CLUSTER} the host plans with. */
    private static CUfunction clusterFn(Kernels kernels, String name) {
        CUfunction f = kernels.fn(name);
        int[] width = new int[1];
        JCudaDriver.cuFuncGetAttribute(width, CUfunction_attribute.CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH, f);
        if (width[0] != Kernels.CLUSTER)
            throw new IllegalStateException(
                    name + " was compiled for clusters of " + width[0] + " blocks, not " + Kernels.CLUSTER);
        return f;
    }

    /** A grid-layout launch: its blocks and each one's dynamic shared memory. */
    record Grid(int blocks, long sharedBytes) {}

    /**
     * The grid layout's launch of choice c's forward and column-stationary backward for a cell of G =
     * {@code gates} rows a unit: c.groups() batch groups of ceil(H / U) blocks, the shared memory of
     * one group's ceil(B / groups) rows.
     */
    static Grid grid(PersistentChoice c, int gates, int H, int B, ProductArithmetic a) {
        int g = c.groups(), u = c.units();
        return new Grid(g * ((H + u - 1) / u), PersistentPlan.sharedBytes(gates, u, H, (B + g - 1) / g, a));
    }

    /**
     * The grid layout's launch of choice c's row-stationary backward ({@link RowsPlan}) for a cell
     * of G = {@code gates} rows a unit: c.groups() batch groups of ceil(H / U) blocks, the shared
     * memory of one group's ceil(B / groups) rows.
     */
    static Grid rowsGrid(PersistentChoice c, int gates, int H, int B, ProductArithmetic a) {
        int g = c.groups(), u = c.units();
        return new Grid(
                g * ((H + u - 1) / u),
                RowsPlan.of(gates, u, H, (B + g - 1) / g, a).bytes());
    }

    /**
     * The grid layout's blocks of choice c (forward and backward persistent) that a device of {@code
     * sms} multiprocessors holds at once, which a cooperative launch needs for all of its blocks: of
     * the two passes' kernels at their shared memory, the fewest a multiprocessor holds
     * (cuOccupancyMaxActiveBlocksPerMultiprocessor), times sms.
     */
    long residentBlocks(PersistentChoice c, int H, int B, int sms) {
        Grid f = grid(c, gates, H, B, arithmetic);
        Grid b = c.rows() ? rowsGrid(c, gates, H, B, arithmetic) : f;
        return (long) sms
                * Math.min(
                        perMultiprocessor(forward, f.sharedBytes()),
                        perMultiprocessor(c.rows() ? backwardRows : backward, b.sharedBytes()));
    }

    private static int perMultiprocessor(CUfunction f, long sharedBytes) {
        int[] n = new int[1];
        JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(n, f, Kernels.BLOCK, sharedBytes);
        return n[0];
    }

    /** Whether the cell has a row-stationary backward kernel (the LSTM and GRU). */
    boolean hasRows() {
        return backwardRows != null;
    }

    /** Whether the cluster layout's kernels may run (the device has clusters). */
    boolean hasClusters() {
        return forwardCluster != null;
    }

    /**
     * A pass's column-stationary (backward) or only (forward) kernel at hidden size H and batch B in
     * choice c's layout, {@code before} the arguments ahead of T, B, H, U and prec (the arithmetic's
     * code, with {@link Exchange#BIT} where c's cluster layout exchanges in this pass): grid, G ceil(H /
     * U) blocks of {@link Kernels#BLOCK} threads (G = c.groups()), cooperative, the shared memory of
     * ceil(B / G) rows; cluster, C
     * clusters of {@link Kernels#CLUSTER} blocks, the shared memory of ceil(B / C) rows; a backward
     * with c.rows() in clusters is the row-stationary cluster kernel ({@link ClusterRowsPlan}).
     */
    void pass(boolean forwardPass, PersistentChoice c, int H, int B, NativePointerObject[] before, int T) {
        int u = c.units();
        Pointer args = Pointer.to(withTail(before, null, c, forwardPass, T, B, H));
        if (c.clusters() == 0) {
            Grid grid = grid(c, gates, H, B, arithmetic);
            cooperative(forwardPass ? forward : backward, grid.blocks(), grid.sharedBytes(), args);
            return;
        }
        int rows = (B + c.clusters() - 1) / c.clusters();
        boolean rowStationary = !forwardPass && c.rows(); // persistent_cluster_rows.cuh
        JCudaDriver.cuLaunchKernel(
                forwardPass ? forwardCluster : rowStationary ? backwardClusterRows : backwardCluster,
                c.clusters() * Kernels.CLUSTER,
                1,
                1,
                Kernels.BLOCK,
                1,
                1,
                (int)
                        (rowStationary
                                ? ClusterRowsPlan.of(gates, u, H, rows, arithmetic)
                                        .bytes()
                                : PersistentPlan.sharedBytes(gates, u, H, rows, arithmetic, c.exchange())),
                stream,
                args,
                null);
    }

    /**
     * A backward launch in choice c's kernel: {@code before} the arguments ahead of T, B, H, U and
     * the arithmetic; the grid layout's row-stationary kernel ({@link #rowsGrid}) with {@code part}
     * (its exchange, {@link RowsPlan#exchangeFloats} of c.groups()) inserted before T, or with
     * {@code part} null {@link #pass}'s.
     */
    void backward(PersistentChoice c, Pointer part, int H, int B, NativePointerObject[] before, int T) {
        if (part == null) pass(false, c, H, B, before, T);
        else {
            Grid grid = rowsGrid(c, gates, H, B, arithmetic);
            cooperative(
                    backwardRows,
                    grid.blocks(),
                    grid.sharedBytes(),
                    Pointer.to(withTail(before, part, c, false, T, B, H)));
        }
    }

    /** {@code before}, then {@code part} where not null, then T, B, H, U and the pass's prec. */
    private NativePointerObject[] withTail(
            NativePointerObject[] before, Pointer part, PersistentChoice c, boolean forwardPass, int T, int B, int H) {
        NativePointerObject[] tail = {
            arg(T),
            arg(B),
            arg(H),
            arg(c.units()),
            arg(c.exchange().prec(forwardPass, arithmetic) | (registers ? 0 : PersistentKnobs.SHARED_A_BIT))
        };
        NativePointerObject[] all = new NativePointerObject[before.length + (part == null ? 0 : 1) + tail.length];
        System.arraycopy(before, 0, all, 0, before.length);
        if (part != null) all[before.length] = arg(part);
        System.arraycopy(tail, 0, all, all.length - tail.length, tail.length);
        return all;
    }

    /** {@code blocks} blocks of {@link Kernels#BLOCK} threads, cooperative, {@code sharedBytes} of dynamic shared memory each. */
    private void cooperative(CUfunction f, int blocks, long sharedBytes, Pointer args) {
        JCudaDriver.cuLaunchCooperativeKernel(f, blocks, 1, 1, Kernels.BLOCK, 1, 1, (int) sharedBytes, stream, args);
    }
}
