package org.charrnn.backend.opencl;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device as enumerated over all platforms.
 *
 * @param index        position in the flattened (platform, device) list; the --device index
 * @param platformId   JOCL platform handle
 * @param deviceId     JOCL device handle
 * @param platformName platform name ("Portable Computing Language", "NVIDIA CUDA", ...)
 * @param name         device name
 * @param globalMemory CL_DEVICE_GLOBAL_MEM_SIZE in bytes
 * @param maxAlloc     CL_DEVICE_MAX_MEM_ALLOC_SIZE in bytes
 * @param gpu          CL_DEVICE_TYPE_GPU
 * @param cpu          CL_DEVICE_TYPE_CPU (PoCL's pthread device, Intel's CPU runtime): selects the CPU GEMM
 * @param maxWorkGroup CL_DEVICE_MAX_WORK_GROUP_SIZE
 */
record ClDevice(
        int index,
        cl_platform_id platformId,
        cl_device_id deviceId,
        String platformName,
        String name,
        long globalMemory,
        long maxAlloc,
        boolean gpu,
        boolean cpu,
        long maxWorkGroup) {

    static ClDevice query(int index, cl_platform_id platform, cl_device_id device) {
        long type = longInfo(device, CL_DEVICE_TYPE);
        return new ClDevice(
                index,
                platform,
                device,
                platformString(platform, CL_PLATFORM_NAME),
                deviceString(device, CL_DEVICE_NAME),
                longInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE),
                longInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                (type & CL_DEVICE_TYPE_GPU) != 0,
                (type & CL_DEVICE_TYPE_CPU) != 0,
                sizeInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE));
    }

    /** CL_DEVICE_MAX_COMPUTE_UNITS: on PoCL's pthread device its threads (POCL_MAX_PTHREAD_COUNT). */
    int computeUnits() {
        int[] v = new int[1];
        clGetDeviceInfo(deviceId, CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint, Pointer.to(v), null);
        return Math.max(1, v[0]);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static long longInfo(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    private static long sizeInfo(cl_device_id d, int param) {
        if (Sizeof.size_t == 8) return longInfo(d, param);
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0] & 0xFFFFFFFFL;
    }

    static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }
}
