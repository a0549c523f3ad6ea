#!/usr/bin/env bash
# Checks kernels/build-cuda.sh with a stand-in nvcc that writes an empty fatbin, counts its compiles
# and, when asked, prints ptxas's spill warning. Register spills (CUDA_SPILLS): warn (the default)
# builds and shows the warning, fail stops the build naming the kernel and leaves no fatbin, and a
# bad value is a usage error. The incremental build: a second build for the same architectures
# compiles nothing, one for other architectures compiles again. Run by .ci/run; the real
# compiler's spills are checked by CI's Maven build (CUDA_SPILLS=fail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/nvcc" <<'NVCC'
#!/usr/bin/env bash
case "$1" in
  --list-gpu-arch) printf 'compute_80\ncompute_90\n'; exit 0 ;;
  --version) echo "Cuda compilation tools, release 13.0, V13.0.48"; exit 0 ;;
esac
out=
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
[ -z "${FAKE_SPILL:-}" ] \
  || echo "ptxas warning : Registers are spilled to local memory in function '$FAKE_SPILL', 8 bytes spill stores, 8 bytes spill loads" >&2
: > "$out"
echo compiled >> "$(dirname "$0")/compiles"
NVCC
chmod +x "$work/nvcc"

failures=0
# expect NAME WANT_STATUS WANT_FATBIN(yes|no) PATTERN [ENV=VALUE ...]: runs build-cuda.sh into a fresh
# folder with the stand-in nvcc and the given environment.
expect() {
  local name=$1 want=$2 fatbin=$3 pattern=$4 out="$work/out-$1" status=0
  shift 4
  env NVCC="$work/nvcc" CUDA_ARCHS=90 "$@" bash "$here/build-cuda.sh" "$out" > "$work/$name.log" 2>&1 || status=$?
  local ok=1
  [ "$status" -eq "$want" ] || ok=0
  if [ "$fatbin" = yes ]; then [ -f "$out/charrnn.fatbin" ] || ok=0; else [ ! -f "$out/charrnn.fatbin" ] || ok=0; fi
  grep -q -- "$pattern" "$work/$name.log" || ok=0
  if [ "$ok" = 1 ]; then
    echo "build-cuda-test: $name ok"
  else
    echo "build-cuda-test: $name FAILED (exit $status, want $want; fatbin want $fatbin; output:)" >&2
    sed 's/^/  /' "$work/$name.log" >&2
    failures=$((failures + 1))
  fi
}

expect warn-default 0 yes "spilled to local memory in function 'k_one'" FAKE_SPILL=k_one
expect fail-spill 1 no "registers spilled to local memory in k_two (sm_{90}; CUDA_SPILLS=fail)" \
  FAKE_SPILL=k_two CUDA_SPILLS=fail
expect fail-clean 0 yes "charrnn.fatbin 0 bytes" CUDA_SPILLS=fail
expect bad-value 2 no "CUDA_SPILLS must be warn or fail, not 'maybe'" CUDA_SPILLS=maybe

# incremental: the same out folder built three times; the fake nvcc counts its compiles
compiles() { wc -l < "$work/compiles" 2>/dev/null || echo 0; }
incremental() {
  local name=$1 want=$2 before
  shift 2
  before=$(compiles)
  env NVCC="$work/nvcc" "$@" bash "$here/build-cuda.sh" "$work/out-incremental" > "$work/$name.log" 2>&1
  if [ $(($(compiles) - before)) -eq "$want" ]; then
    echo "build-cuda-test: $name ok"
  else
    echo "build-cuda-test: $name FAILED ($(($(compiles) - before)) compiles, want $want; output:)" >&2
    sed 's/^/  /' "$work/$name.log" >&2
    failures=$((failures + 1))
  fi
}
incremental first-build 1 CUDA_ARCHS=90
incremental same-archs-reused 0 CUDA_ARCHS=90
incremental other-archs-rebuilt 1 CUDA_ARCHS="80 90"
incremental other-flags-rebuilt 1 CUDA_ARCHS="80 90" NVCC_FLAGS=-lineinfo
grep -qx 'nvcc .*/nvcc; archs 80 90; flags -lineinfo' "$work/out-incremental/charrnn.fatbin.build" || {
  echo "build-cuda-test: charrnn.fatbin.build does not record the last build:" >&2
  cat "$work/out-incremental/charrnn.fatbin.build" >&2
  failures=$((failures + 1))
}

[ "$failures" -eq 0 ] || { echo "build-cuda-test: $failures failed" >&2; exit 1; }
echo "build-cuda-test: all passed"
