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
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.charrnn.util.IoErrors;
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
 * @param stepwise what the stepwise path costs per layer-step ({@link Stepwise}): assumed, or
 *     from {@code charrnn bench --probe}'s floors and GEMM shapes in the same file, so that auto
 *     weighs persistent against what stepwise costs on the device
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
        Stepwise stepwise) {
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
    static final RnnRates ASSUMED =
            new RnnRates(1.5, 600, 5.5e6, 32, 512, 1024, 0.5, 0, DSMEM_ASSUMED, "assumed", 0, Stepwise.ASSUMED);

    /**
     * What the stepwise path costs per layer-step (a recurrent GEMM and a cell kernel back to back in
     * a graph), as {@link RnnCostModel} weighs it against a persistent pass: where the rates file has
     * the step's recurrent GEMM among {@code charrnn bench --probe}'s {@code gemm_us_by_shape}, the
     * cell kernel's floor plus that GEMM's measured time; else the floor plus the GEMM's FLOPs at the
     * peak (stepwise's best case).
     *
     * @param floorUs a GEMM's and a cell kernel's floors: {@link RnnCostModel#STEPWISE_LAUNCHES_US},
     *     or the file's gemm_us + kernel_us
     * @param cellUs the cell kernel's floor: the file's kernel_us, else {@link #CELL_ASSUMED_US}
     * @param gemms µs of each GEMM shape the probe timed, as a node of a graph (none: every
     *     recurrent GEMM by the formula)
     */
    record Stepwise(double floorUs, double cellUs, Map<GemmShape, Double> gemms) {
        /** The cell kernel's floor the step cost model assumes (its kernelUs; the floor's GEMM the other 3 µs). */
        static final double CELL_ASSUMED_US = 2.0;

        static final Stepwise ASSUMED = new Stepwise(RnnCostModel.STEPWISE_LAUNCHES_US, CELL_ASSUMED_US, Map.of());

        Stepwise {
            if (!(floorUs > 0) || !(cellUs > 0) || Double.isInfinite(floorUs + cellUs))
                throw new IllegalArgumentException("a stepwise layer-step's floor (gemm_us + kernel_us) and its cell"
                        + " kernel's (kernel_us) must be positive and finite, not " + floorUs + " and " + cellUs
                        + " µs");
            gemms = Map.copyOf(gemms);
            for (var e : gemms.entrySet())
                if (!(e.getValue() > 0) || Double.isInfinite(e.getValue()))
                    throw new IllegalArgumentException("a GEMM's time must be positive and finite: "
                            + e.getKey().key() + " " + e.getValue());
        }

        /** A floor measured or assumed, the cell's share of it assumed, no GEMM measured. */
        Stepwise(double floorUs) {
            this(floorUs, Math.min(CELL_ASSUMED_US, floorUs), Map.of());
        }

        /**
         * A layer-step whose recurrent GEMM is {@code gemm} with {@code flops / peak} µs of
         * arithmetic at the peak: the cell's floor plus the GEMM's measured time, or the floor
         * plus that arithmetic where the probe did not time this shape.
         */
        double us(GemmShape gemm, double atPeakUs) {
            Double measured = gemms.get(gemm);
            return measured != null ? cellUs + measured : floorUs + atPeakUs;
        }

        /**
         * The stepwise part of a rates file: gemm_us + kernel_us where it has both, kernel_us, and
         * gemm_us_by_shape ({@link #gemmTimes}); a {@link UserError} naming the file where a value
         * is not a number or out of range.
         */
        static Stepwise of(JsonObject o, Path file) {
            double cell = o.has("kernel_us") ? number(o, file, "kernel_us") : CELL_ASSUMED_US;
            double floor = o.has("gemm_us") && o.has("kernel_us")
                    ? number(o, file, "gemm_us") + cell
                    : RnnCostModel.STEPWISE_LAUNCHES_US;
            Map<GemmShape, Double> gemms = gemmTimes(o, file);
            try {
                return new Stepwise(floor, cell, gemms);
            } catch (IllegalArgumentException e) {
                throw new UserError(PROPERTY + ": " + file + ": " + e.getMessage(), e);
            }
        }
    }

    RnnRates {
        Objects.requireNonNull(stepwise, "stepwise");
        double[] all = {
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
                Stepwise.ASSUMED);
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

    /** These rates with the stepwise path's costs {@code w}. */
    private RnnRates withStepwise(Stepwise w) {
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
                w);
    }

    /** The stepwise path's floor per layer-step: a GEMM's and a cell kernel's, back to back in a graph. */
    double stepwiseUs() {
        return stepwise.floorUs();
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
        Stepwise stepwise = Stepwise.of(o, file);
        if (Arrays.stream(REQUIRED).noneMatch(o::has)) { // the step rates' fields alone
            return stepwise.equals(ASSUMED.stepwise) ? ASSUMED : ASSUMED.withStepwise(stepwise);
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
                    o.has("resident_clusters") ? count(o, "resident_clusters") : ASSUMED.residentClusters,
                    o.has("dsmem_bytes_per_us") ? number(o, "dsmem_bytes_per_us") : ASSUMED.dsmemBytesPerUs,
                    "measured on " + device,
                    o.has("sms") ? count(o, "sms") : 0,
                    stepwise);
        } catch (JsonParseException
                | IllegalStateException
                | UnsupportedOperationException
                | IllegalArgumentException e) {
            throw new UserError(PROPERTY + ": " + file + " is not a probe_rates line: " + e.getMessage(), e);
        }
    }

    /**
     * The rates file's {@code gemm_us_by_shape} object as shapes and µs (none where it has no such
     * field); a {@link UserError} naming the file where it is not an object of shape keys and numbers.
     */
    static Map<GemmShape, Double> gemmTimes(JsonObject o, Path file) {
        String field = StepCostModel.Rates.GEMMS;
        if (!o.has(field)) return Map.of();
        if (!o.get(field).isJsonObject())
            throw new UserError(PROPERTY + ": " + file + ": " + field + " is not an object of GEMM shapes");
        Map<GemmShape, Double> m = new HashMap<>();
        for (var e : o.getAsJsonObject(field).entrySet()) {
            GemmShape s;
            try {
                s = GemmShape.parse(e.getKey());
            } catch (IllegalArgumentException x) {
                throw new UserError(PROPERTY + ": " + file + ": " + field + ": " + x.getMessage(), x);
            }
            m.put(s, number(o.getAsJsonObject(field), file, e.getKey()));
        }
        return m;
    }

    /** The rates file's JSON object; a {@link UserError} naming the file where it cannot be read or is none. */
    static JsonObject readObject(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError(PROPERTY + ": cannot read " + file + ": " + IoErrors.reason(e), e);
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

    /** The whole, non-negative count {@code key} of the rates file's object (a multiprocessor or cluster count). */
    private static int count(JsonObject o, String key) {
        double v = number(o, key);
        if (!(v >= 0 && v <= Integer.MAX_VALUE && v == Math.rint(v)))
            throw new JsonParseException(key + " is not a whole count: " + o.get(key));
        return (int) v;
    }

    @Override
    public String toString() {
        String resident = residentClusters > 0 ? ", " + residentClusters + " clusters resident" : "";
        String floor = stepwise.floorUs() == RnnCostModel.STEPWISE_LAUNCHES_US
                ? ""
                : String.format(Locale.ROOT, ", stepwise floor %.2f µs", stepwise.floorUs());
        int n = stepwise.gemms().size();
        floor += n == 0 ? "" : ", " + n + " GEMM shape" + (n == 1 ? "" : "s") + " measured";
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
