package org.charrnn.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;

/** The --backend auto rule (pure: a given inventory of devices, no probing). */
class BackendsAutoTest {

    private static final ModelConfig BENCH = new ModelConfig(CellType.LSTM, 65, 128, 128, 2, 0.0);
    private static final ModelConfig TINY = new ModelConfig(CellType.LSTM, 65, 32, 32, 1, 0.0);
    private static final BackendOptions FP32 = BackendOptions.defaults();
    private static final Backends.Workload B50T50 = Backends.Workload.TRAINING_DEFAULT;

    private static Backends.Inventory inv(boolean cudaGpu, boolean openclGpu, boolean openclCpu) {
        return new Backends.Inventory(cudaGpu, openclGpu, openclCpu, "");
    }

    @Test
    void cudaGpuComesFirstThenAnOpenClGpu() {
        assertEquals(
                "cuda",
                Backends.decide(inv(true, true, false), TINY, B50T50, FP32, 2).backend());
        assertEquals(
                "cuda",
                Backends.decide(inv(true, false, true), BENCH, B50T50, FP32, 2).backend());
        assertEquals(
                "opencl",
                Backends.decide(inv(false, true, false), TINY, B50T50, FP32, 2).backend());
        assertEquals(
                "GPU",
                Backends.decide(inv(false, true, false), TINY, B50T50, FP32, 2).reason());
    }

    @Test
    void openClOnTheCpuWinsTrainingAndLosesSingleSteps() {
        Backends.Choice big = Backends.decide(inv(false, false, true), BENCH, B50T50, FP32, 2);
        assertEquals("opencl", big.backend());
        assertTrue(big.reason().contains("ms/step"), big.reason());
        // a single step of one stream (sampling): a step's commands cost more than the reference's arithmetic
        assertEquals(
                "reference",
                Backends.decide(inv(false, false, true), TINY, new Backends.Workload(1, 1), FP32, 2)
                        .backend());
        assertEquals(
                "opencl",
                Backends.decide(
                                inv(false, false, true),
                                new ModelConfig(CellType.LSTM, 65, 64, 64, 1, 0.0),
                                new Backends.Workload(8, 50),
                                FP32,
                                2)
                        .backend());
    }

    @Test
    void referenceWhenThereIsNoOpenClCpuDeviceOrThePrecisionIsNotFp32() {
        assertEquals(
                "reference",
                Backends.decide(
                                new Backends.Inventory(false, false, false, "opencl: no driver"),
                                BENCH,
                                B50T50,
                                FP32,
                                2)
                        .backend());
        assertEquals(
                "opencl: no driver",
                Backends.decide(
                                new Backends.Inventory(false, false, false, "opencl: no driver"),
                                BENCH,
                                B50T50,
                                FP32,
                                2)
                        .reason());
        Backends.Choice bf16 =
                Backends.decide(inv(false, false, true), BENCH, B50T50, FP32.withPrecision(Precision.BF16), 2);
        assertEquals("reference", bf16.backend());
        assertTrue(bf16.reason().contains("fp32"), bf16.reason());
    }

    /**
     * A forced persistent kernel goes where it runs: OpenCL's window kernels on a CPU device even
     * where the reference would be faster (one step of one stream), the reference (which then
     * refuses it) where nothing runs it.
     */
    @Test
    void aForcedPersistentKernelTakesOpenClOnTheCpu() {
        BackendOptions persistent = FP32.withRnnKernel(RnnKernel.PERSISTENT);
        Backends.Workload single = new Backends.Workload(1, 1);
        Backends.Choice c = Backends.decide(inv(false, false, true), TINY, single, persistent, 2);
        assertEquals("opencl", c.backend());
        assertTrue(c.reason().contains("--rnn-kernel persistent"), c.reason());
        assertEquals(
                "reference",
                Backends.decide(inv(false, false, true), TINY, single, FP32, 2).backend());
        ModelConfig mut = new ModelConfig(CellType.MUT1, 65, 32, 32, 1, 0.0);
        Backends.Choice none = Backends.decide(inv(false, false, true), mut, B50T50, persistent, 2);
        assertEquals("reference", none.backend());
        assertEquals("opencl has no window kernel for mut1", none.reason());
        assertEquals(
                "reference",
                Backends.decide(inv(false, false, false), TINY, B50T50, persistent, 2)
                        .backend());
        UserError e = assertThrows(UserError.class, () -> new ReferenceBackendProvider().create(TINY, persistent));
        assertTrue(e.getMessage().contains("steps one timestep at a time"), e.getMessage());
        new ReferenceBackendProvider()
                .create(TINY, FP32.withRnnKernel(RnnKernel.STEPWISE))
                .close();
    }

    /**
     * The reference's one device is the CPU, index 0: a higher --device is refused, also where
     * auto picks the reference (it used to be ignored, the run going to the CPU unasked).
     */
    @Test
    void aDeviceTheReferenceDoesNotHaveIsRefused() {
        new ReferenceBackendProvider().create(TINY, FP32.withDevice(0)).close();
        UserError named =
                assertThrows(UserError.class, () -> new ReferenceBackendProvider().create(TINY, FP32.withDevice(1)));
        assertEquals(
                "BackendOptions.device 1 does not exist: the reference backend has one device (0, the CPU);"
                        + " see 'charrnn devices'",
                named.getMessage());
        // one step of one stream: auto takes the reference here unless the machine has a GPU
        Backends.Workload single = new Backends.Workload(1, 1);
        UserError auto = assertThrows(
                UserError.class, () -> Backends.create("auto", TINY, FP32.withDevice(7), single, line -> {}));
        if (Backends.decide(
                        Backends.inventory(),
                        TINY,
                        single,
                        FP32,
                        Runtime.getRuntime().availableProcessors())
                .backend()
                .equals("reference"))
            assertTrue(auto.getMessage().contains("the automatic choice here is the reference"), auto.getMessage());
        else assertTrue(auto.getMessage().contains("7 does not exist"), auto.getMessage());
    }

    @Test
    void costModelMatchesTheCalibrationPoints() {
        // L2 H128 B50 T50 on 2 threads: reference 161 ms of CPU on one thread, OpenCL 43-44 ms on one
        double ref = Backends.CostModel.referenceMs(BENCH, B50T50, 2),
                ocl = Backends.CostModel.openClCpuMs(BENCH, B50T50, 2);
        assertTrue(ref > 70 && ref < 180, "reference " + ref);
        assertTrue(ocl > 25 && ocl < 60, "opencl " + ocl);
        // L1 H16 B50 T50 (measured 14.2 vs 2.8 ms): opencl
        ModelConfig h16 = new ModelConfig(CellType.LSTM, 65, 16, 16, 1, 0.0);
        assertTrue(Backends.CostModel.openClCpuMs(h16, B50T50, 2) < Backends.CostModel.referenceMs(h16, B50T50, 2));
        // L1 H32 B1 T50 (measured 1.2 ms on both): within a factor 1.5 of each other and of 1.2 ms
        Backends.Workload b1 = new Backends.Workload(1, 50);
        double tinyRef = Backends.CostModel.referenceMs(TINY, b1, 2),
                tinyOcl = Backends.CostModel.openClCpuMs(TINY, b1, 2);
        assertTrue(tinyRef > 0.8 && tinyRef < 1.8 && tinyOcl > 0.8 && tinyOcl < 1.8, tinyRef + " vs " + tinyOcl);
        // fewer reference threads make the reference slower, never faster
        assertTrue(Backends.CostModel.referenceMs(BENCH, B50T50, 1) > ref);
        // GEMM FLOPs: 3 x (2 layers x 2*2500*512*256 + 2*2500*65*128)
        assertEquals(
                3.0 * (2 * 2.0 * 2500 * 512 * 256 + 2.0 * 2500 * 65 * 128),
                Backends.CostModel.stepFlops(BENCH, B50T50),
                1);
    }

    @Test
    void autoChoiceNamesABackend() {
        String s = Backends.autoChoice();
        assertTrue(s.startsWith("cuda") || s.startsWith("opencl") || s.startsWith("reference"), s);
    }

    @Test
    void estimatesKeepTheirDigits() {
        assertEquals("83", Backends.millis(83.2));
        assertEquals("1.4", Backends.millis(1.35));
        assertEquals("0.047", Backends.millis(0.0471));
    }
}
