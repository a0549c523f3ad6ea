package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUevent_record_flags;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
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
 * The two-stream rules the side stream ({@link SideStream}) relies on, at the driver level: work a
 * second stream queues after waiting on an event runs after what the first stream queued before
 * the event, the first stream's work after a wait on the second's event runs after the second's,
 * and a capture forks into the second stream (it joins the capture by waiting on a captured event)
 * and must be joined back before it ends. On the emulated device the fork's work runs as late as
 * CUDA allows (at the join), so the tests also show that a buffer the main stream overwrites
 * between fork and join would be read overwritten: what the orchestration's second dgates buffer
 * prevents.
 */
@Tag("gpu")
class CudaStreamRulesTest {
    private static final int N = 4;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream main = new CUstream(), side = new CUstream();
    private final CUevent fork = new CUevent(), join = new CUevent();

    @BeforeEach
    void open() {
        CudaTestSupport.assumeCuda();
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuStreamCreate(main, CUstream_flags.CU_STREAM_NON_BLOCKING);
        JCudaDriver.cuStreamCreate(side, CUstream_flags.CU_STREAM_NON_BLOCKING);
        JCudaDriver.cuEventCreate(fork, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        JCudaDriver.cuEventCreate(join, CUevent_flags.CU_EVENT_DISABLE_TIMING);
    }

    @AfterEach
    void close() {
        if (!CudaRuntime.kernelsBuilt() || CudaRuntime.init() != null) return;
        JCudaDriver.cuEventDestroy(fork);
        JCudaDriver.cuEventDestroy(join);
        JCudaDriver.cuStreamDestroy(side);
        JCudaDriver.cuStreamDestroy(main);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    private static void fill(DeviceBuffer b, float v, CUstream s) {
        JCudaDriver.cuMemsetD32Async(b.ptr, Float.floatToRawIntBits(v), N, s);
    }

    private static void copy(DeviceBuffer dst, DeviceBuffer src, CUstream s) {
        JCudaDriver.cuMemcpyDtoDAsync(dst.ptr, src.ptr, (long) N * Sizeof.FLOAT, s);
    }

    private static float[] read(DeviceBuffer b, CUstream s) {
        return b.download(0, N, s);
    }

    /** main: a = 1; fork; side: b = a; main: c = 2; join; main: d = b. */
    private void forkAndJoin(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, DeviceBuffer d) {
        fill(a, 1, main);
        JCudaDriver.cuEventRecord(fork, main);
        JCudaDriver.cuStreamWaitEvent(side, fork, 0);
        copy(b, a, side);
        fill(c, 2, main);
        JCudaDriver.cuEventRecord(join, side);
        JCudaDriver.cuStreamWaitEvent(main, join, 0);
        copy(d, b, main);
    }

    @Test
    void workAfterAJoinSeesTheForkedWork() {
        try (DeviceBuffer a = DeviceBuffer.floats(N, "a", "test");
                DeviceBuffer b = DeviceBuffer.floats(N, "b", "test");
                DeviceBuffer c = DeviceBuffer.floats(N, "c", "test");
                DeviceBuffer d = DeviceBuffer.floats(N, "d", "test")) {
            forkAndJoin(a, b, c, d);
            assertArrayEquals(new float[] {1, 1, 1, 1}, read(d, main), "d = b = a after the join");
            assertArrayEquals(new float[] {2, 2, 2, 2}, read(c, main));
        }
    }

    @Test
    void aCaptureForksIntoTheSecondStreamAndReplaysBothBranches() {
        try (DeviceBuffer a = DeviceBuffer.floats(N, "a", "test");
                DeviceBuffer b = DeviceBuffer.floats(N, "b", "test");
                DeviceBuffer d = DeviceBuffer.floats(N, "d", "test")) {
            CUgraph g = new CUgraph();
            CUgraphExec exec = new CUgraphExec();
            JCudaDriver.cuStreamBeginCapture(main, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
            JCudaDriver.cuEventRecord(fork, main);
            JCudaDriver.cuStreamWaitEvent(side, fork, 0);
            int[] status = new int[1];
            JCudaDriver.cuStreamIsCapturing(side, status);
            assertTrue(
                    status[0] == CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_ACTIVE, "the wait joins the capture");
            copy(b, a, side);
            JCudaDriver.cuEventRecord(join, side);
            JCudaDriver.cuStreamWaitEvent(main, join, 0);
            copy(d, b, main);
            JCudaDriver.cuStreamEndCapture(main, g);
            JCudaDriver.cuStreamIsCapturing(side, status);
            assertTrue(status[0] == CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_NONE, "the capture's end frees it");
            assertArrayEquals(new float[N], read(d, main), "captured work does not run at capture");
            JCudaDriver.cuGraphInstantiate(exec, g, 0);
            for (float v = 3; v <= 4; v++) {
                fill(a, v, main);
                JCudaDriver.cuGraphLaunch(exec, main);
                assertArrayEquals(new float[] {v, v, v, v}, read(d, main), "each launch runs the fork, then the join");
            }
            JCudaDriver.cuGraphExecDestroy(exec);
            JCudaDriver.cuGraphDestroy(g);
        }
    }

    /**
     * What StepBlock relies on: an event recorded in a capture as an event record node
     * (CU_EVENT_RECORD_EXTERNAL) is recorded by each launch of the graph, so that waiting for it
     * means the launch's copy from pinned host memory has run (and read what was staged before that
     * launch), and the host may stage the next values.
     */
    @Test
    void anEventRecordedInACaptureMarksEachLaunchsCopyFromPinnedMemory() {
        Pointer staged = new Pointer();
        JCudaDriver.cuMemAllocHost(staged, (long) N * Sizeof.FLOAT);
        try (DeviceBuffer a = DeviceBuffer.floats(N, "a", "test");
                DeviceBuffer d = DeviceBuffer.floats(N, "d", "test")) {
            CUgraph g = new CUgraph();
            CUgraphExec exec = new CUgraphExec();
            JCudaDriver.cuStreamBeginCapture(main, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
            JCudaDriver.cuMemcpyHtoDAsync(a.ptr, staged, (long) N * Sizeof.FLOAT, main);
            JCudaDriver.cuEventRecordWithFlags(fork, main, CUevent_record_flags.CU_EVENT_RECORD_EXTERNAL);
            copy(d, a, main);
            JCudaDriver.cuStreamEndCapture(main, g);
            JCudaDriver.cuGraphInstantiate(exec, g, 0);
            FloatBuffer host = staged.getByteBuffer(0, (long) N * Sizeof.FLOAT)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            for (float v = 3; v <= 4; v++) {
                JCudaDriver.cuEventSynchronize(fork); // the last launch's copy has run: stage over it
                host.put(0, new float[] {v, v, v, v});
                JCudaDriver.cuGraphLaunch(exec, main);
            }
            JCudaDriver.cuEventSynchronize(fork);
            host.put(0, new float[] {9, 9, 9, 9}); // after the last launch's copy: none of its values
            assertArrayEquals(new float[] {4, 4, 4, 4}, read(d, main), "each launch copies what was staged for it");
            JCudaDriver.cuGraphExecDestroy(exec);
            JCudaDriver.cuGraphDestroy(g);
        } finally {
            JCudaDriver.cuMemFreeHost(staged);
        }
    }

    /** A plain record in a capture only orders the capture's streams: the host may not wait for it. */
    @Test
    @Tag("emulator") // skips on a GPU: gpu-check.sh's junit step leaves it out
    void onTheEmulatedDeviceAnEventRecordedPlainlyInACaptureIsNoEventForTheHost() {
        CudaTestSupport.assumeEmulated();
        try (DeviceBuffer a = DeviceBuffer.floats(N, "a", "test")) {
            CUgraph g = new CUgraph();
            JCudaDriver.cuStreamBeginCapture(main, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
            fill(a, 1, main);
            JCudaDriver.cuEventRecord(fork, main);
            JCudaDriver.cuStreamEndCapture(main, g);
            CudaException e = assertThrows(CudaException.class, () -> JCudaDriver.cuEventSynchronize(fork));
            assertTrue(e.getMessage().contains("CUDA_ERROR_CAPTURED_EVENT"), e.getMessage());
            JCudaDriver.cuEventRecord(fork, main); // recorded again outside the capture: an event again
            JCudaDriver.cuEventSynchronize(fork);
            JCudaDriver.cuGraphDestroy(g);
        }
    }

    @Test
    void aCaptureWhoseForkIsNotJoinedFailsToEnd() {
        try (DeviceBuffer a = DeviceBuffer.floats(N, "a", "test");
                DeviceBuffer b = DeviceBuffer.floats(N, "b", "test")) {
            JCudaDriver.cuStreamBeginCapture(main, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
            JCudaDriver.cuEventRecord(fork, main);
            JCudaDriver.cuStreamWaitEvent(side, fork, 0);
            copy(b, a, side);
            CudaException e =
                    assertThrows(CudaException.class, () -> JCudaDriver.cuStreamEndCapture(main, new CUgraph()));
            assertTrue(e.getMessage().contains("CUDA_ERROR_STREAM_CAPTURE_UNJOINED"), e.getMessage());
        }
    }

    @Test
    @Tag("emulator") // skips on a GPU: gpu-check.sh's junit step leaves it out
    void onTheEmulatedDeviceForkedWorkRunsAsLateAsTheJoin() {
        CudaTestSupport.assumeEmulated();
        try (DeviceBuffer a = DeviceBuffer.floats(N, "a", "test");
                DeviceBuffer b = DeviceBuffer.floats(N, "b", "test");
                DeviceBuffer c = DeviceBuffer.floats(N, "c", "test");
                DeviceBuffer d = DeviceBuffer.floats(N, "d", "test")) {
            // the race the orchestration must avoid: main overwrites (c = a) what the fork reads
            forkAndJoin(a, b, a, d);
            assertArrayEquals(new float[] {2, 2, 2, 2}, read(d, main), "the fork read a as the join found it");
            // and a fork nothing joins has not run when the main stream is done
            JCudaDriver.cuEventRecord(fork, main);
            JCudaDriver.cuStreamWaitEvent(side, fork, 0);
            copy(c, a, side);
            assertArrayEquals(new float[N], read(c, main), "an unjoined fork runs after the main stream");
            JCudaDriver.cuStreamSynchronize(side);
            assertArrayEquals(new float[] {2, 2, 2, 2}, read(c, main));
        }
    }
}
