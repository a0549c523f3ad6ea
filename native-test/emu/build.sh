#!/usr/bin/env bash
# Builds the emulated CUDA device: OUT/libcuda.so.1 and OUT/libcublas.so.12, CPU stand-ins for
# the libraries JCuda's and JCublas's JNI code load, running the kernels of kernels/cuda on the
# CPU execution layer (native-test/cpu). Used with CHARRNN_CUDA_EMULATOR=1 and
# LD_LIBRARY_PATH=OUT (the charrnn launcher and the Maven test profile `cuda-emulator` set both).
#   native-test/emu/build.sh OUT
# Invoked by the Maven build (generate-resources) with OUT = target/cuda-emu.
#   - g++, python3 or the CUDA toolkit's cuda.h missing: prints a note and exits 0 (no emulator).
#   - compilation fails: exits non-zero.
#   - incremental: does nothing when both libraries are newer than every input.
# Env: CXX (compiler), EMU_FLAGS (extra flags, e.g. "-O1 -g" for a debugger; the default -g1 has
#      line tables only, enough for backtraces, and compiles faster).
set -euo pipefail
out=${1:?usage: build.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cxx=${CXX:-g++}

inc=""
for nv in "${NVCC:-}" "$(command -v nvcc 2>/dev/null || true)" "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
  [ -n "$nv" ] && [ -x "$nv" ] || continue
  # nvcc may be a wrapper script: ask it where its headers are
  dir=$("$nv" --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ INCLUDES="-I\([^"]*\)".*/\1/p' | head -1)
  [ -n "$dir" ] && [ -f "$dir/cuda.h" ] && { inc=$dir; break; }
  dir=$(cd "$(dirname "$(readlink -f "$nv")")/../include" 2>/dev/null && pwd) || continue
  [ -f "$dir/cuda.h" ] && { inc=$dir; break; }
done
if ! command -v "$cxx" >/dev/null || ! command -v python3 >/dev/null || [ -z "$inc" ]; then
  echo "emu/build.sh: $cxx, python3 or the CUDA toolkit's cuda.h not found; the emulated CUDA device is not built"
  exit 0
fi

libs=("$out/libcuda.so.1" "$out/libcublas.so.12")
if [ -f "${libs[0]}" ] && [ -f "${libs[1]}" ]; then
  newer=$(find "$here" "$root/native-test/cpu" "$root/kernels/cuda" "$root/kernels/common" -newer "${libs[1]}" -type f -print -quit)
  [ -z "$newer" ] && exit 0
fi

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
python3 "$root/native-test/cpu/gen_kernel_table.py" "$tmp/kernel_table.inc" "$root"/kernels/cuda/*.cu
bash "$here/gen_stubs.sh" "$here/driver-symbols.txt" 801 "$tmp/stubs_driver.c"     # CUDA_ERROR_NOT_SUPPORTED
bash "$here/gen_stubs.sh" "$here/cublas-symbols.txt" 15 "$tmp/stubs_cublas.c"      # CUBLAS_STATUS_NOT_SUPPORTED
echo 'libcublas.so.12 { global: *; };' > "$tmp/cublas.map"
flags=(-std=c++17 -O2 -g1 -fPIC -fvisibility=hidden -Wall -Wno-unknown-pragmas ${EMU_FLAGS:-})
cc -O1 -fPIC -c "$tmp/stubs_driver.c" -o "$tmp/stubs_driver.o"
cc -O1 -fPIC -c "$tmp/stubs_cublas.c" -o "$tmp/stubs_cublas.o"
"$cxx" "${flags[@]}" -I"$root/native-test/cpu/include" -I"$inc" -iquote "$tmp" -c "$here/launch.cpp" -o "$tmp/launch.o" &
"$cxx" "${flags[@]}" -I"$inc" -c "$here/driver.cpp" -o "$tmp/driver.o"
wait $!
"$cxx" -shared -o "$tmp/libcuda.so.1" -Wl,-soname,libcuda.so.1 -Wl,-z,defs \
  "$tmp/driver.o" "$tmp/launch.o" "$tmp/stubs_driver.o" -lpthread
"$cxx" "${flags[@]}" -I"$inc" -c "$here/cublas.cpp" -o "$tmp/cublas.o"
"$cxx" -shared -o "$tmp/libcublas.so.12" -Wl,-soname,libcublas.so.12 -Wl,--version-script="$tmp/cublas.map" \
  -Wl,-rpath,'$ORIGIN' "$tmp/cublas.o" "$tmp/stubs_cublas.o" "$tmp/libcuda.so.1" -lpthread
# Every function implemented must be one JCuda calls (cuda.h renames some, e.g. to *_v2).
extra=$(comm -13 <(sort "$here/driver-symbols.txt" "$here/extra-symbols.txt") \
  <(nm -D --defined-only "$tmp/libcuda.so.1" | awk '$2 == "T" { print $3 }' | sort))
if [ -n "$extra" ]; then
  echo "emu/build.sh: libcuda.so.1 implements functions JCuda does not call: $extra" >&2
  exit 1
fi
mv -f "$tmp/libcuda.so.1" "$out/libcuda.so.1"
mv -f "$tmp/libcublas.so.12" "$out/libcublas.so.12"
echo "emu/build.sh: emulated CUDA device (libcuda.so.1, libcublas.so.12) in $out, $(( $(date +%s) - start ))s"
