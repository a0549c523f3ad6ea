#!/usr/bin/env bash
# Kernel-level JMH benchmarks (bench/src/jmh/java) on the backends that are available here.
#
#   bench/jmh.sh                                  short run: reference and (when available) opencl, cuda
#   bench/jmh.sh CellStep -p hidden=256           any JMH options / benchmark regex after the script
#   BACKENDS=cuda PRECISION=tf32 bench/jmh.sh     choose backends and the GPU precision
#   JMH_ITER="-wi 5 -w 2s -i 10 -r 2s" bench/jmh.sh   longer iterations (default: -wi 2 -w 1s -i 3 -r 1s -f 1)
#
# Benchmarks: CellStepBenchmark.forward/backward (one timestep of one layer, @Param hidden, batch),
# SoftmaxXentBenchmark.softmaxXent (softmax cross-entropy over [T*B, 65], @Param rows),
# ClipAdamBenchmark.clipAdam (global-norm clip + Adam over the flat parameters, @Param hidden).
# Each set-up checks the backend's result before timing; every timed operation ends with a device
# synchronize. Builds into target-jmh (the benchmarks are an extra test-source root; mvn test never
# runs them). Results are also written as JSON to ${JMH_OUT:-target-jmh/jmh-result.json}.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build=target-jmh
mvn -q -B -Dbuild.dir=$build -DskipTests test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=$build/jmh.classpath >&2
cp="$build/test-classes:$build/classes:$(cat $build/jmh.classpath)"
BACKENDS=${BACKENDS:-$(java -cp "$cp" org.charrnn.bench.jmh.AvailableBackends)}
echo "jmh.sh: backends $BACKENDS, precision ${PRECISION:-fp32}" >&2
# shellcheck disable=SC2086
exec java --add-modules jdk.incubator.vector ${JAVA_OPTS:-} -cp "$cp" org.openjdk.jmh.Main ${JMH_ITER:--wi 2 -w 1s -i 3 -r 1s -f 1} \
    -p backend="$BACKENDS" -p precision="${PRECISION:-fp32}" \
    -rf json -rff "${JMH_OUT:-$build/jmh-result.json}" "$@"
