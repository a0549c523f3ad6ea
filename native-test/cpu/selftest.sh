#!/usr/bin/env bash
# Checks the CPU execution layer's checks (cpu/selftest.cu): thread orders, launch validation, the
# warp mma, cluster launches, and the aborts on divergent barriers, early returns at a barrier, a
# grid sync outside a cooperative launch, a cluster sync outside a cluster launch, an mma that
# half a warp skips, and distributed shared memory (a peer's, mapped while both run, and the aborts
# when a write may come before a peer starts or after it returned, or a block maps its own rank).
# Usage: cpu/selftest.sh BINARY (the CPU build of selftest.cu). Exit 0 = all behaved.
set -uo pipefail
bin=${1:?usage: selftest.sh BINARY}
status=0
for order in forward reverse shuffle:11; do
  CRCPU_ORDER=$order "$bin" order | tail -1 || status=1
done
"$bin" bounds 2>/dev/null | tail -1 || status=1
"$bin" mma | tail -1 || status=1
for order in forward reverse; do
  CRCPU_ORDER=$order "$bin" cluster 2>/dev/null | tail -1 || status=1
done
for order in forward reverse shuffle:5; do
  CRCPU_ORDER=$order "$bin" dsmem | tail -1 || status=1
done
for mode in divergent early-return grid-sync cluster-sync mma-divergent dsmem-early dsmem-late dsmem-self; do
  err=$("$bin" "$mode" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -eq 134 ] && grep -q '^crcpu: ' <<<"$err"; then
    echo "selftest $mode: aborted as it must ($(grep '^crcpu: ' <<<"$err" | tail -1))"
  else
    echo "selftest $mode: FAILED (exit $rc, expected an abort): $err"
    status=1
  fi
done
exit $status
