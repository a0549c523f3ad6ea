package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstreamCaptureStatus;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Driver rules the backend relies on (or a persistent kernel will), at the driver level. Cooperative
 * launches run and refuse grids that cannot all be resident, as many blocks as the occupancy query
 * answers times the multiprocessors and no more. Stream capture: work on
 * a capturing stream is recorded (not run) with its arguments as they were at capture time and runs
 * at each graph launch; a synchronisation or a pageable host copy during capture fails and
 * invalidates the capture. On a GPU this checks our reading of CUDA; on the emulated device it
 * checks that the emulator follows the same rules.
 */
@Tag("gpu")
class CudaDriverRulesTest {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final CUmodule module = new CUmodule();

    @BeforeEach
    void open() {
        CudaTestSupport.assumeCuda();
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        JCudaDriver.cuModuleLoadData(module, CudaRuntime.fatbin());
    }

    @AfterEach
    void close() {
        if (!CudaRuntime.kernelsBuilt() || CudaRuntime.init() != null) return;
        JCudaDriver.cuModuleUnload(module);
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    private void beginCapture() {
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    }

    private static void assertFails(String error, Runnable call) {
        CudaException e = assertThrows(CudaException.class, call::run);
        assertTrue(e.getMessage().contains(error), e.getMessage());
    }

    @Test
    void capturedWorkRunsAtEachLaunchWithItsCaptureTimeArguments() {
        int n = 6;
        try (DeviceBuffer y = DeviceBuffer.floats(n, "y", "test");
                DeviceBuffer bias = DeviceBuffer.floats(n, "bias", "test")) {
            float[] b = {1, 2, 3, 4, 5, 6};
            bias.upload(b, 0, stream);
            y.fill(0, n, stream);
            JCudaDriver.cuStreamSynchronize(stream);
            CUfunction addBias = new CUfunction();
            JCudaDriver.cuModuleGetFunction(addBias, module, "add_bias_rows");
            int[] rows = {1}, cols = {n};
            Pointer args = Pointer.to(Pointer.to(y.ptr), Pointer.to(bias.ptr), Pointer.to(rows), Pointer.to(cols));

            beginCapture();
            y.fill(Float.floatToRawIntBits(10f), n, stream); // y = 10
            JCudaDriver.cuLaunchKernel(addBias, 1, 1, 1, 32, 1, 1, 0, stream, args, null); // y += bias
            int[] status = new int[1];
            JCudaDriver.cuStreamIsCapturing(stream, status);
            assertEquals(CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_ACTIVE, status[0]);
            CUgraph graph = new CUgraph();
            JCudaDriver.cuStreamEndCapture(stream, graph);
            assertArrayEquals(new float[n], y.download(0, n, stream), "capture records the work without running it");

            cols[0] = 1; // a host argument changed after capture: the graph keeps the captured value
            CUgraphExec exec = new CUgraphExec();
            JCudaDriver.cuGraphInstantiate(exec, graph, 0);
            for (int launch = 0; launch < 2; launch++) {
                JCudaDriver.cuGraphLaunch(exec, stream);
                float[] want = new float[n];
                for (int i = 0; i < n; i++) want[i] = 10f + b[i];
                assertArrayEquals(want, y.download(0, n, stream), "launch " + launch);
            }
            JCudaDriver.cuGraphExecDestroy(exec);
            JCudaDriver.cuGraphDestroy(graph);
        }
    }

    @Test
    void cooperativeLaunchRunsAndRefusesGridsThatCannotBeResident() {
        int n = 64;
        try (DeviceBuffer y = DeviceBuffer.floats(n, "y", "test");
                DeviceBuffer bias = DeviceBuffer.floats(n, "bias", "test")) {
            float[] b = new float[n];
            for (int i = 0; i < n; i++) b[i] = i;
            bias.upload(b, 0, stream);
            y.fill(0, n, stream);
            CUfunction addBias = new CUfunction();
            JCudaDriver.cuModuleGetFunction(addBias, module, "add_bias_rows");
            int[] attr = new int[1];
            JCudaDriver.cuDeviceGetAttribute(
                    attr, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH, device);
            assertEquals(1, attr[0], "the device supports cooperative launches");
            Pointer args = Pointer.to(
                    Pointer.to(y.ptr), Pointer.to(bias.ptr), Pointer.to(new int[] {1}), Pointer.to(new int[] {n}));
            JCudaDriver.cuLaunchCooperativeKernel(addBias, 2, 1, 1, 32, 1, 1, 0, stream, args);
            assertArrayEquals(b, y.download(0, n, stream));
            assertFails(
                    "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE",
                    () -> JCudaDriver.cuLaunchCooperativeKernel(addBias, 1 << 20, 1, 1, 1024, 1, 1, 0, stream, args));
            // what the occupancy query answers is the limit (PersistentLaunches.residentBlocks): that many run
            int[] perSm = new int[1], sms = new int[1];
            JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(perSm, addBias, 256, 0);
            JCudaDriver.cuDeviceGetAttribute(
                    sms, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
            int most = perSm[0] * sms[0];
            assertTrue(perSm[0] >= 1, "blocks of 256 threads a multiprocessor holds: " + perSm[0]);
            JCudaDriver.cuLaunchCooperativeKernel(addBias, most, 1, 1, 256, 1, 1, 0, stream, args);
            JCudaDriver.cuStreamSynchronize(stream);
            assertFails(
                    "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE",
                    () -> JCudaDriver.cuLaunchCooperativeKernel(addBias, most + 1, 1, 1, 256, 1, 1, 0, stream, args));
        }
    }

    @Test
    void synchronizingDuringCaptureFailsAndInvalidatesIt() {
        beginCapture();
        assertFails("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", () -> JCudaDriver.cuStreamSynchronize(stream));
        int[] status = new int[1];
        JCudaDriver.cuStreamIsCapturing(stream, status);
        assertEquals(CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_INVALIDATED, status[0]);
        assertFails(
                "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", () -> JCudaDriver.cuStreamEndCapture(stream, new CUgraph()));
        JCudaDriver.cuStreamIsCapturing(stream, status);
        assertEquals(CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_NONE, status[0], "the stream leaves capture mode");
    }

    @Test
    void aPageableHostCopyDuringCaptureFailsAndInvalidatesIt() {
        try (DeviceBuffer d = DeviceBuffer.floats(4, "d", "test")) {
            beginCapture();
            float[] host = {1, 2, 3, 4};
            assertFails(
                    "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
                    () -> JCudaDriver.cuMemcpyHtoDAsync(d.ptr, Pointer.to(host), 4L * Sizeof.FLOAT, stream));
            assertFails(
                    "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
                    () -> JCudaDriver.cuStreamEndCapture(stream, new CUgraph()));
        }
    }
}
