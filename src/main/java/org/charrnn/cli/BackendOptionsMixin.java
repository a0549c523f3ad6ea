package org.charrnn.cli;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import picocli.CommandLine.Option;

/** --backend, --device, --precision, --no-graph, --threads: shared by every command that computes. */
public final class BackendOptionsMixin {
    @Option(names = "--backend", defaultValue = "auto", description = "auto | reference | cuda | opencl.")
    String backend;

    @Option(
            names = "--device",
            defaultValue = "-1",
            description = "Device index for cuda/opencl, as listed by 'charrnn devices' (default: first suitable).")
    int device;

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            description = "fp32 | tf32 | bf16 on GPUs; the reference always computes in fp64.")
    String precision;

    @Option(names = "--no-graph", description = "CUDA: do not capture training steps as CUDA graphs.")
    boolean noGraph;

    @Option(names = "--threads", defaultValue = "0", description = "Reference backend threads (0 = all cores).")
    int threads;

    BackendOptions options(long seed) {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        return new BackendOptions(Precision.parse(precision), device, !noGraph, seed, threads);
    }
}
