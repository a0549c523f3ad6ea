package org.charrnn.backend.cuda;

import jcuda.CudaException;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Backend;

/**
 * Device time between two CUDA events recorded on one stream. The caller makes the context current
 * and runs deferred work before each mark (see DeviceRnn#timer).
 */
final class CudaTimer implements Backend.Timer {
    private final CUstream stream;
    private final CUevent begin = new CUevent(), end = new CUevent();

    CudaTimer(CUstream stream) {
        this.stream = stream;
        JCudaDriver.cuEventCreate(begin, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            JCudaDriver.cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
        } catch (CudaException e) {
            JCudaDriver.cuEventDestroy(begin);
            throw e;
        }
    }

    @Override
    public void start() {
        JCudaDriver.cuEventRecord(begin, stream);
    }

    /** Records the end event, waits for it and returns the milliseconds between the two events. */
    @Override
    public double stopMillis() {
        JCudaDriver.cuEventRecord(end, stream);
        JCudaDriver.cuEventSynchronize(end);
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, begin, end);
        return ms[0];
    }

    @Override
    public void close() {
        JCudaDriver.cuEventDestroy(begin);
        JCudaDriver.cuEventDestroy(end);
    }
}
