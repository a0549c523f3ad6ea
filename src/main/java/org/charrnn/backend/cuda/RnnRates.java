package org.charrnn.backend.cuda;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.charrnn.util.UserError;

/**
 * The device rates {@link RnnCostModel} prices a persistent layer-step with: the ones
 * bench/results/persistent-cost-model-2026-12-02.md assumes ({@link #ASSUMED}), or the ones
 * native-test/probe_rates measured on a GPU, read from its JSON line with {@code
 * -Dcharrnn.persistent.rates=FILE} ({@link #PROPERTY}; bench/gpu-check.sh writes the file in its
 * {@code rates} step).
 *
 * @param gridBarrierUs one grid.sync() over one 256-thread block per SM, µs
 * @param tileClocks one k-tile staged from L2 into shared memory between its two block barriers, clocks
 * @param l2BytesPerUs what all blocks together stage from the same L2-resident words, bytes per µs
 * @param mmaLatency clocks from one mma.sync to the next that accumulates into the same tile
 * @param mmaFmasTf32 TF32 tensor-core FMAs per SM and clock through mma.sync (m16n8k8)
 * @param mmaFmasBf16 bf16 tensor-core FMAs per SM and clock through mma.sync (m16n8k16)
 * @param clusterBarrierUs one cluster barrier of the cluster layout (clusters of {@link Kernels#CLUSTER}
 *     blocks, sm_90), µs
 * @param residentClusters how many such clusters of one block per SM the device holds at once; 0
 *     unknown (the model then takes one per {@link Kernels#CLUSTER} SMs)
 * @param dsmemBytesPerUs what one SM stores into the shared memory of the other blocks of its
 *     cluster (distributed shared memory, the cluster layout's exchange), bytes per µs
 * @param source "assumed", or "measured on DEVICE" for {@link RnnCostModel.Device#toString}
 * @param sms the multiprocessors of the device they were measured on; 0 for {@link #ASSUMED}
 * @param stepwiseUs the stepwise path's floor per layer-step, a recurrent GEMM and a cell kernel
 *     back to back in a graph: {@link RnnCostModel#STEPWISE_LAUNCHES_US}, or where the file has
 *     {@code charrnn bench --probe}'s floors the measured gemm_us + kernel_us, so that auto weighs
 *     persistent against what stepwise costs on the device
 */
record RnnRates(
        double gridBarrierUs,
        double tileClocks,
        double l2BytesPerUs,
        double mmaLatency,
        double mmaFmasTf32,
        double mmaFmasBf16,
        double clusterBarrierUs,
        int residentClusters,
        double dsmemBytesPerUs,
        String source,
        int sms,
        double stepwiseUs) {
    /** The fields of a probe_rates line the model needs (the cluster layout's may be absent). */
    private static final String[] REQUIRED = {
        "grid_barrier_us", "tile_clocks", "l2_bytes_per_us", "mma_latency", "mma_fmas_tf32", "mma_fmas_bf16"
    };

    /** The system property naming a probe_rates JSON file; unset, the model uses {@link #ASSUMED}. */
    static final String PROPERTY = "charrnn.persistent.rates";

    /** {@link #ASSUMED}'s distributed shared memory rate per SM, bytes per µs (3.3 TB/s over 132 SMs). */
    static final double DSMEM_ASSUMED = 3.3e6 / 132;

    /**
     * The doc's rates: a grid barrier 1-2 µs (the middle); a k-tile's L2 latency with no double
     * buffering and two block barriers, 600 clocks; L2 to the SMs about 5.5 TB/s (a common
     * microbenchmark figure); mma.sync at half of an H100's dense tensor rate (947 TF32 FMAs per SM
     * and clock, reached with wgmma) with 32 clocks of latency; bf16 twice TF32; a cluster barrier
     * a third of the grid barrier (the hardware barrier of one GPC against a grid-wide one through
     * global memory), and clusters resident one per 8 SMs; distributed shared memory at the 3.3 TB/s
     * over 132 SMs a published Hopper microbenchmark measured between the SMs of clusters (less than
     * an SM's share of L2: the exchange saves a round trip's latency, not bandwidth).
     */
    static final RnnRates ASSUMED = new RnnRates(
            1.5, 600, 5.5e6, 32, 512, 1024, 0.5, 0, DSMEM_ASSUMED, "assumed", 0, RnnCostModel.STEPWISE_LAUNCHES_US);

    RnnRates {
        double[] all = {
            stepwiseUs,
            gridBarrierUs,
            tileClocks,
            l2BytesPerUs,
            mmaLatency,
            mmaFmasTf32,
            mmaFmasBf16,
            clusterBarrierUs,
            dsmemBytesPerUs
        };
        for (double v : all)
            if (!(v > 0) || Double.isInfinite(v))
                throw new IllegalArgumentException("rates must be positive and finite: " + Arrays.toString(all));
        if (residentClusters < 0)
            throw new IllegalArgumentException("resident clusters must not be negative: " + residentClusters);
    }

    /** The rates without the cluster layout's and the stepwise floor: those {@link #ASSUMED}. */
    RnnRates(
            double gridBarrierUs,
            double tileClocks,
            double l2BytesPerUs,
            double mmaLatency,
            double mmaFmasTf32,
            double mmaFmasBf16,
            String source,
            int sms) {
        this(
                gridBarrierUs,
                tileClocks,
                l2BytesPerUs,
                mmaLatency,
                mmaFmasTf32,
                mmaFmasBf16,
                0.5,
                0,
                DSMEM_ASSUMED,
                source,
                sms,
                RnnCostModel.STEPWISE_LAUNCHES_US);
    }

    /**
     * Why these rates may not fit a device of {@code deviceSms} multiprocessors (measured on one
     * with a different count: the barrier and L2's total scale with it), or null.
     */
    String mismatch(int deviceSms) {
        if (sms == 0 || sms == deviceSms) return null;
        return String.format(
                Locale.ROOT,
                "%s: the rates were measured on %d SMs, this device has %d: the cost model may misjudge",
                PROPERTY,
                sms,
                deviceSms);
    }

    /** These rates with the stepwise floor {@code us} measured (a {@link UserError} naming the file where it is not positive). */
    private RnnRates withStepwise(double us, Path file) {
        try {
            return new RnnRates(
                    gridBarrierUs,
                    tileClocks,
                    l2BytesPerUs,
                    mmaLatency,
                    mmaFmasTf32,
                    mmaFmasBf16,
                    clusterBarrierUs,
                    residentClusters,
                    dsmemBytesPerUs,
                    source,
                    sms,
                    us);
        } catch (IllegalArgumentException e) {
            throw new UserError(PROPERTY + ": " + file + " is not a probe_rates line: " + e.getMessage(), e);
        }
    }

    /** Tensor-core FMAs per SM and clock for elements of {@code elemBytes} (2: bf16, else TF32). */
    double mmaFmas(int elemBytes) {
        return elemBytes == 2 ? mmaFmasBf16 : mmaFmasTf32;
    }

    /** {@link #ASSUMED}, or the file {@link #PROPERTY} names (a {@link UserError} if it cannot be read). */
    static RnnRates fromProperty() {
        String file = System.getProperty(PROPERTY);
        return file == null || file.isBlank() ? ASSUMED : read(Path.of(file));
    }

    /**
     * The rates of a probe_rates JSON line; a {@link UserError} naming the file and what is wrong. The
     * cluster layout's three (written where the probe ran on sm_90 or newer) may be absent: then {@link
     * #ASSUMED}'s; a file with none of probe_rates' fields (only {@code charrnn bench --probe}'s) gives
     * {@link #ASSUMED}'s rates with its stepwise floor.
     */
    static RnnRates read(Path file) {
        JsonObject o = readObject(file);
        double stepwise = o.has("gemm_us") && o.has("kernel_us")
                ? number(o, file, "gemm_us") + number(o, file, "kernel_us")
                : RnnCostModel.STEPWISE_LAUNCHES_US;
        if (Arrays.stream(REQUIRED).noneMatch(o::has)) { // the step rates' fields alone
            return stepwise == ASSUMED.stepwiseUs ? ASSUMED : ASSUMED.withStepwise(stepwise, file);
        }
        try {
            String device = device(o);
            return new RnnRates(
                    number(o, "grid_barrier_us"),
                    number(o, "tile_clocks"),
                    number(o, "l2_bytes_per_us"),
                    number(o, "mma_latency"),
                    number(o, "mma_fmas_tf32"),
                    number(o, "mma_fmas_bf16"),
                    o.has("cluster_barrier_us") ? number(o, "cluster_barrier_us") : ASSUMED.clusterBarrierUs,
                    o.has("resident_clusters") ? (int) number(o, "resident_clusters") : ASSUMED.residentClusters,
                    o.has("dsmem_bytes_per_us") ? number(o, "dsmem_bytes_per_us") : ASSUMED.dsmemBytesPerUs,
                    "measured on " + device,
                    o.has("sms") ? (int) number(o, "sms") : 0,
                    stepwise);
        } catch (JsonParseException
                | IllegalStateException
                | UnsupportedOperationException
                | IllegalArgumentException e) {
            throw new UserError(PROPERTY + ": " + file + " is not a probe_rates line: " + e.getMessage(), e);
        }
    }

    /** The rates file's JSON object; a {@link UserError} naming the file where it cannot be read or is none. */
    static JsonObject readObject(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError(PROPERTY + ": cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) throw new JsonParseException("not a JSON object");
            return e.getAsJsonObject();
        } catch (JsonSyntaxException e) {
            throw new UserError(PROPERTY + ": " + file + " is not a probe_rates line: not valid JSON", e);
        } catch (JsonParseException e) {
            throw new UserError(PROPERTY + ": " + file + " is not a probe_rates line: " + e.getMessage(), e);
        }
    }

    /** The device a rates file names ("device", where it is a string), else "a GPU". */
    static String device(JsonObject o) {
        JsonElement d = o.get("device");
        return d != null && d.isJsonPrimitive() && d.getAsJsonPrimitive().isString() ? d.getAsString() : "a GPU";
    }

    /** The number {@code key} of the rates file's object; a {@link UserError} naming the file where it is none. */
    static double number(JsonObject o, Path file, String key) {
        try {
            return number(o, key);
        } catch (JsonParseException e) {
            throw new UserError(PROPERTY + ": " + file + " is not a probe_rates line: " + e.getMessage(), e);
        }
    }

    private static double number(JsonObject o, String key) {
        JsonElement v = o.get(key);
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber())
            throw new JsonParseException("no number " + key);
        return v.getAsDouble();
    }

    @Override
    public String toString() {
        String resident = residentClusters > 0 ? ", " + residentClusters + " clusters resident" : "";
        String floor = stepwiseUs == RnnCostModel.STEPWISE_LAUNCHES_US
                ? ""
                : String.format(Locale.ROOT, ", stepwise floor %.2f µs", stepwiseUs);
        return String.format(
                Locale.ROOT,
                "rates %s: grid barrier %.2f µs, k-tile %.0f clocks, L2 %.2f TB/s, mma %.0f clocks, %.0f/%.0f FMAs per SM-clock, cluster barrier %.2f µs, DSMEM %.0f GB/s per SM%s%s",
                source,
                gridBarrierUs,
                tileClocks,
                l2BytesPerUs / 1e6,
                mmaLatency,
                mmaFmasTf32,
                mmaFmasBf16,
                clusterBarrierUs,
                dsmemBytesPerUs / 1e3,
                resident,
                floor);
    }
}
