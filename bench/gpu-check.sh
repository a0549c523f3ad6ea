#!/usr/bin/env bash
# Every GPU check and benchmark of the CUDA and OpenCL backends, in one run on the GPU machine, from the
# project root; logs and JSON lines go to $OUT (default ./gpu-check-out), a summary line per step.
#
# Prepare here (the GPU machine has no Java, Maven or network, and ../shared does not arrive there):
#   ../shared/device/pack.sh                                   # builds, lays out .device/ (git-ignored)
#   mkdir -p .device/data && cp ../shared/data/tinyshakespeare.txt .device/data/
# then one device `run` with carry [".device"] and the command line
#   OUT=$OUT bash bench/gpu-check.sh
# STEPS="info junit ..." runs a subset (names below). Exit status 1 if any step failed.
# One device call may run at most 10 minutes; if the whole list does not fit, split it in two calls:
#   STEPS="info rates junit verify-cuda verify-persistent verify-persistent-backward verify-persistent-cluster verify-persistent-cluster-tf32 verify-persistent-tf32 verify-persistent-bf16 native train"   then   STEPS="rates memcheck racecheck verify-ocl bench bench-rnn"
#
# What each step shows (the bar of the CUDA and OpenCL issues):
#   rates        native-test/probe_rates: the cost model's rates measured (grid barrier, a k-tile's
#                latency, L2 to all blocks, mma latency and rate; on sm_90 the cluster barrier and how
#                many clusters of 8 blocks are resident at once) into $OUT/rates.json, which the
#                forced persistent runs of bench-rnn hand to the model (-Dcharrnn.persistent.rates):
#                their log lines then give the model's estimates at the measured rates
#   junit        gpu-tagged JUnit tests: every kernel family and whole steps vs the fp64 reference
#   verify-cuda  `charrnn verify --backend cuda`: all checks pass
#   verify-persistent  the same with the persistent LSTM, GRU and RNN kernels forced
#   verify-persistent-backward  the same with each persistent backward of the LSTM and GRU forced in turn
#                (-Dcharrnn.persistent.backward=rows, then =columns)
#   verify-persistent-cluster  the same in the cluster layout (-Dcharrnn.persistent.layout=cluster: sm_90's
#                clusters of 8 blocks, each cluster its own rows of the batch, a cluster barrier a step),
#                in fp32 and (verify-persistent-cluster-tf32) on TF32 tensor cores
#   verify-persistent-tf32  the same in TF32: the products on tensor cores (mma.sync m16n8k8)
#   verify-persistent-bf16  the same in bf16 (W_hh slice in bf16, mma.sync m16n8k16)
#   verify-ocl   `charrnn verify --backend opencl --device <NVIDIA>`: the parity suite on NVIDIA's OpenCL
#   native       native-test/run-all.sh: standalone kernel harnesses vs plain C, with timings
#   train        200 tiny-shakespeare steps on cuda (graphs, then --no-graph, then tf32) and on the
#                reference with the same seed: fp32 final loss within 1% of the reference's
#   memcheck, racecheck   12 training steps (dropout, graphs, validation, sampling) under compute-sanitizer: zero errors
#   bench        charrnn bench (cuda fp32, cuda tf32, opencl) and PyTorch's baseline (bench/torch_baseline.py,
#                cuDNN, eager and CUDA graph, fp32 and TF32) on the same rows, then the comparison table
#   bench-rnn    the recurrence's kernels against each other (issue #16): every grid row forced stepwise,
#                and the small row (L2 H256 B50 T50, each cell) forced persistent (the model's layout),
#                the LSTM and GRU once more with the column-stationary backward, and each cell in the
#                grid and in the cluster layout; `auto` is in bench's rows. With $OUT/rates.json
#                (step rates) each run's log line gives the model's estimates at the measured rates.
set -uo pipefail
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
DATA=${DATA:-.device/data/tinyshakespeare.txt}
STEPS=${STEPS:-"info rates junit verify-cuda verify-persistent verify-persistent-backward verify-persistent-cluster verify-persistent-cluster-tf32 verify-persistent-tf32 verify-persistent-bf16 verify-ocl native train memcheck racecheck bench bench-rnn"}
[ -f "$DATA" ] || { echo "gpu-check.sh: corpus $DATA missing (copy ../shared/data/tinyshakespeare.txt into .device/data/ before sending)" >&2; exit 2; }
GPU=.device/on-gpu.sh
bash $GPU info >/dev/null 2>&1   # unpacks the Java runtime into /tmp/jre
# PoCL and NVIDIA's OpenCL install signal handlers over the JVM's; libjsig chains them.
[ -f /tmp/jre/lib/libjsig.so ] && export LD_PRELOAD=/tmp/jre/lib/libjsig.so
status=0
want() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
step() { # step <name> <timeout s> <command...>
  local name=$1 limit=$2; shift 2
  want "$name" || return 0
  local t0=$SECONDS run=(timeout "$limit")
  declare -F "$1" >/dev/null && run=()   # shell functions run as they are (their commands are bounded)
  if "${run[@]}" "$@" >"$OUT/$name.log" 2>&1; then echo "PASS $name ($((SECONDS - t0))s)"
  else echo "FAIL $name ($((SECONDS - t0))s): see $OUT/$name.log"; tail -15 "$OUT/$name.log"; status=1; fi
}
charrnn() { bash $GPU java org.charrnn.cli.Main "$@"; }
final_loss() { grep '"type":"iter"' "$1/metrics.jsonl" | tail -1 | sed 's/.*"loss":\([0-9.eE+-]*\).*/\1/'; }

TRAIN=(train --data "$DATA" --max-iters 200 --model lstm --layers 2 --hidden 128 --batch 50 --seq 50
       --val-every 100 --checkpoint-every 200 --print-every 50 --seed 1 --quiet --cache-dir "$OUT/cache")
# Under the sanitizers every launch is slowed many times over: 12 steps cover every kernel of
# training (eager warm-up, graph capture at step 3, replays), validation and the checkpoint sample.
SAN=(train --backend cuda --data "$DATA" --max-iters 12 --model lstm --layers 2 --hidden 64 --batch 16 --seq 32
     --dropout 0.1 --val-frac 0.002 --val-every 12 --checkpoint-every 12 --print-every 4 --seed 1 --quiet --cache-dir "$OUT/cache")

step info 60 bash $GPU info
want info && cat "$OUT/info.log"
probe_rates() {
  make -s -j"$(nproc)" -C native-test build/probe_rates && native-test/build/probe_rates "$OUT/rates.json"
}
step rates 180 probe_rates
want rates && tail -9 "$OUT/rates.log"
# the cost model at the measured rates, where step rates wrote them (this call or an earlier one)
RATES=()
[ -s "$OUT/rates.json" ] && RATES=("-Dcharrnn.persistent.rates=$OUT/rates.json")
# A CUDA test that cannot reach the device skips (assumption) rather than fails, so on the GPU machine
# every test found must also have succeeded: aborted (skipped) tests fail this step.
junit_all() {
  timeout 300 bash $GPU tests --include-tag gpu --reports-dir "$OUT/junit" || return 1
  local found ok
  found=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/junit.log" | awk '/tests found/ {print $2}')
  ok=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/junit.log" | awk '/tests successful/ {print $2}')
  echo "gpu tests: $ok of $found successful"
  [ -n "$found" ] && [ "$found" -gt 0 ] && [ "$found" = "$ok" ]
}
step junit 300 junit_all
step verify-cuda 300 charrnn verify --backend cuda
step verify-persistent 300 charrnn verify --backend cuda --rnn-kernel persistent
verify_backwards() {
  local k
  for k in rows columns; do
    echo "== -Dcharrnn.persistent.backward=$k"
    timeout 300 bash $GPU java -Dcharrnn.persistent.backward=$k org.charrnn.cli.Main verify --backend cuda \
        --rnn-kernel persistent || return 1
  done
}
step verify-persistent-backward 600 verify_backwards
step verify-persistent-cluster 300 bash $GPU java -Dcharrnn.persistent.layout=cluster org.charrnn.cli.Main verify \
    --backend cuda --rnn-kernel persistent
step verify-persistent-cluster-tf32 300 bash $GPU java -Dcharrnn.persistent.layout=cluster org.charrnn.cli.Main verify \
    --backend cuda --rnn-kernel persistent --precision tf32
step verify-persistent-tf32 300 charrnn verify --backend cuda --rnn-kernel persistent --precision tf32
step verify-persistent-bf16 300 charrnn verify --backend cuda --rnn-kernel persistent --precision bf16
ocl_nv=$(charrnn devices 2>/dev/null | awk '$1 == "opencl" && /NVIDIA/ {print $2; exit}')
if [ -n "$ocl_nv" ]; then
  step verify-ocl 300 charrnn verify --backend opencl --device "$ocl_nv"
elif want verify-ocl; then
  echo "FAIL verify-ocl: no NVIDIA OpenCL device listed by charrnn devices"; status=1
fi
step native 300 bash native-test/run-all.sh

train_all() {
  charrnn "${TRAIN[@]}" --backend cuda --out "$OUT/run-cuda" || return 1
  charrnn "${TRAIN[@]}" --backend cuda --no-graph --out "$OUT/run-cuda-nograph" || return 1
  charrnn "${TRAIN[@]}" --backend cuda --precision tf32 --out "$OUT/run-cuda-tf32" || return 1
  charrnn "${TRAIN[@]}" --backend reference --out "$OUT/run-reference" || return 1
  local c r g t
  c=$(final_loss "$OUT/run-cuda"); g=$(final_loss "$OUT/run-cuda-nograph")
  t=$(final_loss "$OUT/run-cuda-tf32"); r=$(final_loss "$OUT/run-reference")
  echo "loss after 200 steps: cuda $c, cuda --no-graph $g, cuda tf32 $t, reference $r"
  awk -v c="$c" -v g="$g" -v r="$r" 'BEGIN { d = (c - r) / r; if (d < 0) d = -d; e = (g - r) / r; if (e < 0) e = -e;
      printf "relative difference to the reference: graph %.4f%%, no graph %.4f%%\n", 100 * d, 100 * e;
      exit (d <= 0.01 && e <= 0.01) ? 0 : 1 }'
}
step train 600 train_all
want train && grep -E "loss after|relative" "$OUT/train.log"
TOOL=memcheck step memcheck 600 bash $GPU sanitize org.charrnn.cli.Main "${SAN[@]}" --out "$OUT/run-memcheck"
TOOL=racecheck step racecheck 600 bash $GPU sanitize org.charrnn.cli.Main "${SAN[@]}" --out "$OUT/run-racecheck"
for name in memcheck racecheck; do
  want $name && grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$OUT/$name.log" | tail -2 | sed "s/^/$name: /"
done

bench_all() {
  local rows=(--grid all --steps 30 --warmup 8 --quiet)
  charrnn bench --backend cuda "${rows[@]}" --json "$OUT/charrnn.jsonl" || return 1
  charrnn bench --backend cuda --precision tf32 "${rows[@]}" --json "$OUT/charrnn.jsonl" || return 1
  [ -n "$ocl_nv" ] && { charrnn bench --backend opencl --device "$ocl_nv" --grid all --steps 10 --warmup 3 --quiet \
      --json "$OUT/charrnn.jsonl" || return 1; }
  # PyTorch's baseline from this checkout, on the same grid rows: eager and graphed, fp32 and TF32.
  for g in 0 1; do for t in 0 1; do
    bash $GPU torch bench/torch_baseline.py --device cuda --grid all --steps 30 --warmup 8 --graph $g --tf32 $t \
        >> "$OUT/torch.jsonl" || return 1
  done; done
  charrnn bench --compare --from "$OUT/charrnn.jsonl" --from "$OUT/torch.jsonl"
}
step bench 600 bench_all
want bench && tail -30 "$OUT/bench.log"

bench_rnn() {
  charrnn bench --backend cuda --rnn-kernel stepwise --grid all --steps 30 --warmup 8 --quiet \
      --json "$OUT/rnn-kernels.jsonl" || return 1
  bash $GPU java ${RATES[@]+"${RATES[@]}"} org.charrnn.cli.Main bench --backend cuda --rnn-kernel persistent --model lstm,gru,rnn \
      --layers 2 --hidden 256 --batch 50 --steps 30 --warmup 8 --quiet --json "$OUT/rnn-kernels.jsonl" || return 1
  bash $GPU java ${RATES[@]+"${RATES[@]}"} -Dcharrnn.persistent.backward=columns org.charrnn.cli.Main bench --backend cuda --rnn-kernel persistent \
      --model lstm,gru --layers 2 --hidden 256 --batch 50 --steps 30 --warmup 8 --quiet \
      --json "$OUT/rnn-kernels.jsonl" || return 1
  local layout
  for layout in grid cluster; do
    bash $GPU java ${RATES[@]+"${RATES[@]}"} -Dcharrnn.persistent.layout=$layout org.charrnn.cli.Main bench --backend cuda \
        --rnn-kernel persistent --model lstm,gru,rnn --layers 2 --hidden 256 --batch 50 --steps 30 --warmup 8 --quiet \
        --json "$OUT/rnn-kernels.jsonl" || return 1
  done
  charrnn bench --compare --from "$OUT/rnn-kernels.jsonl" --from "$OUT/charrnn.jsonl" --from "$OUT/torch.jsonl"
}
step bench-rnn 600 bench_rnn
want bench-rnn && { tail -30 "$OUT/bench-rnn.log"; grep "persistent, forced" "$OUT/bench-rnn.log" | sort -u; }
[ $status -eq 0 ] && echo "gpu-check.sh: all steps passed" || echo "gpu-check.sh: some steps FAILED"
exit $status
