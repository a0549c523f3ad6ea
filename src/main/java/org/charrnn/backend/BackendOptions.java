package org.charrnn.backend;

import static org.charrnn.util.ConfigError.require;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Knobs every backend accepts (each ignores those that do not apply to it).
 *
 * @param precision   arithmetic: FP64 for the reference; FP32 (default), TF32 or BF16 on GPUs
 * @param device      device index among those of the backend's kind (-1 = first suitable)
 * @param cudaGraph   capture and replay whole training steps as CUDA graphs (CUDA only)
 * @param dropoutSeed seed of the counter-based dropout masks (the run's --seed)
 * @param threads     CPU threads for the reference backend (0 = all cores; at most {@link #MAX_THREADS})
 * @param rnnKernel   one launch per layer and pass for the whole window, or a launch per step (CUDA, and OpenCL on CPU devices; AUTO picks)
 * @param log         where a backend reports what the user should know (fallbacks, warnings): one
 *                    line per call; backends never write to the console themselves
 */
public record BackendOptions(
        Precision precision,
        int device,
        boolean cudaGraph,
        long dropoutSeed,
        int threads,
        RnnKernel rnnKernel,
        Consumer<String> log) {

    /** The log of {@link #defaults()}: standard error, each line prefixed "charrnn: ". */
    public static final Consumer<String> STDERR = line -> System.err.println("charrnn: " + line);

    public BackendOptions {
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(rnnKernel, "rnnKernel");
        Objects.requireNonNull(log, "log");
        require(device >= -1, "{BackendOptions.device} must be >= 0 (or -1: the first suitable), got " + device);
        require(
                threads >= 0 && threads <= MAX_THREADS,
                "{BackendOptions.threads} must be 0 (all cores) to " + MAX_THREADS + ", got " + threads);
    }

    /** Most reference threads: beyond the cores they only take turns, and each is a thread of its own. */
    public static final int MAX_THREADS = 1024;

    public BackendOptions(
            Precision precision, int device, boolean cudaGraph, long dropoutSeed, int threads, Consumer<String> log) {
        this(precision, device, cudaGraph, dropoutSeed, threads, RnnKernel.AUTO, log);
    }

    public BackendOptions(Precision precision, int device, boolean cudaGraph, long dropoutSeed, int threads) {
        this(precision, device, cudaGraph, dropoutSeed, threads, STDERR);
    }

    public static BackendOptions defaults() {
        return new BackendOptions(Precision.FP32, -1, true, 42, 0, STDERR);
    }

    public BackendOptions withPrecision(Precision p) {
        return new BackendOptions(p, device, cudaGraph, dropoutSeed, threads, rnnKernel, log);
    }

    public BackendOptions withDevice(int d) {
        return new BackendOptions(precision, d, cudaGraph, dropoutSeed, threads, rnnKernel, log);
    }

    public BackendOptions withCudaGraph(boolean g) {
        return new BackendOptions(precision, device, g, dropoutSeed, threads, rnnKernel, log);
    }

    public BackendOptions withDropoutSeed(long s) {
        return new BackendOptions(precision, device, cudaGraph, s, threads, rnnKernel, log);
    }

    public BackendOptions withThreads(int t) {
        return new BackendOptions(precision, device, cudaGraph, dropoutSeed, t, rnnKernel, log);
    }

    public BackendOptions withRnnKernel(RnnKernel k) {
        return new BackendOptions(precision, device, cudaGraph, dropoutSeed, threads, k, log);
    }

    public BackendOptions withLog(Consumer<String> l) {
        return new BackendOptions(precision, device, cudaGraph, dropoutSeed, threads, rnnKernel, l);
    }
}
