#!/bin/sh
# Builds the Kernels sources and main.swift into one optimized binary (as SwiftPM's release build
# would: whole-module, -O, host CPU features) and runs it. Usage: Benchmarks/kernels/run.sh [gemm|mlp|elementwise]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${TMPDIR:-/tmp}/kernels-bench-$$
swiftc -O -wmo -Xcc -march=native -module-name BenchKernels \
    "$root"/Shared/Kernels/*.swift "$here/main.swift" -o "$out"
"$out" "$@"
rm -f "$out"
