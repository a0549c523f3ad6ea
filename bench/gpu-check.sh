#!/usr/bin/env bash
# One-shot CUDA check on the GPU machine, run from the project root; logs go to $OUT (default ./gpu-check-out).
#
# Prepare here (the GPU machine has no Java, Maven or network, and ../shared does not arrive there):
#   ../shared/device/pack.sh                                   # builds, lays out .device/ (ignored by git)
#   mkdir -p .device/data && cp ../shared/data/tinyshakespeare.txt .device/data/
# then send the checkout with `.device` carried explicitly (it is git-ignored), and run there:
#   bash bench/gpu-check.sh
# Steps (each logged to $OUT/<step>.log; a summary line per step; exit status 1 if any failed):
#   info, the gpu-tagged JUnit tests, native-test/run-all.sh, a 200-step tiny-shakespeare training
#   run with the cuda backend (graphs, --no-graph, tf32), 200-step runs under compute-sanitizer
#   memcheck and racecheck.
set -uo pipefail
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
DATA=${DATA:-.device/data/tinyshakespeare.txt}
[ -f "$DATA" ] || { echo "gpu-check.sh: corpus $DATA missing (copy ../shared/data/tinyshakespeare.txt into .device/data/ before sending)" >&2; exit 2; }
status=0
step() { # step <name> <command...>
  local name=$1; shift
  local t0=$SECONDS
  if "$@" >"$OUT/$name.log" 2>&1; then echo "PASS $name ($((SECONDS - t0))s)"
  else echo "FAIL $name ($((SECONDS - t0))s): see $OUT/$name.log"; tail -15 "$OUT/$name.log"; status=1; fi
}
TRAIN=(train --backend cuda --data "$DATA" --max-iters 200 --model lstm --layers 2 --hidden 128 --batch 50 --seq 50
       --val-every 100 --checkpoint-every 200 --print-every 50 --seed 1)

step info bash .device/on-gpu.sh info
cat "$OUT/info.log"
step junit-gpu bash .device/on-gpu.sh tests --include-tag gpu --include-package org.charrnn.backend.cuda \
     --reports-dir "$OUT/junit"
step native-tests bash native-test/run-all.sh
step train-200 bash .device/on-gpu.sh java org.charrnn.cli.Main "${TRAIN[@]}" --out "$OUT/run-plain"
step train-200-no-graph bash .device/on-gpu.sh java org.charrnn.cli.Main "${TRAIN[@]}" --no-graph --out "$OUT/run-nograph"
step train-200-tf32 bash .device/on-gpu.sh java org.charrnn.cli.Main "${TRAIN[@]}" --precision tf32 --out "$OUT/run-tf32"
# Sanitizers: 200 steps of a smaller model keep the slowdown (memcheck ~10-50x, racecheck more) bounded.
SAN=(train --backend cuda --data "$DATA" --max-iters 200 --model lstm --layers 2 --hidden 64 --batch 16 --seq 32
     --val-every 100 --checkpoint-every 200 --print-every 50 --seed 1)
TOOL=memcheck step memcheck bash .device/on-gpu.sh sanitize org.charrnn.cli.Main "${SAN[@]}" --out "$OUT/run-memcheck"
TOOL=racecheck step racecheck bash .device/on-gpu.sh sanitize org.charrnn.cli.Main "${SAN[@]}" --out "$OUT/run-racecheck"
for name in memcheck racecheck; do
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$OUT/$name.log" | tail -2 | sed "s/^/$name: /"
done
[ $status -eq 0 ] && echo "gpu-check.sh: all steps passed" || echo "gpu-check.sh: some steps FAILED"
exit $status
