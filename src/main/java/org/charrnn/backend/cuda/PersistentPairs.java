package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.Kernels.arg;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.util.UserError;

/**
 * Two stacked tanh-RNN layers as one wavefront (kernels/cuda/persistent_rnn_pair.cu): at tick i
 * the lower layer a runs step i and the upper layer b step i - 1, in one cluster-layout launch a
 * pass, so a window takes T + 1 cluster barriers for the two layers instead of 2 T, and layer b's
 * input projection (forward) and layer a's gradient from above (backward) run inside the
 * recurrence instead of as GEMMs between the layers. Runs where the window's choice runs both
 * passes in the cluster layout with the exchange ({@link PairCostModel#candidate}), every plan of
 * the pair kernels is one k-tile and fits the block ({@link #fits}), and {@link #PROPERTY} says so
 * ({@link PairCostModel#runs}); the host's copy of persistent_pair_fits and
 * persistent_pair_shared_bytes.
 */
final class PersistentPairs {
    /**
     * {@code -Dcharrnn.persistent.wavefront=auto|on|off}: stacked RNN layers two at a time as a
     * wavefront where they can run so and {@link PairCostModel} predicts it faster (auto, the
     * default), wherever they can (on), or one layer a launch (off).
     */
    static final String PROPERTY = "charrnn.persistent.wavefront";

    /** {@link #PROPERTY}'s values. */
    enum Wavefront {
        AUTO,
        ON,
        OFF
    }

    private final CUfunction forward, backward;
    private final CUstream stream;
    private final ProductArithmetic arithmetic;
    private final long forwardLimit, backwardLimit; // dynamic shared memory a block of each may use
    private final int sharedA; // PersistentKnobs.SHARED_A_BIT where the knob keeps slices out of registers
    private boolean ran; // some window ran a pair

    private PersistentPairs(
            Kernels kernels, CUstream stream, ProductArithmetic a, int limit, boolean raise, int sharedA) {
        this.stream = stream;
        this.arithmetic = a;
        this.sharedA = sharedA;
        this.forward = kernels.fn("persistent_rnn_pair_forward_cluster");
        this.backward = kernels.fn("persistent_rnn_pair_backward_cluster");
        // the backward's two plans are static shared memory: the dynamic gets what they leave
        this.forwardLimit = limit - staticBytes(forward);
        this.backwardLimit = limit - staticBytes(backward);
        if (raise) {
            setLimit(forward, forwardLimit);
            setLimit(backward, backwardLimit);
        }
    }

    /** {@link #PROPERTY} as set (auto where unset); another value is a {@link UserError}. */
    static Wavefront wanted() {
        String v = System.getProperty(PROPERTY, "auto");
        return switch (v) {
            case "auto" -> Wavefront.AUTO;
            case "on" -> Wavefront.ON;
            case "off" -> Wavefront.OFF;
            default -> throw new UserError(PROPERTY + " must be auto, on or off, not '" + v + "'");
        };
    }

    /** The pair kernels, where {@code wanted} ({@link #wanted}) is not off and the device runs clusters; else null. */
    static PersistentPairs open(
            Wavefront wanted,
            Kernels kernels,
            CUstream stream,
            ProductArithmetic a,
            boolean clusters,
            int limit,
            boolean raise,
            boolean registers) {
        return wanted != Wavefront.OFF && clusters
                ? new PersistentPairs(kernels, stream, a, limit, raise, registers ? 0 : PersistentKnobs.SHARED_A_BIT)
                : null;
    }

    private static long staticBytes(CUfunction f) {
        int[] v = new int[1];
        JCudaDriver.cuFuncGetAttribute(v, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f);
        return v[0];
    }

    private static void setLimit(CUfunction f, long bytes) {
        JCudaDriver.cuFuncSetAttribute(
                f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int) bytes);
    }

    /**
     * The forward's plan (cr_pair_forward_plan): 2U rows of K = 2H, the first U (layer a's) zero
     * past K = H, which the product skips where it can ({@link ProductClocks#of(RnnRates,
     * PersistentPlan, int, int)} with U and H). The pair's plans read x in the vector layout.
     */
    static PersistentPlan forwardPlan(int units, int hidden, int batch, ProductArithmetic a) {
        return PersistentPlan.of(2 * units, 2 * hidden, batch, a, true);
    }

    /**
     * The backward's plan b (2U rows of K = H) and plan a (U rows), one after the other in shared
     * memory; plan a resident beside plan b where both {@link PersistentPlan#halfFits} ({@link
     * #backwardResidentA}).
     */
    static PersistentPlan[] backwardPlans(int units, int hidden, int batch, ProductArithmetic a) {
        return new PersistentPlan[] {
            PersistentPlan.of(2 * units, hidden, batch, a, true), PersistentPlan.of(units, hidden, batch, a, true)
        };
    }

    /**
     * cr_pair_backward_plan_a's resident: plan a keeps its slice in the upper half of a thread's
     * registers where both backward plans' parts fit in half of them (and the knob allows registers).
     */
    static boolean backwardResidentA(PersistentPlan[] plans) {
        return PersistentKnobs.registersAllowed() && plans[0].halfFits() && plans[1].halfFits();
    }

    /** persistent_pair_fits: every plan takes its right-hand side through the exchange (one k-tile). */
    static boolean exchangeable(int units, int hidden, int batch, ProductArithmetic a) {
        PersistentPlan[] b = backwardPlans(units, hidden, batch, a);
        return forwardPlan(units, hidden, batch, a).exchangeable() && b[0].exchangeable() && b[1].exchangeable();
    }

    /** Dynamic shared memory of the forward (persistent_pair_shared_bytes counts the larger of the two). */
    static long forwardBytes(int units, int hidden, int batch, ProductArithmetic a) {
        return forwardPlan(units, hidden, batch, a).bytes(true);
    }

    /** Dynamic shared memory of the backward: its two plans' regions. */
    static long backwardBytes(int units, int hidden, int batch, ProductArithmetic a) {
        PersistentPlan[] b = backwardPlans(units, hidden, batch, a);
        return b[0].bytes(true) + b[1].bytes(true);
    }

    /** Whether the pair kernels run at U units a block, H and a cluster's {@code batch} rows on this device. */
    boolean fits(int units, int hidden, int batch) {
        return exchangeable(units, hidden, batch, arithmetic)
                && Math.max(
                                forwardBytes(units, hidden, batch, arithmetic),
                                backwardBytes(units, hidden, batch, arithmetic))
                        <= Math.min(forwardLimit, backwardLimit);
    }

    /**
     * Layers a and b's forward over the window (persistent_rnn_pair_forward_cluster) in choice c's
     * clusters: gx [T,B,H] layer a's input projection, or the token table [V,H] that tokens (int32
     * [T,B]; {@link Kernels#NONE}: none) index; hsA, hsB [T+1,B,H] with the initial states in slot 0,
     * slots 1..T written (=).
     */
    void forward(
            PersistentChoice c,
            Pointer gx,
            Pointer tokens,
            Pointer whhA,
            Pointer wihB,
            Pointer whhB,
            Pointer bihA,
            Pointer bhhA,
            Pointer bihB,
            Pointer bhhB,
            Pointer hsA,
            Pointer hsB,
            int T,
            int B,
            int H) {
        long s1 = 4L * B * H;
        int rows = (B + c.clusters() - 1) / c.clusters();
        launch(
                forward,
                c,
                forwardBytes(c.units(), H, rows, arithmetic),
                Pointer.to(
                        arg(gx),
                        arg(tokens),
                        arg(whhA),
                        arg(wihB),
                        arg(whhB),
                        arg(bihA),
                        arg(bhhA),
                        arg(bihB),
                        arg(bhhB),
                        arg(hsA),
                        arg(hsB),
                        arg(hsA.withByteOffset(s1)),
                        arg(hsB.withByteOffset(s1)),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(c.units()),
                        arg(prec())));
    }

    /**
     * BPTT through layers a and b (persistent_rnn_pair_backward_cluster): dhOutB [T,B,H] from above
     * layer b; dhNextA, dhNextB [B,H] in: from beyond the window, out: dL/dh_{-1}; hsA, hsB [T+1,B,H]
     * as the forward wrote them; dgA, dgB [T,B,H] (=) each layer's dgates.
     */
    void backward(
            PersistentChoice c,
            Pointer dhOutB,
            Pointer dhNextA,
            Pointer dhNextB,
            Pointer hsA,
            Pointer hsB,
            Pointer whhA,
            Pointer wihB,
            Pointer whhB,
            Pointer dgA,
            Pointer dgB,
            int T,
            int B,
            int H) {
        long s1 = 4L * B * H;
        int rows = (B + c.clusters() - 1) / c.clusters();
        launch(
                backward,
                c,
                backwardBytes(c.units(), H, rows, arithmetic),
                Pointer.to(
                        arg(dhOutB),
                        arg(dhNextA),
                        arg(dhNextB),
                        arg(hsA.withByteOffset(s1)),
                        arg(hsB.withByteOffset(s1)),
                        arg(whhA),
                        arg(wihB),
                        arg(whhB),
                        arg(dgA),
                        arg(dgB),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(c.units()),
                        arg(prec())));
    }

    /** The arithmetic's code with the exchange, which both kernels require. */
    private int prec() {
        return arithmetic.code | Exchange.BIT | sharedA;
    }

    /** Whether some window ran two layers as one launch, for the device line. */
    boolean ran() {
        return ran;
    }

    private void launch(CUfunction f, PersistentChoice c, long sharedBytes, Pointer args) {
        ran = true;
        JCudaDriver.cuLaunchKernel(
                f, c.clusters() * Kernels.CLUSTER, 1, 1, Kernels.BLOCK, 1, 1, (int) sharedBytes, stream, args, null);
    }
}
