package org.charrnn.cli;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** --backend, --device, --precision, --threads, --rnn-kernel: shared by every command that computes. */
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

    @Option(
            names = "--rnn-kernel",
            defaultValue = "auto",
            description = "auto | persistent | stepwise: each layer's recurrence as one launch per pass for the whole "
                    + "window (CUDA: persistent LSTM, GRU and RNN kernels; OpenCL on a CPU device: window kernels) "
                    + "or a GEMM and a cell kernel per step (auto: CUDA each pass persistent where a cost model of "
                    + "the device predicts it faster; OpenCL on a CPU device one launch; else stepwise).")
    String rnnKernel;

    /** The --backend asked for, as its lower-case name ("auto" where none is forced). */
    String forced() {
        return backend.trim().toLowerCase(java.util.Locale.ROOT);
    }

    BackendOptions options(long seed) {
        String forced = forced();
        // the GPU backends have no thread pool: a count given with one would be dropped
        if (threads != 0 && (forced.equals("cuda") || forced.equals("opencl")))
            throw new IllegalArgumentException("--threads " + threads + " sets the reference backend's threads; "
                    + "--backend " + forced + " does not use them");
        RnnKernel kernel;
        try {
            kernel = RnnKernel.parse(rnnKernel);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--rnn-kernel: " + e.getMessage(), e);
        }
        return new BackendOptions(Precision.parse(precision), device, true, seed, threads).withRnnKernel(kernel);
    }
}
