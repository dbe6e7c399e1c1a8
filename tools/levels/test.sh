#!/usr/bin/env bash
# Runs the tests of the SIMD code built for each x86-64 level the container image ships, on this
# CPU, in release, each level in its own build path (.build-test-<level>): by default the
# kernels' tests (every SIMD kernel against its scalar twin, at awkward lengths). A level this
# CPU does not run is skipped, saying what it lacks.
#
#   tools/levels/test.sh [LEVEL…]        default: x86-64-v3 x86-64-v4
#   PIPELINE_LEVEL_TESTS=KernelsTests,EngineTests tools/levels/test.sh
#                                        the ONNX engine's too (the lowered graphs against
#                                        onnxruntime's outputs; about twice the build)
#   PIPELINE_LEVEL_TESTS=KernelsTests,EngineTests,InferTests,IngestTests,FeaturizeTests,AggregateTests \
#       tools/levels/test.sh             the stages' libraries too (about 4.5 times)
#
# The stages' libraries per level are also run end to end by tools/image/test.sh (the sample
# scored by each level's binaries, compared byte for byte with the native build's output).
# The levels build at once (a release build is mostly one module compiling after another, one
# core busy), then their tests run one level after the other. Each build is checked to be its
# level: no AVX-512 register outside the int8 VNNI module (chosen at run time) in the x86-64-v3
# binary, some in the x86-64-v4 one.
set -euo pipefail
cd "$(dirname "$0")/../.."

levels=${*:-x86-64-v3 x86-64-v4}
targets=${PIPELINE_LEVEL_TESTS:-KernelsTests}
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "

# The /proc/cpuinfo flags of each level (Supervisor/Shell/CPULevel.swift has the same lists).
v2="cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3"
v3="$v2 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave"
v4="$v3 avx512f avx512bw avx512cd avx512dq avx512vl"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
runnable=()
for level in $levels; do
    case "$level" in
        x86-64-v2) needed=$v2 ;; x86-64-v3) needed=$v3 ;; x86-64-v4) needed=$v4 ;;
        *) echo "levels/test.sh: unknown level $level (x86-64-v2, x86-64-v3, x86-64-v4)" >&2; exit 2 ;;
    esac
    lacking=""
    for flag in $needed; do
        case "$cpu_flags" in *" $flag "*) ;; *) lacking="$lacking $flag" ;; esac
    done
    if [ -n "$lacking" ]; then
        echo "== $level: SKIPPED, this CPU lacks:$lacking"
    else
        runnable+=("$level")
    fi
done
[ ${#runnable[@]} -gt 0 ] || exit 0

start=$(date +%s)
echo "== building $targets for ${runnable[*]} (release, at once)"
pids=()
for level in "${runnable[@]}"; do
    # `swift test` would build every product too; the test product alone, compiled for testing
    # as `swift test` compiles it, holds only these targets and what they import.
    PIPELINE_MARCH=$level PIPELINE_TEST_TARGETS=$targets swift build -c release --build-path ".build-test-$level" \
        --product pipelinePackageTests -Xswiftc -enable-testing > "$logs/$level.build" 2>&1 &
    pids+=($!)
done
status=0
for i in "${!runnable[@]}"; do
    level=${runnable[$i]}
    if ! wait "${pids[$i]}"; then
        echo "== $level: build FAILED"; grep -E "error:" "$logs/$level.build" | head -40; status=1
    fi
    grep -E "warning:" "$logs/$level.build" | sort -u | head -20 || true
done
[ $status -eq 0 ] || exit 1
echo "built in $(( $(date +%s) - start )) s"

for level in "${runnable[@]}"; do
    binary=.build-test-$level/release/pipelinePackageTests.xctest
    wide=$(objdump -d --no-show-raw-insn "$binary" | awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 } /%zmm/ { print fn }' | sort -u | grep -vc Int8VNNI || true)
    case "$level" in
        x86-64-v4) [ "$wide" -gt 0 ] || { echo "== $level: no AVX-512 in $binary: not built for its level"; status=1; continue; } ;;
        *) [ "$wide" -eq 0 ] || { echo "== $level: $wide functions use AVX-512 in $binary: not built for its level"; status=1; continue; } ;;
    esac
    echo "== $level: tests ($wide functions with AVX-512 registers outside the VNNI module)"
    if PIPELINE_MARCH=$level PIPELINE_TEST_TARGETS=$targets \
        swift test -c release --skip-build --build-path ".build-test-$level" > "$logs/$level.test" 2>&1; then
        grep -E "^✔ Test run" "$logs/$level.test" || tail -1 "$logs/$level.test"
    else
        grep -E "✘|error:" "$logs/$level.test" | head -40
        echo "$level: FAILED"
        status=1
    fi
done
echo "levels/test.sh: ${runnable[*]} in $(( $(date +%s) - start )) s"
exit $status
