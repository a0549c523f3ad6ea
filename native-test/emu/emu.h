/*
 * emu.h: what the emulated libcublas.so.12 needs from the emulated libcuda.so.1 (both built by
 * native-test/emu/build.sh). Work enqueued on a stream is queued and runs when something needs it
 * (driver.cpp: the late schedule), or, when the stream is being captured, goes into the capture's
 * graph and runs at each cuGraphLaunch instead.
 */
#ifndef CHARRNN_EMU_H
#define CHARRNN_EMU_H

#include <cuda.h>

#include <functional>

/* Queues op on stream (the legacy stream: runs it now, after all queued work), or records it when
 * stream is capturing; op owns copies of everything it reads from the host (CUDA semantics of an
 * asynchronous call). The profiler logs it as `profiled` (copied; null: as `what`). */
extern "C" CUresult cremu_enqueue(CUstream stream, const char *what, const char *profiled, std::function<void()> *op);

/* True when [p, p+bytes) lies in one live device allocation (prints why not, naming what). */
extern "C" bool cremu_device_range(const void *p, size_t bytes, const char *what);

/* Runs fn(ctx) for i in [0, n) on the emulator's block pool (a parallel for). */
extern "C" void cremu_parallel_for(long n, void (*fn)(void *ctx, long i), void *ctx);

#endif
