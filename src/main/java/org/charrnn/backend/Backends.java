package org.charrnn.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * Picks and creates backends: {@code --backend auto|reference|cuda|opencl}. auto prefers CUDA,
 * then an OpenCL GPU, then whichever of OpenCL on a CPU device and the reference the
 * {@link CostModel} predicts faster for the model and workload; one log line says which was
 * chosen and why.
 */
public final class Backends {
    private Backends() {}

    /**
     * What the backend will mostly run, for the auto choice: training windows of {@code batch}
     * streams by {@code seqLen} steps.
     */
    public record Workload(int batch, int seqLen) {
        /** The train command's defaults (--batch 50, --seq 50). */
        public static final Workload TRAINING_DEFAULT = new Workload(50, 50);

        public Workload {
            if (batch < 1 || seqLen < 1) throw new IllegalArgumentException("batch and seqLen must be >= 1");
        }
    }

    /** Every known provider, in auto-selection preference order. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        list.add(new org.charrnn.backend.cuda.CudaBackendProvider());
        list.add(new org.charrnn.backend.opencl.OpenClBackendProvider());
        list.add(new ReferenceBackendProvider());
        return list;
    }

    /** The provider named {@code name} ("reference", "cuda", "opencl"). */
    public static BackendProvider provider(String name) {
        for (BackendProvider p : providers()) if (p.name().equalsIgnoreCase(name)) return p;
        throw new UserError("unknown backend '" + name + "' (expected auto, reference, cuda or opencl)");
    }

    /**
     * Creates the backend named {@code kind} (or the best available for "auto", judged for the
     * {@link Workload#TRAINING_DEFAULT} workload) and logs one line saying which backend and device runs.
     */
    public static Backend create(String kind, ModelConfig config, BackendOptions options, Consumer<String> log) {
        return create(kind, config, options, Workload.TRAINING_DEFAULT, log);
    }

    /** As {@link #create(String, ModelConfig, BackendOptions, Consumer)}, judging "auto" for {@code workload}. */
    public static Backend create(
            String kind, ModelConfig config, BackendOptions options, Workload workload, Consumer<String> log) {
        options = options.withLog(log); // the backend reports through the same log as this choice
        Backend b;
        if (kind == null || kind.equalsIgnoreCase("auto")) {
            b = createAuto(config, options, workload, log);
        } else {
            BackendProvider p = provider(kind);
            BackendProvider.Availability a = p.probe();
            if (!a.available()) throw new UserError("backend " + p.name() + " is not available: " + a.reason());
            b = p.create(config, options);
            log.accept("backend: " + b.name() + " on " + b.deviceName() + " ("
                    + b.precision().id() + ")");
        }
        return b;
    }

    /** What the machine offers to the auto choice. */
    record Inventory(boolean cudaGpu, boolean openclGpu, boolean openclCpu, String skipped) {}

    /** The auto decision: backend name ("cuda", "opencl", "reference") and a human-readable reason. */
    public record Choice(String backend, String reason) {}

    private static volatile Inventory probed;

    /**
     * Probes, once per process, what "--backend auto" chooses among; a command with other start-up
     * work may call this for {@code kind} "auto" (a no-op for any other) on one thread while it does
     * that work on another, and the auto choice then reuses the answer.
     */
    public static void probe(String kind) {
        if (kind == null || kind.equalsIgnoreCase("auto")) inventory();
    }

    static Inventory inventory() {
        Inventory inv = probed;
        if (inv == null) {
            synchronized (Backends.class) {
                if (probed == null) probed = inventory(providers());
                inv = probed;
            }
        }
        return inv;
    }

    /**
     * What {@code providers} (in preference order) offer. A CUDA GPU is the choice whatever else
     * there is, so the providers after it are not probed (OpenCL is not even loaded).
     */
    static Inventory inventory(List<BackendProvider> providers) {
        boolean cudaGpu = false, openclGpu = false, openclCpu = false;
        StringBuilder skipped = new StringBuilder();
        for (BackendProvider p : providers) {
            if (cudaGpu) break;
            if (p.name().equals("reference")) continue;
            BackendProvider.Availability a = p.probe();
            if (!a.available()) {
                skipped.append("; ").append(p.name()).append(": ").append(a.reason());
                continue;
            }
            List<BackendProvider.DeviceInfo> ds = p.devices();
            boolean gpu = ds.stream().anyMatch(BackendProvider.DeviceInfo::gpu);
            if (p.name().equals("cuda")) cudaGpu = gpu;
            if (p.name().equals("opencl")) {
                openclGpu = gpu;
                openclCpu = !gpu && !ds.isEmpty();
            }
            boolean emulated =
                    ds.stream().anyMatch(d -> org.charrnn.backend.cuda.CudaBackendProvider.isEmulated(d.name()));
            if (!gpu)
                skipped.append("; ")
                        .append(p.name())
                        .append(emulated ? ": an emulated device only" : ": no GPU device");
        }
        return new Inventory(cudaGpu, openclGpu, openclCpu, skipped.length() > 0 ? skipped.substring(2) : "");
    }

    /**
     * The auto rule, free of side effects: CUDA if it has a GPU, else an OpenCL GPU, else OpenCL on
     * a CPU device if the cost model predicts it faster than the reference for {@code config} and
     * {@code workload} (and the precision is fp32, the only one it computes in), else the reference.
     * A forced {@code --rnn-kernel persistent}, which the reference does not run, takes OpenCL on a
     * CPU device whatever the cost model says, where its window kernels run the cell in fp32; left
     * with the reference, {@link #createAuto} refuses it.
     */
    static Choice decide(Inventory inv, ModelConfig config, Workload workload, BackendOptions options, int cores) {
        if (inv.cudaGpu()) return new Choice("cuda", "GPU");
        if (inv.openclGpu()) return new Choice("opencl", "GPU");
        String why = inv.skipped();
        if (inv.openclCpu()) {
            if (options.precision() != Precision.FP32) {
                why = "opencl on the CPU computes in fp32 only, --precision "
                        + options.precision().id();
            } else if (options.rnnKernel() == RnnKernel.PERSISTENT) {
                if (RnnKernel.hasPersistent(config.cell()))
                    return new Choice("opencl", "CPU device, --rnn-kernel persistent (the reference has none)");
                why = "opencl has no window kernel for " + config.cell().id();
            } else {
                int threads = options.threads() > 0 ? Math.min(options.threads(), cores) : cores;
                double ocl = CostModel.openClCpuMs(config, workload, cores);
                double ref = CostModel.referenceMs(config, workload, threads);
                String est = String.format(
                        Locale.ROOT,
                        "estimated %s ms/step on opencl-cpu vs %s on the reference for B%d T%d",
                        millis(ocl),
                        millis(ref),
                        workload.batch(),
                        workload.seqLen());
                if (ocl < ref) return new Choice("opencl", "CPU device, " + est);
                why = est;
            }
        }
        return new Choice("reference", why);
    }

    /** A time in ms with two or three significant digits: 83, 1.4, 0.047. */
    static String millis(double ms) {
        return String.format(Locale.ROOT, ms >= 10 ? "%.0f" : ms >= 0.1 ? "%.1f" : "%.3f", ms);
    }

    /**
     * Which backend (and why) {@code --backend auto} would pick here, without creating it; where the
     * choice depends on the model, says so and gives the choice for the default bench model
     * (lstm L2 H128, V 65, B50 T50).
     */
    public static String autoChoice() {
        Inventory inv = inventory();
        ModelConfig example = new ModelConfig(org.charrnn.model.CellType.LSTM, 65, 128, 128, 2, 0.0);
        Choice c = decide(
                inv,
                example,
                Workload.TRAINING_DEFAULT,
                BackendOptions.defaults(),
                Runtime.getRuntime().availableProcessors());
        if (!inv.cudaGpu() && !inv.openclGpu() && inv.openclCpu())
            return "opencl (CPU device) or reference, whichever the cost model predicts faster for the model;"
                    + " for lstm L2 H128 B50 T50: " + c.backend() + " (" + c.reason() + ")";
        return c.backend() + (c.reason().isEmpty() ? "" : " (" + c.reason() + ")");
    }

    private static Backend createAuto(
            ModelConfig config, BackendOptions options, Workload workload, Consumer<String> log) {
        Choice c = decide(
                inventory(), config, workload, options, Runtime.getRuntime().availableProcessors());
        if (!c.backend().equals("reference")) {
            Backend b = provider(c.backend()).create(config, options);
            // two lines: device names and the cost model's reason together overflow a terminal line
            log.accept("backend: " + b.name() + " on " + b.deviceName() + " ("
                    + b.precision().id() + ", auto)");
            if (!c.reason().isEmpty()) log.accept("  chosen because: " + c.reason());
            return b;
        }
        if (options.rnnKernel() == RnnKernel.PERSISTENT)
            throw UserError.naming("{BackendOptions.rnnKernel} persistent: no backend here runs it"
                    + (c.reason().isEmpty() ? "" : " (" + c.reason() + ")")
                    + "; the reference steps one timestep at a time");
        if (options.device() > 0) {
            // a device the machine may have under another backend: not the CPU in its stead
            throw UserError.naming("{BackendOptions.device} " + options.device()
                    + ": the automatic choice here is the reference"
                    + (c.reason().isEmpty() ? "" : " (" + c.reason() + ")")
                    + ", whose one device is 0 (the CPU); name the backend of that device, see 'charrnn devices'");
        }
        Backend b = new ReferenceBackendProvider().create(config, options.withPrecision(Precision.FP64));
        log.accept("backend: reference on " + b.deviceName() + " (fp64, auto)");
        if (!c.reason().isEmpty()) log.accept("  chosen because: " + c.reason());
        return b;
    }

    /**
     * Predicted training-step times of the two CPU backends, calibrated on the 2-vCPU Intel Xeon
     * development VM (AVX-512) with PoCL 3.1 on 2026-12-02 (bench harness, LSTM, V = 65, E = H,
     * T = 50; bench/results/reference-vector-2026-12-02.md and opencl-window-2026-12-02.md): the
     * reference, on the Java Vector API, sustains about 25 GFLOP/s per thread in fp64 (L2 H128 B50:
     * 161 ms of CPU per step on one thread) plus about 21 us per timestep and layer (L1 H32 B1: 1.2
     * to 1.35 ms/step once compiled); OpenCL on PoCL, with its register-blocked GEMMs and one window
     * kernel per layer and pass, sustains about 70 GFLOP/s per core (L2 H128 B50: 43 to 44 ms on
     * one thread, L2 H256 240 ms) plus about 18 us per command, and enqueues about 28 L + 20
     * commands per step (L2 H8 B1: 1.24 ms; L1 H32 B1: 1.22 ms). Measured, reference vs OpenCL on
     * 2 threads: L1 H16 B50: 14.2 vs 2.8 ms; L1 H64 B8: 13.2 vs 2.5 ms; L1 H32 B4: 6.9 (not yet
     * compiled: 4.2 at best) vs 1.2 ms; L1 H32 B1: 1.2 vs 1.2 ms. So OpenCL wins every training
     * workload from about B4 and ties at one stream, and the reference wins single steps (T = 1:
     * sampling, where a step's commands cost more than the reference's arithmetic).
     */
    static final class CostModel {
        private CostModel() {}

        static final double REF_GFLOPS_PER_THREAD = 25;
        static final double REF_US_PER_STEP_LAYER = 21;
        static final double OCL_GFLOPS_PER_CORE = 70;
        static final double OCL_US_PER_LAUNCH = 18;

        /** GEMM FLOPs of one training step: forward (input, recurrent, decoder) and twice that backward. */
        static double stepFlops(ModelConfig c, Workload w) {
            double n = (double) w.batch() * w.seqLen();
            double gi = c.inputGateWidth(), gh = c.recurrentGateWidth(), h = c.hidden();
            double fwd = 2.0 * n * c.vocabSize() * h;
            for (int l = 0; l < c.layers(); l++) fwd += 2.0 * n * (gi * c.inputSize(l) + gh * h);
            return 3.0 * fwd;
        }

        static double referenceMs(ModelConfig c, Workload w, int threads) {
            double compute = stepFlops(c, w) / (REF_GFLOPS_PER_THREAD * 1e9 * Math.max(1, threads)) * 1e3;
            return compute + (double) w.seqLen() * c.layers() * REF_US_PER_STEP_LAYER / 1e3;
        }

        static double openClCpuMs(ModelConfig c, Workload w, int cores) {
            double compute = stepFlops(c, w) / (OCL_GFLOPS_PER_CORE * 1e9 * Math.max(1, cores)) * 1e3;
            double launches = 28.0 * c.layers() + 20; // the recurrence is one window kernel per layer and pass
            return compute + launches * OCL_US_PER_LAUNCH / 1e3;
        }
    }
}
