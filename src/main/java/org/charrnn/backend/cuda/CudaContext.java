package org.charrnn.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.charrnn.util.UserError;

/**
 * One CUDA device as a backend holds it: the device's primary context (retained) and one
 * non-blocking stream that all the backend's work is queued on. {@link #close()} runs the
 * registered clean-ups, then gives back only what this object acquired (the primary context may be
 * shared with other backends on the device).
 */
final class CudaContext implements AutoCloseable {
    final CUdevice device = new CUdevice();
    final CUcontext context = new CUcontext();
    final CUstream stream = new CUstream();
    private final List<Runnable> cleanups = new ArrayList<>();
    private boolean contextRetained, streamCreated, closed;
    private String deviceName = "";

    /** Retains device {@code index}'s primary context and creates the stream; a missing device is a UserError. */
    CudaContext(int index) {
        int[] count = new int[1];
        JCudaDriver.cuDeviceGetCount(count);
        if (index >= count[0])
            throw UserError.naming(
                    "{BackendOptions.device} " + index + " does not exist: " + count[0] + " CUDA device(s) found");
        JCudaDriver.cuDeviceGet(device, index);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        contextRetained = true;
        makeCurrent();
        deviceName = CudaRuntime.deviceName(device);
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        streamCreated = true;
    }

    String deviceName() {
        return deviceName;
    }

    void makeCurrent() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    void synchronize() {
        JCudaDriver.cuStreamSynchronize(stream);
    }

    /** Runs {@code r} at {@link #close()}, after the stream drained and before it is destroyed (reverse order of registration). */
    void onClose(Runnable r) {
        cleanups.add(r);
    }

    /** Releases everything, ignoring errors: the process may be tearing the context down. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        List<Runnable> steps = new ArrayList<>();
        steps.add(this::makeCurrent);
        steps.add(() -> {
            if (streamCreated) synchronize();
        });
        for (int i = cleanups.size() - 1; i >= 0; i--) steps.add(cleanups.get(i));
        steps.add(() -> {
            if (streamCreated) JCudaDriver.cuStreamDestroy(stream);
        });
        steps.add(() -> {
            if (contextRetained) JCudaDriver.cuDevicePrimaryCtxRelease(device);
        });
        for (Runnable r : steps) {
            try {
                r.run();
            } catch (Throwable ignored) {
                // best effort, as the comment on close says
            }
        }
    }
}
