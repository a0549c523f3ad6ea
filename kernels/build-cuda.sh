#!/usr/bin/env bash
# Compiles kernels/cuda/charrnn.cu (which #includes every kernel family) into one fatbin:
#   kernels/build-cuda.sh <outdir>      -> <outdir>/charrnn.fatbin, <outdir>/charrnn.fatbin.nvcc (e.g. "13.0")
# SASS for every architecture in CUDA_ARCHS plus PTX for the newest, so newer GPUs JIT the PTX.
# Invoked by the Maven build (exec-maven-plugin, generate-resources) with
# <outdir> = ${project.build.outputDirectory}/kernels, so the fatbin is a classpath resource.
#   - nvcc not on PATH (and no $CUDA_HOME/bin/nvcc): prints a note and exits 0; the CUDA backend
#     then reports "kernels not built: nvcc was not found at build time".
#   - nvcc present and compilation fails: exits non-zero, failing the build.
#   - incremental: does nothing when the fatbin is newer than every .cu/.cuh/.h and this script and
#     was built by the same nvcc for the same CUDA_ARCHS and NVCC_FLAGS (<outdir>/charrnn.fatbin.build
#     records them), so a fatbin built for other GPUs is never reused unseen.
#   - a kernel spills registers to local memory (ptxas -warn-spills): a warning; with CUDA_SPILLS=fail
#     (CI) the build fails and names the kernels. The persistent kernels run at 240-255 registers a
#     thread, so a change can push one into spills without a test noticing; on a GPU that costs
#     local-memory traffic every timestep.
# Env: NVCC (compiler path), CUDA_ARCHS (space-separated SM numbers), NVCC_FLAGS (extra flags),
#      CUDA_SPILLS (warn, the default, or fail).
set -euo pipefail
out=${1:?usage: build-cuda.sh <outdir>}
spills=${CUDA_SPILLS:-warn}
case "$spills" in
  warn|fail) ;;
  *) echo "build-cuda.sh: CUDA_SPILLS must be warn or fail, not '$spills'" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
src="$here/cuda/charrnn.cu"
fatbin="$out/charrnn.fatbin"

nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc=$(command -v nvcc)
  elif [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then nvcc="$CUDA_HOME/bin/nvcc"
  elif [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [ -z "$nvcc" ]; then
  echo "build-cuda.sh: nvcc not found; CUDA kernels not built (the cuda backend will be unavailable)"
  rm -f "$fatbin" "$fatbin.nvcc" "$fatbin.build"
  exit 0
fi

# Oldest first; nvcc 13.0 still accepts sm_75 (check with nvcc --list-gpu-arch).
archs=${CUDA_ARCHS:-"75 80 86 89 90 100 120"}
build="nvcc $nvcc; archs $archs; flags ${NVCC_FLAGS:-}"
if [ -f "$fatbin" ] && [ -f "$fatbin.nvcc" ] && [ "$(cat "$fatbin.build" 2>/dev/null)" = "$build" ]; then
  newer=$(find "$here/cuda" "$here/common" "$here/build-cuda.sh" -newer "$fatbin" \
            \( -name '*.cu' -o -name '*.cuh' -o -name '*.h' -o -name 'build-cuda.sh' \) -print -quit)
  if [ -z "$newer" ]; then exit 0; fi
fi
supported=$("$nvcc" --list-gpu-arch 2>/dev/null | sed -n 's/^compute_//p' | tr '\n' ' ')
gencode=()
newest=""
for a in $archs; do
  if [ -n "$supported" ] && ! grep -qw "$a" <<<"$supported"; then
    echo "build-cuda.sh: $nvcc does not support sm_$a; skipped"
    continue
  fi
  gencode+=("-gencode=arch=compute_$a,code=sm_$a")
  newest=$a
done
[ -n "$newest" ] || { echo "build-cuda.sh: none of the architectures '$archs' is supported by $nvcc" >&2; exit 1; }
gencode+=("-gencode=arch=compute_$newest,code=compute_$newest")

mkdir -p "$out"
tmp="$fatbin.tmp.$$"
start=$(date +%s)
log="$fatbin.log.$$"
trap 'rm -f "$tmp" "$log"' EXIT
status=0
# shellcheck disable=SC2086
"$nvcc" -O3 -std=c++17 -fatbin -Xptxas=-warn-spills ${NVCC_FLAGS:-} "${gencode[@]}" -o "$tmp" "$src" 2>"$log" \
  || status=$?
cat "$log" >&2
[ "$status" -eq 0 ] || exit "$status"
if [ "$spills" = fail ] && grep -q 'Registers are spilled' "$log"; then
  kernels=$(sed -n "s/.*spilled to local memory in function '\([^']*\)'.*/\1/p" "$log" | sort -u | tr '\n' ' ')
  echo "build-cuda.sh: registers spilled to local memory in ${kernels% } (sm_{${archs// /,}}; CUDA_SPILLS=fail)" >&2
  exit 1
fi
mv -f "$tmp" "$fatbin"
echo "$build" > "$fatbin.build"
# The CUDA release of the compiler: its cubins and PTX need a driver of that release or newer,
# which the cuda backend checks at start (CudaRuntime.driverTooOld).
"$nvcc" --version | sed -n 's/.*release \([0-9]*\.[0-9]*\).*/\1/p' > "$fatbin.nvcc"
echo "build-cuda.sh: $(basename "$fatbin") $(stat -c %s "$fatbin") bytes, sm_{${archs// /,}} + compute_$newest PTX, $(( $(date +%s) - start ))s"
