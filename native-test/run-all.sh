#!/usr/bin/env bash
# Builds (if needed) and runs every native kernel test on this machine's GPU.
# Exits non-zero if any test fails or cannot run. Usage: native-test/run-all.sh [make args]
set -uo pipefail
cd "$(dirname "$0")"
make -s "$@" || { echo "run-all.sh: build failed" >&2; exit 2; }
status=0
for t in test_lstm test_gru test_rnn test_loss test_reduce_optim test_embedding_dropout test_gemm test_convert; do
  echo "=== $t"
  if ! "./build/$t"; then
    echo "=== $t FAILED"
    status=1
  fi
done
[ $status -eq 0 ] && echo "run-all.sh: all native tests passed" || echo "run-all.sh: FAILURES" >&2
exit $status
