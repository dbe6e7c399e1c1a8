#!/bin/sh
# Builds the Kernels sources and main.swift into one optimized binary (build.sh: as SwiftPM's
# release build would: whole-module, -O, host CPU features; the int8 modules with their own
# flags) and runs it. Usage: Benchmarks/kernels/run.sh [gemm|mlp|elementwise|sparse|scale|int8]
# The int8 mode also runs onnxruntime (ort_int8.py) and needs python3 with onnxruntime.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${TMPDIR:-/tmp}/kernels-bench-$$
"$here/build.sh" "$out"
KERNELS_BENCH_DIR="$here" "$out" "$@"
rm -f "$out"
