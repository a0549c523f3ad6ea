package org.charrnn.cli;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** --backend, --device, --precision, --threads: shared by every command that computes. */
public final class BackendOptionsMixin {
    @Option(names = "--backend", defaultValue = "auto", description = "auto | reference | cuda | opencl.")
    String backend;

    @Option(
            names = "--device",
            defaultValue = "-1",
            showDefaultValue = CommandLine.Help.Visibility.NEVER,
            description = "Device index for cuda/opencl, as listed by 'charrnn devices' (default: the first GPU, "
                    + "else the first device).")
    int device;

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            description = "fp32 | tf32 | bf16 on GPUs; the reference always computes in fp64.")
    String precision;

    @Option(names = "--threads", defaultValue = "0", description = "Reference backend threads (0 = all cores).")
    int threads;

    BackendOptions options(long seed) {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        return new BackendOptions(Precision.parse(precision), device, true, seed, threads);
    }
}
