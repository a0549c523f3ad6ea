#!/usr/bin/env bash
# Shows that the CPU execution layer catches a race inside a block: in a scratch copy of the
# kernels, removes the __syncthreads() that publishes every thread's value before the tree of
# cr_block_sum (kernels/cuda/common.cuh), rebuilds test_reduce_optim and test_loss on the CPU, and
# requires each to FAIL in the forward thread order (thread 0 then reads partners' stale scratch).
# Exits 0 when the mutant is caught, 1 when it survives (the harness could not fail), 2 on error.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$here/../kernels" "$scratch/kernels"
mkdir -p "$scratch/native-test"
cp -r "$here"/*.cu "$here"/*.c "$here"/*.h "$here/Makefile" "$here/cpu" "$scratch/native-test/"
f="$scratch/kernels/cuda/common.cuh"
# The first __syncthreads() of the file is the one right after scratch[threadIdx.x] = v in cr_block_sum.
perl -0pi -e 's/(scratch\[threadIdx\.x\] = v;\n)(\s*)__syncthreads\(\);\n/$1$2\/* mutant: barrier removed *\/\n/' "$f"
grep -q 'mutant: barrier removed' "$f" || { echo "mutation-check: could not find the barrier to remove" >&2; exit 2; }
make -s -C "$scratch/native-test" CPU_BUILD=build/mutant build/mutant/test_reduce_optim build/mutant/test_loss >/dev/null 2>&1 \
  || { echo "mutation-check: mutant build failed" >&2; exit 2; }
survived=0
for t in test_reduce_optim test_loss; do
  if CRCPU_ORDER=forward "$scratch/native-test/build/mutant/$t" > "$scratch/$t.log" 2>&1; then
    echo "mutation-check: $t PASSED with the barrier removed: the harness cannot see this race"
    survived=1
  else
    echo "mutation-check: $t fails with the barrier removed, as it must ($(grep -c FAIL "$scratch/$t.log") failed checks)"
  fi
done
exit $survived
