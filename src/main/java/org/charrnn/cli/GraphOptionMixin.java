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

    BackendOptions apply(BackendOptions o) {
        return o.withCudaGraph(!noGraph);
    }
}
