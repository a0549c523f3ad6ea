package org.charrnn.backend;

/**
 * Knobs every backend accepts (each ignores those that do not apply to it).
 *
 * @param precision   arithmetic: FP64 for the reference; FP32 (default), TF32 or BF16 on GPUs
 * @param device      device index among those of the backend's kind (-1 = first suitable)
 * @param cudaGraph   capture and replay whole training steps as CUDA graphs (CUDA only)
 * @param dropoutSeed seed of the counter-based dropout masks (the run's --seed)
 * @param threads     CPU threads for the reference backend (0 = all cores)
 */
public record BackendOptions(Precision precision, int device, boolean cudaGraph, long dropoutSeed, int threads) {

    public static BackendOptions defaults() {
        return new BackendOptions(Precision.FP32, -1, true, 42, 0);
    }

    public BackendOptions withPrecision(Precision p) { return new BackendOptions(p, device, cudaGraph, dropoutSeed, threads); }
    public BackendOptions withDevice(int d) { return new BackendOptions(precision, d, cudaGraph, dropoutSeed, threads); }
    public BackendOptions withCudaGraph(boolean g) { return new BackendOptions(precision, device, g, dropoutSeed, threads); }
    public BackendOptions withDropoutSeed(long s) { return new BackendOptions(precision, device, cudaGraph, s, threads); }
    public BackendOptions withThreads(int t) { return new BackendOptions(precision, device, cudaGraph, dropoutSeed, t); }
}
