#!/usr/bin/env bash
# Builds (if needed) and runs every native kernel test. Exits non-zero if any test fails or
# cannot run.
#   native-test/run-all.sh [make args]       on this machine's GPU (nvcc build)
#   native-test/run-all.sh cpu [make args]   on the CPU execution layer (cpu/crcpu.h, g++ only):
#       every harness in the three thread orders (forward, reverse, shuffle:$CRCPU_SEED), then an
#       AddressSanitizer + UBSan build in shuffled order, then cpu/selftest.sh (the layer's own
#       checks: thread orders, launch validation, aborts) and cpu/mutation-check.sh, which shows
#       that the harnesses fail when a __syncthreads() is removed from a block reduction.
set -uo pipefail
cd "$(dirname "$0")"
TESTS="test_lstm test_gru test_rnn test_loss test_reduce_optim test_embedding_dropout test_gemm test_convert test_grid_sync test_persistent_lstm test_persistent_gru test_persistent_rnn
  test_persistent_lstm_tiled test_persistent_gru_tiled test_persistent_rnn_tiled probe_rates"
status=0
jobs=$(nproc 2>/dev/null || echo 2)

run() { # run <label> <binary> [env...]
  local label=$1 bin=$2; shift 2
  echo "=== $label"
  if ! env "$@" "$bin"; then
    echo "=== $label FAILED"
    status=1
  fi
}

if [ "${1:-}" = cpu ]; then
  shift
  seed=${CRCPU_SEED:-20261202}
  asan_flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
  make -s -j"$jobs" cpu "$@" || { echo "run-all.sh: cpu build failed" >&2; exit 2; }
  make -s -j"$jobs" cpu CPU_BUILD=build/cpu-asan CPU_FLAGS="$asan_flags" "$@" || { echo "run-all.sh: asan build failed" >&2; exit 2; }
  for t in $TESTS; do
    for order in forward reverse "shuffle:$seed"; do
      run "$t (cpu, $order)" "./build/cpu/$t" CRCPU_ORDER="$order" > "build/cpu/$t.${order%%:*}.log" 2>&1
      tail -1 "build/cpu/$t.${order%%:*}.log"
    done
    run "$t (cpu, asan+ubsan, shuffle:$seed)" "./build/cpu-asan/$t" CRCPU_ORDER="shuffle:$seed" \
      ASAN_OPTIONS=detect_leaks=0 > "build/cpu-asan/$t.log" 2>&1
    tail -1 "build/cpu-asan/$t.log"
  done
  [ $status -eq 0 ] || { grep -h -B2 -A3 "FAIL\|ERROR\|runtime error\|crcpu:" build/cpu/*.log build/cpu-asan/*.log | head -60 >&2; }
  echo "=== self-test of the CPU layer's checks"
  bash cpu/selftest.sh build/cpu/selftest || status=1
  echo "=== mutation check"
  bash cpu/mutation-check.sh || status=1
  [ $status -eq 0 ] && echo "run-all.sh: all native tests passed on the CPU" || echo "run-all.sh: FAILURES" >&2
  exit $status
fi

make -s -j"$jobs" "$@" || { echo "run-all.sh: build failed" >&2; exit 2; }
for t in $TESTS; do
  run "$t" "./build/$t"
done
[ $status -eq 0 ] && echo "run-all.sh: all native tests passed" || echo "run-all.sh: FAILURES" >&2
exit $status
