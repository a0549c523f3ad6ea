package org.charrnn.backend.device;

/**
 * One allocation in a device's memory, made and freed by its {@link DeviceOps}: a CUDA
 * {@code cuMemAlloc} region or an OpenCL buffer. Elements are 4 bytes (float or int) unless the
 * allocation says otherwise (window starts are int64, corpus tokens u8 or u16).
 */
public interface DeviceArray {

    /** Size of the allocation in bytes. */
    long bytes();
}
