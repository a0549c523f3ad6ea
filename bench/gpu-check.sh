#!/usr/bin/env bash
# Every GPU check and benchmark of the CUDA and OpenCL backends, in one run on the GPU machine, from the
# project root; logs and JSON lines go to $OUT (default ./gpu-check-out), a summary line per step.
#
# Prepare here (the GPU machine has no Java, Maven or network, and ../shared does not arrive there):
#   CUDA_ARCHS=90 ../shared/device/pack.sh                     # builds, lays out .device/ (git-ignored)
# (the lent GPUs, H100 and H200, are sm_90: the kernels for sm_90 alone keep the kit near 45 MiB,
# every architecture's near 59 of the 64 MiB a run may carry)
#   mkdir -p .device/data && cp ../shared/data/tinyshakespeare.txt .device/data/
# then one device `run` with carry [".device"], timeout_s 600 and the command line
#   DEADLINE=540 OUT=$OUT bash bench/gpu-check.sh
# Steps run in the order of $STEPS (default: all, in the order below: the speed bar first, so a short
# loan measures it before anything else). DEADLINE=S starts no step later than S - 20 seconds after the
# start and cuts each step's time limit to what is left, so one device call ends with every finished
# step's logs under $OUT. A later loan runs what was skipped: STEPS="junit verify-cuda ..." (the
# SKIP lines name them). Exit status 1 if a step failed, 3 if none failed but some were skipped, 2 on
# bad input. Step names:
#
#   info         nvidia-smi's name, driver and memory; the Java runtime; the nvcc and architectures the
#                kit's kernels were built for (kernels/charrnn.fatbin.build), failing where the GPU's
#                own architecture is not among them (its PTX would JIT: no sm_90 cluster kernels)
#   rates        native-test/probe_rates: the cost model's rates measured (grid barrier, a k-tile's
#                latency, L2 to all blocks, mma latency and rate; on sm_90 the cluster barrier and how
#                many clusters of 8 blocks are resident at once, and what an SM stores into its cluster's
#                shared memory per µs; beside them, for layouts not built yet, the barrier in clusters
#                of 2 and 4 blocks, and of 16 (non-portable): how many are resident, their barrier and
#                exchange rate; and one fp32 FMA product of the LSTM H256 B50 forward's block with x in
#                either layout, against ProductClocks' 1088 and 1280 clocks, the FFMAs sharing the
#                issue slots with the loads) into $OUT/rates.json; then `charrnn bench --probe` adds the step cost
#                model's rates (a graph node's and a cuBLAS GEMM's floor, the graph launch, the step's host
#                copy, HBM, GEMM efficiency in fp32 and TF32, the time of each GEMM shape of the grid's
#                steps: gemm_us_by_shape, about 290 shapes, some 30 s) to the same file, which the
#                forced persistent runs of bench-rnn hand to the model (-Dcharrnn.persistent.rates):
#                their log lines then give the model's estimates at the measured rates, as bar's
#                predictions do for whole steps
#   verify-persistent  `charrnn verify --backend cuda --rnn-kernel persistent`: the parity suite on the
#                persistent LSTM, GRU and RNN kernels (the layout auto picks: clusters on sm_90)
#   bench        charrnn bench (cuda fp32, cuda tf32; --grid all) and PyTorch's baseline
#                (bench/torch_baseline.py, cuDNN, eager and CUDA graph, fp32 and TF32) on the same rows,
#                then the comparison table
#   bar          `charrnn bench --bar` over bench's rows: 5x PyTorch with a CUDA graph on the B <= 50
#                rows, 2x on the large rows, peak memory no higher than eager PyTorch's (fails if missed);
#                then the step cost model's prediction of the same rows (`charrnn bench --predict`, fp32
#                and tf32; at the assumed rates, whose choices of kernels bench's runs made, and with
#                $OUT/rates.json at the measured rates) beside what bench measured: each row's prediction
#                over its measurement, and their range
#   profile      Nsight Compute (ncu, one metric: gpu__time_duration.sum) over a bench run of each small row
#                (LSTM L1 H128, LSTM, GRU and RNN L2 H256; B50 T50; fp32 and TF32; eager, so each kernel
#                is profiled on its own), its CSV in $OUT/profile-<row>-<precision>.csv; then `charrnn bench
#                --predict --profile` sets each kernel's duration a step beside the step cost model's price
#                of the same operation (with $OUT/rates.json at the measured rates): where the model is
#                wrong, kernel by kernel, which the whole steps of bench and bar cannot say
#   bench-rnn    the recurrence's kernels against each other (issue #16): every grid row forced stepwise,
#                and the small row (L2 H256 B50 T50, each cell) forced persistent (the model's layout),
#                the LSTM and GRU once more with the column-stationary backward, and each cell in the
#                grid layout (in the model's batch groups, then in one: -Dcharrnn.persistent.groups=1)
#                and in the cluster layout, the latter without and with the exchange through
#                distributed shared memory in every pass that can take it
#                (-Dcharrnn.persistent.exchange=off, on), the LSTM and GRU once more there with the
#                column-stationary backward (-Dcharrnn.persistent.backward=columns; the model picks the
#                row-stationary one of persistent_cluster_rows.cuh), and with it on once more with the weight
#                gradients on the main stream (-Dcharrnn.overlap=off; auto puts them on a second stream
#                there), the RNN's two layers as one wavefront a pass and one layer a launch, in fp32
#                and TF32 (-Dcharrnn.persistent.wavefront=on, off, persistent_rnn_pair.cu: the runs
#                above take auto's pick, by the cost model at the measured rates); then the two large LSTM
#                rows with the weight gradients on a second stream (-Dcharrnn.overlap=on;
#                auto does not there: bench's rows); and the small row in TF32 and in fp32 in clusters
#                with the W_hh slice (fragments, fp32 rows) read from shared memory every step and kept
#                in registers (-Dcharrnn.persistent.registers=off, auto); `auto` is in bench's rows. Last, layer 0's
#                input projection by row (-Dcharrnn.tokenProjection=off; auto projects by token on every
#                bench row) on the rows it changes most, LSTM L2 H1024 B128 T100 fp32 and L1 H128 B50
#                TF32, into token-rows.jsonl with a comparison table of their own; and the large rows'
#                layers one after another (-Dcharrnn.layerPipeline=off; auto pipelines them by chunks
#                of the window on two streams there), L2 H1024 B128 fp32 and TF32 and L3 H512 B128
#                TF32, into pipeline-rows.jsonl with a table of their own (the overlap=on runs above
#                set it off too), and L2 H1024 TF32 pipelined in chunks of 5 and of 20 steps
#                (-Dcharrnn.pipelineChunk; auto's 10 is in bench's rows) into pipeline-chunks.jsonl; and
#                LSTM L1 H128 and L2 H256 B50 T50 in fp32 and TF32 with the decoder apart
#                (-Dcharrnn.cuda.fusedDecoder=off; auto fuses it into decoder_xent on bench's rows where
#                the model prices that faster) into decoder-rows.jsonl, set beside bench's rows. With $OUT/rates.json (step rates) each run's log line gives the
#                model's estimates at the measured rates.
#   junit        gpu-tagged JUnit tests: every kernel family and whole steps vs the fp64 reference (not
#                those tagged emulator: tests of the emulated device, which skip on a GPU)
#   verify-cuda  `charrnn verify --backend cuda`: all checks pass
#   verify-persistent-backward  verify-persistent with each persistent backward of the LSTM and GRU
#                forced in turn (-Dcharrnn.persistent.backward=rows, then =columns)
#   verify-persistent-cluster  the same in the cluster layout (-Dcharrnn.persistent.layout=cluster: sm_90's
#                clusters of 8 blocks, each cluster its own rows of the batch, a cluster barrier a step)
#                with the exchange through distributed shared memory in every pass that can take it
#                (-Dcharrnn.persistent.exchange=on; auto's choice runs in verify-persistent), each
#                backward of the LSTM and GRU in turn (-Dcharrnn.persistent.backward=rows: the
#                row-stationary one of persistent_cluster_rows.cuh, then =columns), then the RNN's
#                layers two a launch (-Dcharrnn.persistent.wavefront=on), in fp32 and
#                (verify-persistent-cluster-tf32) on TF32 tensor cores
#   verify-persistent-tf32  the same in TF32: the products on tensor cores (mma.sync m16n8k8)
#   verify-persistent-bf16  the same in bf16 (W_hh slice in bf16, mma.sync m16n8k16)
#   native       native-test/run-all.sh: standalone kernel harnesses vs plain C, with timings
#   train        200 tiny-shakespeare steps on cuda (graphs, then --no-graph, then tf32) and on the
#                reference with the same seed: fp32 final loss within 1% of the reference's
#   memcheck, racecheck   12 training steps (dropout, graphs, validation, sampling) under compute-sanitizer: zero errors
#   verify-ocl   `charrnn verify --backend opencl --device <NVIDIA>`: the parity suite on NVIDIA's OpenCL
#   bench-ocl    charrnn bench --backend opencl on NVIDIA's OpenCL, --grid all, appended to bench's rows
#
# bench/gpu-check-test.sh checks this script's running of steps (order, deadline, time limits, exit
# status) on any machine, with a stand-in for .device/on-gpu.sh; GpuCheckCommandsTest (mvn test)
# that every charrnn command line it sends parses and sets only -Dcharrnn.* properties the code reads.
set -uo pipefail
ALL="info rates verify-persistent bench bar profile bench-rnn junit verify-cuda verify-persistent-backward
     verify-persistent-cluster verify-persistent-cluster-tf32 verify-persistent-tf32 verify-persistent-bf16
     native train memcheck racecheck verify-ocl bench-ocl"
# Each step's time limit in seconds (a step running past it fails).
declare -A LIMIT=([info]=60 [rates]=180 [verify-persistent]=300 [bench]=480 [bench-rnn]=520 [bar]=60 [profile]=240
  [junit]=300 [verify-cuda]=300 [verify-persistent-backward]=600 [verify-persistent-cluster]=300
  [verify-persistent-cluster-tf32]=300 [verify-persistent-tf32]=300 [verify-persistent-bf16]=300
  [native]=300 [train]=600 [memcheck]=600 [racecheck]=600 [verify-ocl]=300 [bench-ocl]=300)
OUT=${OUT:-$PWD/gpu-check-out}
DATA=${DATA:-.device/data/tinyshakespeare.txt}
GPU=${GPU:-.device/on-gpu.sh} # the kit's runner (bench/gpu-check-test.sh passes a stand-in)
STEPS=${STEPS:-$ALL}
DEADLINE=${DEADLINE:-0}
MIN_LEFT=${MIN_LEFT:-20} # no step starts with less time than this before DEADLINE

# charrnn [-Dname=value ...] <command> [args]: the CLI on the kit's Java, system properties first.
charrnn() {
  local props=()
  while [[ ${1:-} == -D* ]]; do props+=("$1"); shift; done
  bash "$GPU" java ${props[@]+"${props[@]}"} org.charrnn.cli.Main "$@"
}
final_loss() { grep '"type":"iter"' "$1/metrics.jsonl" | tail -1 | sed 's/.*"loss":\([0-9.eE+-]*\).*/\1/'; }
# NVIDIA's OpenCL device index, as charrnn devices lists it (asked once); fails, saying so, without one.
nvidia_ocl() {
  [ -f "$OUT/ocl-device.txt" ] ||
    charrnn devices 2>/dev/null | awk '$1 == "opencl" && /NVIDIA/ {print $2; exit}' >"$OUT/ocl-device.txt"
  [ -s "$OUT/ocl-device.txt" ] || { echo "no NVIDIA OpenCL device listed by charrnn devices" >&2; return 1; }
  cat "$OUT/ocl-device.txt"
}
# The JSON-lines files that exist, each after --from.
from_existing() { local f; for f in "$@"; do [ -s "$OUT/$f" ] && printf -- '--from\n%s\n' "$OUT/$f"; done; }

TRAIN=(train --data "$DATA" --max-iters 200 --model lstm --layers 2 --hidden 128 --batch 50 --seq 50
       --val-every 100 --checkpoint-every 200 --print-every 50 --seed 1 --quiet --cache-dir "$OUT/cache")
# Under the sanitizers every launch is slowed many times over: 12 steps cover every kernel of
# training (eager warm-up, graph capture at step 3, replays), validation and the checkpoint sample.
SAN=(train --backend cuda --data "$DATA" --max-iters 12 --model lstm --layers 2 --hidden 64 --batch 16 --seq 32
     --dropout 0.1 --val-frac 0.002 --val-every 12 --checkpoint-every 12 --print-every 4 --seed 1 --quiet --cache-dir "$OUT/cache")

# Each step_<name> runs in its own process (bash gpu-check.sh --step <name>) under its time limit, its
# output in $OUT/<name>.log; report_<name>, where defined, prints its summary after it.
step_info() {
  bash "$GPU" info || return 1
  local record cc
  record="$(dirname "$GPU")/app/classes/kernels/charrnn.fatbin.build"
  [ -s "$record" ] || { echo "no $record: the kit has no CUDA kernels (was nvcc on PATH for pack.sh?)"; return 1; }
  echo "kernels: $(cat "$record")"
  command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: the GPU's architecture not compared"; return 0; }
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
  grep -Eq "archs( [0-9]+)* $cc( |;)" "$record" \
    || { echo "the kernels have no sm_$cc code for this GPU: pack again with CUDA_ARCHS=$cc"; return 1; }
}
report_info() { cat "$OUT/info.log"; }
step_rates() {
  local rc=0
  { make -s -j"$(nproc)" -C native-test build/probe_rates && native-test/build/probe_rates "$OUT/rates.json"; } || rc=1
  # the step cost model's rates into the same file (after probe_rates, which writes it anew)
  charrnn bench --backend cuda --probe "$OUT/rates.json" || rc=1
  return $rc
}
report_rates() { tail -27 "$OUT/rates.log"; }
step_verify_persistent() { charrnn verify --backend cuda --rnn-kernel persistent; }
step_bench() {
  local rows=(--grid all --steps 30 --warmup 8 --quiet)
  charrnn bench --backend cuda "${rows[@]}" --json "$OUT/charrnn.jsonl" || return 1
  charrnn bench --backend cuda --precision tf32 "${rows[@]}" --json "$OUT/charrnn.jsonl" || return 1
  # PyTorch's baseline from this checkout, on the same grid rows: eager and graphed, fp32 and TF32.
  local g t
  for g in 0 1; do for t in 0 1; do
    bash "$GPU" torch bench/torch_baseline.py --device cuda --grid all --steps 30 --warmup 8 --graph $g --tf32 $t \
        >>"$OUT/torch.jsonl" || return 1
  done; done
  charrnn bench --compare --from "$OUT/charrnn.jsonl" --from "$OUT/torch.jsonl"
}
report_bench() { tail -30 "$OUT/bench.log"; }
step_bench_rnn() {
  local layout rates=() small=(--layers 2 --hidden 256 --batch 50 --steps 30 --warmup 8 --quiet --json "$OUT/rnn-kernels.jsonl")
  # the cost model at the measured rates, where step rates wrote them (this call or an earlier one)
  [ -s "$OUT/rates.json" ] && rates=("-Dcharrnn.persistent.rates=$OUT/rates.json")
  charrnn bench --backend cuda --rnn-kernel stepwise --grid all --steps 30 --warmup 8 --quiet \
      --json "$OUT/rnn-kernels.jsonl" || return 1
  charrnn ${rates[@]+"${rates[@]}"} bench --backend cuda --rnn-kernel persistent --model lstm,gru,rnn "${small[@]}" ||
      return 1
  charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.backward=columns bench --backend cuda --rnn-kernel persistent \
      --model lstm,gru "${small[@]}" || return 1
  # the grid layout in the model's batch groups, then in one group of every row (-Dcharrnn.persistent.groups=1);
  # the LSTM's and GRU's backward the model's pick in each (row-stationary at this row, in the groups too)
  charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=grid bench --backend cuda --rnn-kernel persistent \
      --model lstm,gru,rnn "${small[@]}" || return 1
  charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=grid -Dcharrnn.persistent.groups=1 bench \
      --backend cuda --rnn-kernel persistent --model lstm,gru,rnn "${small[@]}" || return 1
  local x
  for x in off on; do
    charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=$x bench \
        --backend cuda --rnn-kernel persistent --model lstm,gru,rnn "${small[@]}" || return 1
  done
  # the LSTM's and GRU's column-stationary backward in clusters (the runs above take the model's pick,
  # the row-stationary one at this row)
  charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=on \
      -Dcharrnn.persistent.backward=columns bench --backend cuda --rnn-kernel persistent --model lstm,gru \
      "${small[@]}" || return 1
  # the weight gradients on one stream (the runs above put them on a second one, as auto does there)
  charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=on \
      -Dcharrnn.overlap=off bench --backend cuda --rnn-kernel persistent --model lstm,gru,rnn "${small[@]}" || return 1
  # the RNN's two layers as one wavefront a pass (persistent_rnn_pair.cu) and one layer a launch (the
  # runs above take auto's pick)
  local w v
  for w in fp32 tf32; do
    for v in on off; do
      charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=on \
          -Dcharrnn.persistent.wavefront=$v bench --backend cuda --rnn-kernel persistent --model rnn \
          --precision $w "${small[@]}" || return 1
    done
  done
  # TF32 on tensor cores, each warp's W_hh fragments in its registers (auto) and read from shared
  # memory every step (-Dcharrnn.persistent.registers=off): the resident plan of persistent_mma.cuh;
  # then fp32's FMAs, each thread's rows of W_hh in its registers or read likewise (CrResidentA)
  local p
  for p in tf32 fp32; do
    for x in off auto; do
      charrnn ${rates[@]+"${rates[@]}"} -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.registers=$x bench \
          --backend cuda --precision $p --rnn-kernel persistent --model lstm,gru,rnn "${small[@]}" || return 1
    done
  done
  # and on a second stream beside the stepwise recurrence of the large rows (auto keeps them on one,
  # and pipelines their layers there instead: off here, so that the second stream runs only them)
  charrnn -Dcharrnn.overlap=on -Dcharrnn.layerPipeline=off bench --backend cuda --model lstm --layers 3 --hidden 512 \
      --batch 128 --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/rnn-kernels.jsonl" || return 1
  charrnn -Dcharrnn.overlap=on -Dcharrnn.layerPipeline=off bench --backend cuda --model lstm --layers 2 --hidden 1024 \
      --batch 128 --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/rnn-kernels.jsonl" || return 1
  local from
  mapfile -t from < <(from_existing rnn-kernels.jsonl charrnn.jsonl torch.jsonl)
  charrnn bench --compare "${from[@]}"
  # layer 0's input projection by row, against bench's rows (by token) in their own table
  charrnn -Dcharrnn.tokenProjection=off bench --backend cuda --model lstm --layers 2 --hidden 1024 --batch 128 \
      --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/token-rows.jsonl" || return 1
  charrnn -Dcharrnn.tokenProjection=off bench --backend cuda --precision tf32 --model lstm --layers 1 --hidden 128 \
      --batch 50 --seq 50 --steps 30 --warmup 8 --quiet --json "$OUT/token-rows.jsonl" || return 1
  mapfile -t from < <(from_existing token-rows.jsonl torch.jsonl)
  charrnn bench --compare "${from[@]}"
  # the large rows' layers one after another (auto pipelines them by chunks on two streams), against
  # bench's rows in their own table
  charrnn -Dcharrnn.layerPipeline=off bench --backend cuda --model lstm --layers 2 --hidden 1024 --batch 128 \
      --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/pipeline-rows.jsonl" || return 1
  charrnn -Dcharrnn.layerPipeline=off bench --backend cuda --precision tf32 --model lstm --layers 2 --hidden 1024 \
      --batch 128 --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/pipeline-rows.jsonl" || return 1
  charrnn -Dcharrnn.layerPipeline=off bench --backend cuda --precision tf32 --model lstm --layers 3 --hidden 512 \
      --batch 128 --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/pipeline-rows.jsonl" || return 1
  mapfile -t from < <(from_existing pipeline-rows.jsonl torch.jsonl)
  charrnn bench --compare "${from[@]}"
  # the chunk length on either side of the default (10 steps), on the row the pipeline changes most:
  # pipeline-chunks.jsonl holds chunks of 5 steps, then of 20
  local c
  for c in 5 20; do
    echo "L2 H1024 B128 T100 TF32 pipelined in chunks of $c steps:"
    charrnn -Dcharrnn.pipelineChunk=$c bench --backend cuda --precision tf32 --model lstm --layers 2 --hidden 1024 \
        --batch 128 --seq 100 --steps 20 --warmup 5 --quiet --json "$OUT/pipeline-chunks.jsonl" || return 1
  done
  mapfile -t from < <(from_existing pipeline-chunks.jsonl torch.jsonl)
  charrnn bench --compare "${from[@]}"
  # the decoder apart (a GEMM, softmax_xent, a GEMM: -Dcharrnn.cuda.fusedDecoder=off) on the rows
  # where auto fuses it into decoder_xent (bench's rows), into decoder-rows.jsonl and a table of its own
  local row l h
  for p in fp32 tf32; do
    for row in "1 128" "2 256"; do
      read -r l h <<<"$row"
      charrnn -Dcharrnn.cuda.fusedDecoder=off bench --backend cuda --precision $p --model lstm --layers $l \
          --hidden $h --batch 50 --seq 50 --steps 30 --warmup 8 --quiet --json "$OUT/decoder-rows.jsonl" || return 1
    done
  done
  mapfile -t from < <(from_existing decoder-rows.jsonl charrnn.jsonl torch.jsonl)
  charrnn bench --compare "${from[@]}"
}
report_bench_rnn() { tail -64 "$OUT/bench-rnn.log"; grep "persistent, forced" "$OUT/bench-rnn.log" | sort -u; }
step_bar() {
  local rc=0 p rates=()
  charrnn bench --bar --from "$OUT/charrnn.jsonl" --from "$OUT/torch.jsonl" || rc=1
  [ -s "$OUT/rates.json" ] && rates=("-Dcharrnn.persistent.rates=$OUT/rates.json")
  for p in fp32 tf32; do
    # at the assumed rates (auto's choices as bench made them), then at the measured ones
    echo "== --predict --precision $p, assumed rates"
    charrnn bench --predict --grid all --precision $p --from "$OUT/torch.jsonl" --from "$OUT/charrnn.jsonl" || return 1
    [ ${#rates[@]} -gt 0 ] || continue
    echo "== --predict --precision $p, measured rates"
    charrnn "${rates[@]}" bench --predict --grid all --precision $p --from "$OUT/torch.jsonl" \
        --from "$OUT/charrnn.jsonl" || return 1
  done
  return $rc
}
report_bar() { grep -E '^\||^bar|^memory|^predicted|^model|^out of reach|^\* the measured|^==' "$OUT/bar.log"; }
# Each run profiles 5 eager steps; --predict --profile leaves out the first (and whatever ran once).
step_profile() {
  local ncu rc=0 row m l h p f rates=()
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null) || { echo "no ncu on PATH or in /usr/local/cuda/bin"; return 1; }
  [ -s "$OUT/rates.json" ] && rates=("-Dcharrnn.persistent.rates=$OUT/rates.json")
  for row in "lstm 1 128" "lstm 2 256" "gru 2 256" "rnn 2 256"; do
    read -r m l h <<<"$row"
    for p in fp32 tf32; do
      f="$OUT/profile-$m-L$l-H$h-$p.csv"
      "$ncu" --target-processes all --metrics gpu__time_duration.sum --csv --print-units base \
          --print-kernel-base function --cache-control none --clock-control none --log-file "$f" \
          bash "$GPU" java org.charrnn.cli.Main bench --backend cuda --precision $p --model $m --layers $l \
          --hidden $h --batch 50 --seq 50 --no-graph --warmup 2 --steps 3 --split-steps 0 --quiet || { rc=1; continue; }
      charrnn ${rates[@]+"${rates[@]}"} bench --predict --precision $p --model $m --layers $l --hidden $h \
          --batch 50 --seq 50 --profile "$f" || rc=1
    done
  done
  return $rc
}
report_profile() { grep -E '^\| all |under Nsight' "$OUT/profile.log"; }
# A CUDA test that cannot reach the device skips (assumption) rather than fails, so on the GPU machine
# every test found must also have succeeded: aborted (skipped) tests fail this step. The tests of the
# emulated device itself (tag emulator: its late schedule, its profiler's launch log) skip on a GPU,
# so they are left out here; the training tests read the corpus (-Dcharrnn.shakespeare, through
# JAVA_TOOL_OPTIONS: the kit's runner takes no JVM options), else they would skip too.
step_junit() {
  JAVA_TOOL_OPTIONS="-Dcharrnn.shakespeare=$(realpath "$DATA")" \
      bash "$GPU" tests --include-tag gpu --exclude-tag emulator --reports-dir "$OUT/junit" \
      | tee "$OUT/junit-console.txt" || return 1
  local found ok
  found=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/junit-console.txt" | awk '/tests found/ {print $2}')
  ok=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/junit-console.txt" | awk '/tests successful/ {print $2}')
  echo "gpu tests: $ok of $found successful"
  [ -n "$found" ] && [ "$found" -gt 0 ] && [ "$found" = "$ok" ]
}
step_verify_cuda() { charrnn verify --backend cuda; }
step_verify_persistent_backward() {
  local k
  for k in rows columns; do
    echo "== -Dcharrnn.persistent.backward=$k"
    charrnn -Dcharrnn.persistent.backward=$k verify --backend cuda --rnn-kernel persistent || return 1
  done
}
# the cluster layout with each backward of the LSTM and GRU in turn (the row-stationary one exchanges
# nothing; the column-stationary one through distributed shared memory), at precision $1
verify_cluster() {
  local k
  for k in rows columns; do
    echo "== -Dcharrnn.persistent.backward=$k"
    charrnn -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=on -Dcharrnn.persistent.backward=$k \
        verify --backend cuda --rnn-kernel persistent --precision "$1" || return 1
  done
  echo "== -Dcharrnn.persistent.wavefront=on"
  charrnn -Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=on -Dcharrnn.persistent.wavefront=on \
      verify --backend cuda --rnn-kernel persistent --precision "$1" || return 1
}
step_verify_persistent_cluster() { verify_cluster fp32; }
step_verify_persistent_cluster_tf32() { verify_cluster tf32; }
step_verify_persistent_tf32() { charrnn verify --backend cuda --rnn-kernel persistent --precision tf32; }
step_verify_persistent_bf16() { charrnn verify --backend cuda --rnn-kernel persistent --precision bf16; }
step_native() { bash native-test/run-all.sh; }
step_train() {
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
report_train() { grep -E "loss after|relative" "$OUT/train.log"; }
step_memcheck() { TOOL=memcheck bash "$GPU" sanitize org.charrnn.cli.Main "${SAN[@]}" --out "$OUT/run-memcheck"; }
report_memcheck() { grep -E "ERROR SUMMARY" "$OUT/memcheck.log" | tail -1 | sed "s/^/memcheck: /"; }
step_racecheck() { TOOL=racecheck bash "$GPU" sanitize org.charrnn.cli.Main "${SAN[@]}" --out "$OUT/run-racecheck"; }
report_racecheck() { grep -E "RACECHECK SUMMARY|ERROR SUMMARY" "$OUT/racecheck.log" | tail -1 | sed "s/^/racecheck: /"; }
step_verify_ocl() {
  local d
  d=$(nvidia_ocl) && charrnn verify --backend opencl --device "$d"
}
step_bench_ocl() {
  local d
  d=$(nvidia_ocl) && charrnn bench --backend opencl --device "$d" --grid all --steps 10 --warmup 3 --quiet --json "$OUT/charrnn.jsonl"
}

if [ "${1:-}" = --step ]; then # one step, in the process run_step started
  "step_${2//-/_}"
  exit
fi

for name in $STEPS; do
  [ -n "${LIMIT[$name]:-}" ] || { echo "gpu-check.sh: unknown step '$name' (steps: $(echo $ALL))" >&2; exit 2; }
done
case $DEADLINE in '' | *[!0-9]*) echo "gpu-check.sh: DEADLINE must be whole seconds, got '$DEADLINE'" >&2; exit 2 ;; esac
[ -f "$DATA" ] || { echo "gpu-check.sh: corpus $DATA missing (copy ../shared/data/tinyshakespeare.txt into .device/data/ before sending)" >&2; exit 2; }
mkdir -p "$OUT"
bash "$GPU" info >/dev/null 2>&1 # unpacks the Java runtime into /tmp/jre
# PoCL and NVIDIA's OpenCL install signal handlers over the JVM's; libjsig chains them.
[ -f /tmp/jre/lib/libjsig.so ] && export LD_PRELOAD=/tmp/jre/lib/libjsig.so
export OUT DATA GPU

failed="" skipped=""
run_step() {
  local name=$1 limit=${LIMIT[$1]} t0=$SECONDS rc
  if [ "$DEADLINE" -gt 0 ]; then
    local left=$((DEADLINE - SECONDS))
    if [ $left -lt $MIN_LEFT ]; then
      echo "SKIP $name (${left}s left before DEADLINE=$DEADLINE)"
      skipped="$skipped $name"
      return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
  fi
  # timeout signals the step's whole process group when the limit passes: java, nvcc and the rest too.
  timeout "$limit" bash "$0" --step "$name" >"$OUT/$name.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then echo "PASS $name ($((SECONDS - t0))s)"
  else
    [ $rc -eq 124 ] && echo "(gpu-check.sh: stopped after its time limit of ${limit}s)" >>"$OUT/$name.log"
    echo "FAIL $name ($((SECONDS - t0))s$([ $rc -eq 124 ] && echo ", time limit ${limit}s")): see $OUT/$name.log"
    tail -15 "$OUT/$name.log"
    failed="$failed $name"
  fi
  declare -F "report_${name//-/_}" >/dev/null && "report_${name//-/_}"
}
for name in $STEPS; do run_step "$name"; done

[ -n "$skipped" ] && echo "gpu-check.sh: skipped for the deadline (run them next time):$skipped"
if [ -n "$failed" ]; then echo "gpu-check.sh: some steps FAILED:$failed"; exit 1; fi
[ -n "$skipped" ] && exit 3
echo "gpu-check.sh: all steps passed"
