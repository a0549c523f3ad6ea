package org.charrnn.cli;

import org.charrnn.backend.BackendOptions;
import picocli.CommandLine.Option;

/** --no-graph, for the commands that run training steps (train, bench); sampling and eval never capture graphs. */
public final class GraphOptionMixin {
    @Option(
            names = "--no-graph",
            description = "CUDA: launch each training step's kernels one by one instead of replaying the step as "
                    + "a captured CUDA graph.")
    boolean noGraph;

    /** {@code o} with or without graphs; --no-graph with a forced backend that captures none is refused. */
    BackendOptions apply(BackendOptions o, BackendOptionsMixin backend) {
        String forced = backend.forced();
        if (noGraph && (forced.equals("reference") || forced.equals("opencl")))
            throw new IllegalArgumentException(
                    "--no-graph applies to the cuda backend; --backend " + forced + " captures no graphs");
        return o.withCudaGraph(!noGraph);
    }
}
