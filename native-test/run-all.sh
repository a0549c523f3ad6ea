#!/usr/bin/env bash
# Builds (if needed) and runs every native kernel test. Exits non-zero if any test fails or
# cannot run.
#   native-test/run-all.sh [make args]       on this machine's GPU (nvcc build)
#   native-test/run-all.sh cpu [make args]   on the CPU execution layer (cpu/crcpu.h, g++ only):
#       every harness in the three thread orders (forward, reverse, shuffle:$CRCPU_SEED) and an
#       AddressSanitizer + UBSan build in shuffled order, as many runs at once as there are cores,
#       then cpu/selftest.sh (the layer's own checks: thread orders, launch validation, aborts) and
#       cpu/mutation-check.sh, which shows that the harnesses fail when a barrier is removed.
set -uo pipefail
cd "$(dirname "$0")"
TESTS="test_lstm test_gru test_rnn test_loss test_reduce_optim test_embedding_dropout test_gemm test_convert test_grid_sync test_persistent_lstm test_persistent_gru test_persistent_rnn test_persistent_rnn_pair
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
  asan_flags="-O1 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
  make -s -j"$jobs" cpu "$@" || { echo "run-all.sh: cpu build failed" >&2; exit 2; }
  make -s -j"$jobs" cpu CPU_BUILD=build/cpu-asan CPU_FLAGS="$asan_flags" "$@" || { echo "run-all.sh: asan build failed" >&2; exit 2; }
  # One run a core at a time (a harness's blocks mostly take turns on one core): the ASan runs
  # first, the longest; each run's log in build/cpu{,-asan}/, a .failed file beside a failed one's.
  rm -f build/cpu/*.failed build/cpu-asan/*.failed
  for t in $TESTS; do echo "$t shuffle:$seed cpu-asan"; done > build/cpu/runs.txt
  # (the _tiled builds are the untiled harnesses' checks with 40-float k-tiles)
  for t in $TESTS; do
    for order in forward reverse "shuffle:$seed"; do echo "$t $order cpu"; done
  done >> build/cpu/runs.txt
  xargs -P "$jobs" -L 1 bash -c '
    t=$1 order=$2 dir=build/$3 log=build/$3/$1.${2%%:*}.log
    if CRCPU_ORDER=$order ASAN_OPTIONS=detect_leaks=0 "./$dir/$t" > "$log" 2>&1; then
      echo "$(tail -1 "$log")  ($dir, $order)"
    else
      echo "=== $t ($dir, $order) FAILED"; tail -1 "$log"; touch "$log.failed"
    fi' _ < build/cpu/runs.txt
  ls build/cpu/*.failed build/cpu-asan/*.failed > /dev/null 2>&1 && status=1
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
