/*
 * selftest.cu: checks the CPU execution layer's own checks (run by cpu/selftest.sh):
 *   selftest order        CRCPU_ORDER really permutes the threads of a barrier phase
 *   selftest bounds       a block larger than __launch_bounds__ is refused with
 *                         cudaErrorLaunchOutOfResources, an oversized block with
 *                         cudaErrorInvalidConfiguration, and neither kernel runs
 *   selftest divergent    threads of a block at different __syncthreads(): must abort
 *   selftest early-return some threads return while others wait: must abort
 *   selftest grid-sync    a grid barrier in an ordinary launch: must abort
 * Exit 0 = the check behaved; the abort cases are expected to die with SIGABRT.
 */
#include <cooperative_groups.h>
#include "common.h"

/* Each thread records the order in which it passed the barrier phase. */
extern "C" __global__ void __launch_bounds__(64) arrival_order(int *order) {
  __shared__ int next;
  if (threadIdx.x == 0) next = 0;
  __syncthreads();
  order[threadIdx.x] = next++;
  __syncthreads();
}

extern "C" __global__ void divergent_barriers(int *out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

extern "C" __global__ void early_return(int *out) {
  if (threadIdx.x == 0) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

extern "C" __global__ void grid_sync_plain(int *out) {
  cooperative_groups::this_grid().sync();
  out[threadIdx.x] = 1;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  Dev<int> buf(1024);
  CK(cudaMemset(buf.p, 0, 1024 * sizeof(int)));
  if (!strcmp(mode, "order")) {
    const char *o = getenv("CRCPU_ORDER");
    arrival_order<<<1, 64>>>(buf.p);
    CK_LAUNCH();
    std::vector<int> got = buf.down();
    bool forward = true, reverse = true;
    for (int t = 0; t < 64; t++) {
      forward &= got[t] == t;
      reverse &= got[t] == 63 - t;
    }
    if (!o || !strcmp(o, "forward")) expect(forward, "forward order: thread t arrives t-th");
    else if (!strcmp(o, "reverse")) expect(reverse, "reverse order: thread t arrives (63-t)-th");
    else expect(!forward && !reverse, "shuffled order: neither forward nor reverse");
    return finish("selftest order");
  }
  if (!strcmp(mode, "bounds")) {
    arrival_order<<<1, 128>>>(buf.p);
    expect(cudaGetLastError() == cudaErrorLaunchOutOfResources, "128 threads > __launch_bounds__(64) refused");
    early_return<<<1, 2048>>>(buf.p);
    expect(cudaGetLastError() == cudaErrorInvalidConfiguration, "2048 threads per block refused");
    early_return<<<dim3(1, 70000), 32>>>(buf.p);
    expect(cudaGetLastError() == cudaErrorInvalidConfiguration, "grid.y = 70000 refused");
    expect(buf.down()[1] == 0, "no refused kernel ran");
    return finish("selftest bounds");
  }
  if (!strcmp(mode, "divergent")) divergent_barriers<<<1, 32>>>(buf.p);
  else if (!strcmp(mode, "early-return")) early_return<<<1, 32>>>(buf.p);
  else if (!strcmp(mode, "grid-sync")) grid_sync_plain<<<2, 32>>>(buf.p);
  else {
    fprintf(stderr, "usage: selftest order|bounds|divergent|early-return|grid-sync\n");
    return 2;
  }
  CK_LAUNCH();
  printf("selftest %s: the kernel completed, but it should have aborted\n", mode);
  return 1;
}
