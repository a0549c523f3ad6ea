package org.charrnn.backend.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.model.CellType;

/**
 * What the persistent kernels can run on a device, for {@code charrnn devices} and the tests: the
 * largest hidden size of each cell whose block fits, and the note that says so ({@link
 * PersistentRnn} decides per run and launches).
 */
final class PersistentLimits {
    private PersistentLimits() {}

    /**
     * What {@code --rnn-kernel persistent} runs on device {@code index}, for {@code charrnn devices}:
     * the largest H of each cell that runs persistent at B = 128 in fp32 and in bf16, and
     * what auto picks for the fp32 LSTM at the first bench row (H 256, B 50).
     */
    static String deviceNote(int index) {
        CUdevice d = new CUdevice();
        JCudaDriver.cuDeviceGet(d, index);
        if (PersistentRnn.attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) == 0)
            return "device " + index + ": no cooperative launches: every cell runs stepwise";
        Numbers numbers = Numbers.of(d);
        int sms = numbers.sms(), limit = numbers.limit();
        int major = PersistentRnn.attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        boolean tensorCores = ProductArithmetic.tensorCores(major);
        StringBuilder up = new StringBuilder();
        for (Precision p : new Precision[] {Precision.FP32, Precision.BF16}) {
            ProductArithmetic a = ProductArithmetic.of(p, tensorCores);
            up.append(a == ProductArithmetic.FP32 ? "fp32 " : "; " + a.label + " ");
            for (CellType cell : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
                up.append(cell == CellType.LSTM ? "" : ", ")
                        .append(cell.id())
                        .append(" H <= ")
                        .append(largestHidden(cell, sms, limit, a));
            }
        }
        RnnCostModel.Device model = numbers.model(RnnRates.fromProperty());
        String auto = model != null
                ? "auto runs each pass persistent where the cost model predicts it faster, e.g. "
                        + PersistentChoice.decide(model, CellType.LSTM, 256, 50, ProductArithmetic.FP32, major >= 9)
                                .line()
                : "auto runs stepwise: the device reports no clock rate for the cost model";
        return "device " + index + ": --rnn-kernel persistent runs " + up + " at B <= 128 (a block on each of " + sms
                + " SMs, " + (limit >> 10) + " KiB of shared memory each); " + auto
                + "; in a pass that runs stepwise, two layers or more run pipelined by chunks of the window on two"
                + " streams (-Dcharrnn.layerPipeline, -Dcharrnn.pipelineChunk)";
    }

    /** Device {@code index}'s multiprocessors and the shared memory a block may use ({@link Numbers}). */
    static int[] multiprocessorsAndSharedLimit(int index) {
        CUdevice d = new CUdevice();
        JCudaDriver.cuDeviceGet(d, index);
        Numbers n = Numbers.of(d);
        return new int[] {n.sms(), n.limit()};
    }

    /**
     * What the cost models read of a device: its multiprocessors (at least 1), the shared memory a
     * block may use (the opt-in limit, at least the default 48 KiB) and its clock in kHz (0 where it
     * reports none, as the emulated device).
     */
    record Numbers(int sms, int limit, int clockKhz) {
        static Numbers of(CUdevice d) {
            return new Numbers(
                    Math.max(
                            1, PersistentRnn.attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)),
                    Math.max(
                            PersistentRnn.DEFAULT_SHARED,
                            PersistentRnn.attribute(
                                    d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)),
                    PersistentRnn.attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE));
        }

        /** The cost model's device at these numbers and {@code rates}; null without a clock rate. */
        RnnCostModel.Device model(RnnRates rates) {
            return clockKhz > 0 ? new RnnCostModel.Device(sms, clockKhz / 1e6, limit, rates) : null;
        }
    }

    /** The largest H whose W_hh slice alone fits in {@code limit} bytes (the constructor's check; up to 65536). */
    static int largestSliceHidden(CellType cell, int sms, int limit, int elem) {
        int h = 0, g = cell.recurrentGates();
        while (h < (1 << 16) && (long) elem * g * RnnCostModel.units(h + 1, sms) * (h + 1) <= limit) h++;
        return h;
    }

    /** The largest H whose persistent block fits in {@code limit} bytes at B = 128 in arithmetic {@code a} (up to 65536). */
    static int largestHidden(CellType cell, int sms, int limit, ProductArithmetic a) {
        int h = 0, g = cell.recurrentGates();
        while (h < (1 << 16) && PersistentPlan.sharedBytes(g, RnnCostModel.units(h + 1, sms), h + 1, 128, a) <= limit)
            h++;
        return h;
    }
}
