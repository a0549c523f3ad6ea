package org.charrnn.backend.cuda;

import java.util.function.Consumer;
import java.util.function.IntSupplier;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * Whole training steps as CUDA graphs on one stream: after {@link #WARMUP_STEPS} eager steps with
 * the same key the step is captured once and replayed while the key stays the same. The key (from
 * the orchestration) names every buffer and setting the step depends on; the GEMM scratch
 * generation is added here, since bf16 scratch may be replaced under it. A failed capture is
 * reported once and steps run eagerly from then on.
 */
final class CudaGraphs implements AutoCloseable {
    static final int WARMUP_STEPS = 2;

    private final CUstream stream;
    private final IntSupplier gemmGeneration;
    private final Consumer<String> log;
    private CUgraph graph;
    private CUgraphExec exec;
    private Key graphKey, warmKey;
    private int warmCount;
    private boolean failed; // a capture failed once: whole steps run eagerly from then on

    private record Key(Object step, int gemmGeneration) {}

    CudaGraphs(CUstream stream, IntSupplier gemmGeneration, Consumer<String> log) {
        this.stream = stream;
        this.gemmGeneration = gemmGeneration;
        this.log = log;
    }

    /** Runs {@code step}: replayed from the graph captured for {@code stepKey}, else eagerly (capturing once warm). */
    void run(Object stepKey, Runnable step) {
        Key key = new Key(stepKey, gemmGeneration.getAsInt());
        if (exec != null && key.equals(graphKey)) {
            JCudaDriver.cuGraphLaunch(exec, stream);
            return;
        }
        if (failed) {
            step.run();
            return;
        }
        if (!key.equals(warmKey)) {
            warmKey = key;
            warmCount = 0;
        }
        if (warmCount < WARMUP_STEPS) {
            warmCount++;
            step.run();
            return;
        }
        destroy();
        RuntimeException failure = capture(key, step);
        if (failure != null) {
            // The step's work did not run (capture only records it): run it eagerly, and keep
            // running steps eagerly rather than failing every later step on the same capture.
            failed = true;
            log.accept(
                    "warning: CUDA-graph capture failed (" + cause(failure) + "); training continues without graphs");
            step.run();
            return;
        }
        JCudaDriver.cuGraphLaunch(exec, stream);
    }

    /** Captures {@code step} into {@link #graph} / {@link #exec}; returns the failure (nothing kept) or null. */
    private RuntimeException capture(Key key, Runnable step) {
        CUgraph g = new CUgraph();
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        RuntimeException failure = null;
        try {
            step.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        // The capture always ends (else the stream stays in capture mode); a graph it returns is owned
        // here at once so destroy() frees it whether or not the capture's work failed.
        try {
            JCudaDriver.cuStreamEndCapture(stream, g);
            graph = g;
            if (failure == null) {
                CUgraphExec e = new CUgraphExec();
                JCudaDriver.cuGraphInstantiate(e, g, 0);
                exec = e;
                graphKey = key;
            }
        } catch (RuntimeException e) {
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        if (failure != null) destroy();
        return failure;
    }

    /**
     * The failure in one line, and the end of the capture's error after it where that failed too: a
     * capture the driver invalidated shows first as whatever the next call reports (a cuBLAS GEMM:
     * CUBLAS_STATUS_EXECUTION_FAILED), and only cuStreamEndCapture names it.
     */
    private static String cause(RuntimeException failure) {
        StringBuilder b = new StringBuilder(CudaRuntime.oneLine(failure));
        for (Throwable s : failure.getSuppressed())
            b.append("; ending the capture: ").append(CudaRuntime.oneLine(s));
        return b.toString();
    }

    private void destroy() {
        if (exec != null) JCudaDriver.cuGraphExecDestroy(exec);
        if (graph != null) JCudaDriver.cuGraphDestroy(graph);
        exec = null;
        graph = null;
        graphKey = null;
    }

    @Override
    public void close() {
        destroy();
    }
}
