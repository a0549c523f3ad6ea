#!/usr/bin/env bash
# Checks how bench/gpu-check.sh runs its steps, on any machine: a stand-in for .device/on-gpu.sh
# records each call and answers as the kit would (STUB_SLEEP: seconds a verify takes; STUB_FAIL=verify:
# verify fails). Steps run in $STEPS order, DEADLINE skips late steps and cuts time limits (and the
# cut kills the step's processes), failures and skips set the exit status, bad input exits 2.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check <what> <command...>: the command must succeed
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

cat >"$tmp/stub.sh" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$STUB_LOG"
what=$1; shift
case $what in
  info) echo "stand-in GPU, driver 0" ;;
  tests)
    echo "JAVA_TOOL_OPTIONS=${JAVA_TOOL_OPTIONS:-}" >>"$STUB_LOG"
    printf '[        42 tests found           ]\n[        42 tests successful      ]\n' ;;
  torch) echo '{"impl": "pytorch-cudagraph", "cell": "lstm", "layers": 2, "hidden": 256, "batch": 50, "seq": 50, "tf32": false, "ms_per_step": 2.0}' ;;
  java)
    while [[ $1 == -D* ]]; do shift; done
    shift # the main class
    case $1 in
      verify)
        sleep "${STUB_SLEEP:-0}"
        [ "${STUB_FAIL:-}" = verify ] && { echo "verify: 1 of 40 checks FAILED"; exit 1; }
        echo "verify: all 40 checks passed" ;;
      bench)
        json=""
        while [ $# -gt 0 ]; do [ "$1" = --json ] && json=$2; shift; done
        [ -n "$json" ] && echo '{"impl":"charrnn-cuda","cell":"lstm","layers":2,"hidden":256,"batch":50,"seq":50,"ms_per_step":0.4}' >>"$json"
        echo "bench done" ;;
      devices) echo "cuda 0 stand-in" ;;
    esac ;;
esac
STUB
touch "$tmp/corpus.txt"
# the kit's record of its kernels' build, beside the stand-in runner as beside .device/on-gpu.sh
mkdir -p "$tmp/app/classes/kernels" && echo "nvcc /stand-in/nvcc; archs 90; flags " >"$tmp/app/classes/kernels/charrnn.fatbin.build"

# gpu <name> [VAR=value ...]: runs gpu-check.sh with the stand-in; output in $tmp/<name>.out, status in rc
gpu() {
  local name=$1; shift
  rm -rf "$tmp/out" && : >"$tmp/stub.log"
  env GPU="$tmp/stub.sh" STUB_LOG="$tmp/stub.log" DATA="$tmp/corpus.txt" OUT="$tmp/out" "$@" \
      bash bench/gpu-check.sh >"$tmp/$name.out" 2>&1
  rc=$?
}
has() { grep -q -- "$2" "$tmp/$1.out" || { echo "  $1 lacks '$2':"; sed 's/^/    /' "$tmp/$1.out"; return 1; }; }
order() { # order <name> <pattern>...: the patterns appear in $tmp/<name>.out in this order
  local name=$1; shift
  local prev=0 p n
  for p in "$@"; do
    n=$(grep -n -- "$p" "$tmp/$name.out" | head -1 | cut -d: -f1)
    [ -n "$n" ] && [ "$n" -gt "$prev" ] || { echo "  '$p' out of order in:"; sed 's/^/    /' "$tmp/$name.out"; return 1; }
    prev=$n
  done
}

gpu ordered STEPS="bar info verify-persistent"
check "all steps pass: exit 0" [ $rc -eq 0 ]
check "steps run in \$STEPS order" order ordered "PASS bar" "PASS info" "PASS verify-persistent" "all steps passed"
check "a step's report follows it" order ordered "PASS info" "stand-in GPU"
check "info names the kernels' build" has ordered "kernels: nvcc /stand-in/nvcc; archs 90; flags"
check "verify runs the persistent kernels" grep -q "org.charrnn.cli.Main verify --backend cuda --rnn-kernel persistent" "$tmp/stub.log"

gpu unknown STEPS="info nope"
check "an unknown step: exit 2" [ $rc -eq 2 ]
check "an unknown step is named" has unknown "unknown step 'nope'"
check "an unknown step runs nothing" [ ! -s "$tmp/stub.log" ]

gpu deadline STEPS="verify-persistent info" DEADLINE=4 MIN_LEFT=1 STUB_SLEEP=37.25
check "a step past the deadline fails: exit 1" [ $rc -eq 1 ]
check "its time limit is cut to the deadline" has deadline "FAIL verify-persistent (.*time limit [1-4]s)"
check "the steps after it are skipped" has deadline "SKIP info"
check "the skipped steps are named" has deadline "skipped for the deadline (run them next time): info"
check "the cut kills the step's processes" bash -c '! pgrep -f "^sleep 37.25" >/dev/null'
check "its log says why it stopped" grep -q "stopped after its time limit of [1-4]s" "$tmp/out/verify-persistent.log"

gpu skipped STEPS="info" DEADLINE=10 MIN_LEFT=20
check "only skips: exit 3" [ $rc -eq 3 ]

gpu failing STEPS="verify-persistent info" STUB_FAIL=verify
check "a failed step: exit 1" [ $rc -eq 1 ]
check "a failed step shows its log's tail" order failing "FAIL verify-persistent" "1 of 40 checks FAILED" "PASS info"
check "the failed steps are named" has failing "some steps FAILED: verify-persistent"

mkdir -p "$tmp/bin" && printf '#!/bin/sh\necho "make: stand-in, no nvcc" >&2\nexit 2\n' >"$tmp/bin/make" && chmod +x "$tmp/bin/make"
gpu rates STEPS="rates" PATH="$tmp/bin:$PATH"
check "a rates step whose native probe fails fails" [ $rc -eq 1 ]
check "and still measures the step cost model's rates into the same file" \
    grep -q -- "org.charrnn.cli.Main bench --backend cuda --probe $tmp/out/rates.json" "$tmp/stub.log"

mkdir -p "$tmp/out-rates"
echo '{"grid_barrier_us": 1.0}' >"$tmp/out-rates/rates.json"
rm -rf "$tmp/out" && : >"$tmp/stub.log" && cp -r "$tmp/out-rates" "$tmp/out"
env GPU="$tmp/stub.sh" STUB_LOG="$tmp/stub.log" DATA="$tmp/corpus.txt" OUT="$tmp/out" STEPS="bench bench-rnn bar" \
    bash bench/gpu-check.sh >"$tmp/bench.out" 2>&1
rc=$?
check "bench, bench-rnn and bar pass" [ $rc -eq 0 ]
check "PyTorch's four variants run" [ "$(grep -c "^torch bench/torch_baseline.py" "$tmp/stub.log")" -eq 4 ]
check "forced persistent runs get the measured rates" \
    [ "$(grep -c -- "-Dcharrnn.persistent.rates=$tmp/out/rates.json .*--rnn-kernel persistent" "$tmp/stub.log")" -eq 16 ]
check "the grid layout is benched in one batch group too" \
    grep -q -- "-Dcharrnn.persistent.layout=grid -Dcharrnn.persistent.groups=1 org.charrnn.cli.Main bench" "$tmp/stub.log"
for x in off on; do
  check "the cluster layout is benched with the exchange $x" \
      grep -q -- "-Dcharrnn.persistent.layout=cluster -Dcharrnn.persistent.exchange=$x org.charrnn.cli.Main bench" \
      "$tmp/stub.log"
done
check "the cluster layout is benched with the column-stationary backward" \
    grep -q -- "-Dcharrnn.persistent.backward=columns org.charrnn.cli.Main bench --backend cuda --rnn-kernel persistent --model lstm,gru" \
    "$tmp/stub.log"
check "the cluster layout is benched with the weight gradients on one stream" \
    grep -q -- "-Dcharrnn.persistent.exchange=on -Dcharrnn.overlap=off org.charrnn.cli.Main bench" "$tmp/stub.log"
for p in fp32 tf32; do
  for v in on off; do
    check "the RNN is benched in $p with the wavefront $v" \
        grep -q -- "-Dcharrnn.persistent.wavefront=$v org.charrnn.cli.Main bench --backend cuda --rnn-kernel persistent --model rnn --precision $p" \
        "$tmp/stub.log"
  done
done
for p in tf32 fp32; do
  for x in off auto; do
    check "$p in clusters is benched with the W_hh slice in registers $x" \
        grep -q -- "-Dcharrnn.persistent.registers=$x org.charrnn.cli.Main bench --backend cuda --precision $p --rnn-kernel persistent" \
        "$tmp/stub.log"
  done
done
check "both large rows are benched with them on a second stream" \
    [ "$(grep -c -- "-Dcharrnn.overlap=on -Dcharrnn.layerPipeline=off org.charrnn.cli.Main bench .*--batch 128 --seq 100" "$tmp/stub.log")" -eq 2 ]
check "three large rows are benched with their layers one after another" \
    [ "$(grep -c -- "-Dcharrnn.layerPipeline=off org.charrnn.cli.Main bench .*--json $tmp/out/pipeline-rows.jsonl" "$tmp/stub.log")" -eq 3 ]
check "and compared in a table of their own" \
    grep -q -- "bench --compare --from $tmp/out/pipeline-rows.jsonl --from $tmp/out/torch.jsonl" "$tmp/stub.log"
check "the large row is benched pipelined in chunks of 5 and of 20 steps" \
    [ "$(grep -c -- "-Dcharrnn.pipelineChunk=[52]0* org.charrnn.cli.Main bench .*--json $tmp/out/pipeline-chunks.jsonl" "$tmp/stub.log")" -eq 2 ]
check "two rows are benched with layer 0 projected by row" \
    [ "$(grep -c -- "-Dcharrnn.tokenProjection=off org.charrnn.cli.Main bench .*--json $tmp/out/token-rows.jsonl" "$tmp/stub.log")" -eq 2 ]
check "and compared in a table of their own" \
    grep -q -- "bench --compare --from $tmp/out/token-rows.jsonl --from $tmp/out/torch.jsonl" "$tmp/stub.log"
check "four rows are benched with the decoder apart" \
    [ "$(grep -c -- "-Dcharrnn.cuda.fusedDecoder=off org.charrnn.cli.Main bench .*--json $tmp/out/decoder-rows.jsonl" "$tmp/stub.log")" -eq 4 ]
check "and set beside bench's rows" \
    grep -q -- "bench --compare --from $tmp/out/decoder-rows.jsonl --from $tmp/out/charrnn.jsonl" "$tmp/stub.log"
check "bar judges bench's rows" grep -q -- "bench --bar --from $tmp/out/charrnn.jsonl --from $tmp/out/torch.jsonl" "$tmp/stub.log"
check "and sets the model's prediction at the measured rates beside them" \
    [ "$(grep -c -- "-Dcharrnn.persistent.rates=$tmp/out/rates.json .*bench --predict --grid all --precision .* --from $tmp/out/torch.jsonl" "$tmp/stub.log")" -eq 2 ]

gpu cluster STEPS="verify-persistent-cluster verify-persistent-cluster-tf32"
check "the cluster layout verifies both backward kernels" [ $rc -eq 0 ]
for p in fp32 tf32; do
  for k in rows columns; do
    check "the cluster layout verifies the $k backward in $p" grep -q -- \
        "-Dcharrnn.persistent.backward=$k org.charrnn.cli.Main verify --backend cuda --rnn-kernel persistent --precision $p" \
        "$tmp/stub.log"
  done
  check "the cluster layout verifies the RNN's wavefront in $p" grep -q -- \
      "-Dcharrnn.persistent.wavefront=on org.charrnn.cli.Main verify --backend cuda --rnn-kernel persistent --precision $p" "$tmp/stub.log"
done

# Nsight Compute: a stand-in that records its arguments, writes its --log-file and runs the program after them
mkdir -p "$tmp/ncu" && cat >"$tmp/ncu/ncu" <<'NCU'
#!/usr/bin/env bash
echo "ncu $*" >>"$STUB_LOG"
while [[ ${1:-} == --* ]]; do
  case $1 in
    --csv) shift ;;
    --log-file) echo '"ID","Kernel Name","Metric Name","Metric Unit","Metric Value"' >"$2"; shift 2 ;;
    *) shift 2 ;;
  esac
done
exec "$@"
NCU
chmod +x "$tmp/ncu/ncu"
gpu profile STEPS=profile PATH="$tmp/ncu:$PATH"
check "the profile step passes" [ $rc -eq 0 ]
check "ncu profiles each small row in both precisions, eagerly" \
    [ "$(grep -cE -- "^ncu --target-processes all --metrics gpu__time_duration.sum .*--log-file $tmp/out/profile-[a-z]+-L[12]-H[0-9]+-(fp32|tf32).csv .*bench --backend cuda .*--no-graph" "$tmp/stub.log")" -eq 8 ]
check "and hands each CSV to bench --predict --profile" \
    [ "$(grep -c -- "bench --predict --precision .* --profile $tmp/out/profile-.*\.csv" "$tmp/stub.log")" -eq 8 ]
check "whose CSV the stand-in wrote" [ -s "$tmp/out/profile-rnn-L2-H256-tf32.csv" ]
gpu noncu STEPS=profile PATH="$(dirname "$(command -v bash)"):/usr/bin:/bin"
check "without ncu the profile step fails" [ $rc -eq 1 ]
check "and says why" grep -q "no ncu on PATH" "$tmp/out/profile.log"

gpu junit STEPS=junit
check "the junit step passes when every test found succeeded" [ $rc -eq 0 ]
check "it runs the gpu-tagged tests but not the emulator's own" \
    grep -q -- "^tests --include-tag gpu --exclude-tag emulator " "$tmp/stub.log"
check "and hands them the corpus" grep -q -- "^JAVA_TOOL_OPTIONS=-Dcharrnn.shakespeare=$tmp/corpus.txt$" "$tmp/stub.log"

gpu noocl STEPS="verify-ocl bench-ocl"
check "no NVIDIA OpenCL device: exit 1" [ $rc -eq 1 ]
check "no NVIDIA OpenCL device: both OpenCL steps fail" order noocl "FAIL verify-ocl" "FAIL bench-ocl"
check "and say why" grep -q "no NVIDIA OpenCL device listed" "$tmp/out/bench-ocl.log"

gpu badline STEPS=info DEADLINE=soon
check "a bad DEADLINE: exit 2" [ $rc -eq 2 ]
gpu nocorpus STEPS=info DATA="$tmp/missing.txt"
check "a missing corpus: exit 2" [ $rc -eq 2 ]
check "a missing corpus is named" has nocorpus "corpus $tmp/missing.txt missing"

[ $fails -eq 0 ] && echo "gpu-check-test.sh: all checks passed" || echo "gpu-check-test.sh: $fails checks FAILED"
[ $fails -eq 0 ]
