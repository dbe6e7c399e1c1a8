#!/usr/bin/env bash
# The container image end to end: builds it (tools/image/build.sh), scores
# examples/transactions.jsonl inside it with podman and compares the output byte for byte with
# the same input scored outside by the ordinary build (.build/release/pipeline, built if missing):
#
#   - as it starts on this CPU (the highest level it runs), with the root filesystem read-only;
#   - with PIPELINE_CPU_LEVEL=x86-64-v3 (the AVX2 binaries on an AVX-512 CPU);
#   - as on an AVX2-only node: /proc/cpuinfo replaced by one without AVX-512 (runc lets a file
#     be mounted there, as LXCFS does), so the supervisor itself picks x86-64-v3;
#   - as on a CPU below x86-64-v3 (AVX without AVX2): exit 9 and the message, nothing started;
#
# and that the infer weight cache the image's `pipeline` (x86-64 baseline) prepares is the one
# this build's prepares, byte for byte (float32, int8, bf16 panels; trees; a sparse model).
# It checks the image's user (not root), volume and entry point too, and removes its image and
# containers. Without podman it installs it (apt-get install podman runc); when podman is
# neither here nor installable, or cannot run here, it says why and exits 0 (skipped).
#
#   tools/image/test.sh [--no-build]     --no-build: the image from the builds already made
#
# Flags `podman run` needs in this sandbox (README, "The container image"): --runtime runc, and
# explicit --ulimit nofile/nproc (podman's defaults are above the sandbox's hard limits, which a
# container may not raise: "error setting rlimit type 7: operation not permitted").
set -euo pipefail
cd "$(dirname "$0")/../.."

build_flag=()
[ "${1:-}" = "--no-build" ] && build_flag=(--no-build)

skip() { echo "SKIPPED: container image test: $*"; exit 0; }

if ! command -v podman > /dev/null; then
    if ! command -v apt-get > /dev/null; then skip "podman is not installed and there is no apt-get to install it"; fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo > /dev/null && sudo -n true 2> /dev/null || skip "podman is not installed and installing it needs root (no sudo without a password)"
        sudo="sudo -n"
    fi
    echo "== installing podman and runc (apt-get)"
    if ! out=$( { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends podman runc; } 2>&1 ); then
        skip "podman could not be installed: $(echo "$out" | grep -E '^E:' | head -3 | tr '\n' ' ')"
    fi
fi
if ! info=$(podman info 2>&1); then
    skip "podman cannot run here: $(echo "$info" | tail -1)"
fi
podman --version

runtime=()
command -v runc > /dev/null && runtime=(--runtime runc)
limit() {  # the hard limit, at most 4096
    local hard=$1
    if [ "$hard" = unlimited ] || [ "$hard" -gt 4096 ]; then echo 4096; else echo "$hard"; fi
}
nofile=$(limit "$(ulimit -Hn)")
nproc=$(limit "$(ulimit -Hu)")
run_flags=("${runtime[@]}" --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" --network none)
echo "podman run flags: ${run_flags[*]}"

tag=localhost/pipeline-test:$$
work=$(mktemp -d)
cleanup() {
    podman rmi --force "$tag" > /dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

tools/image/build.sh "${build_flag[@]}" --tag "$tag"

echo "== checks"
failures=0
check() {  # DESCRIPTION, then the condition as a command
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
config=$(podman image inspect --format '{{.Config.User}} {{json .Config.Volumes}} {{json .Config.Entrypoint}}' "$tag")
check "the image runs as pipeline (65532), its run directory is a volume, its entry point pipeline: $config" \
    test "$config" = '65532:65532 {"/run/pipeline":{}} ["/usr/local/bin/pipeline"]'

sample=examples/transactions.jsonl
outside=.build/release/pipeline
[ -x "$outside" ] || swift build -c release 2>&1 | { grep -v "^\[" || true; }
"$outside" up --run-dir "$work/run" < "$sample" > "$work/outside.jsonl" 2> "$work/outside.err"
echo "outside: $(tail -1 "$work/outside.err")"

# The first flags line of this CPU's /proc/cpuinfo without some features: another kind of CPU.
fake_cpuinfo() {  # FILE FLAG-REGEX
    printf 'processor\t: 0\n%s\n' "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -Ev "^($2)$" | tr '\n' ' ')" > "$1"
}
fake_cpuinfo "$work/cpuinfo-avx2" 'avx512.*'
fake_cpuinfo "$work/cpuinfo-avx" 'avx512.*|avx2|fma|bmi2'

inside() {  # NAME EXTRA-FLAGS… [-- ARGUMENTS…]: scores $sample in the container, into $work/NAME.{jsonl,err}
    local name=$1; shift
    local flags=() arguments=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
    [ $# -gt 0 ] && { shift; arguments=("$@"); }
    set +e
    podman run --rm -i "${run_flags[@]}" "${flags[@]}" "$tag" "${arguments[@]}" < "$sample" > "$work/$name.jsonl" 2> "$work/$name.err"
    echo $? > "$work/$name.status"
    set -e
    echo "$name: exit $(cat "$work/$name.status"); $(tr '\n' ' ' < "$work/$name.err")"
}
same_output() { [ "$(cat "$work/$1.status")" = 0 ] && cmp -s "$work/outside.jsonl" "$work/$1.jsonl"; }

same_as() { [ "$(cat "$work/$1.status")" = 0 ] && cmp -s "$work/$2" "$work/$1.jsonl"; }
said() { grep -q -- "$2" "$work/$1.err"; }
refused() {  # NAME STATUS MESSAGE-PREFIX
    [ "$(cat "$work/$1.status")" = "$2" ] && [ ! -s "$work/$1.jsonl" ] && grep -q -- "^$3" "$work/$1.err"
}

inside best --read-only
check "this CPU's level, read-only root: the same $(wc -l < "$work/outside.jsonl") lines as outside" same_output best
inside forced-v3 -e PIPELINE_CPU_LEVEL=x86-64-v3
check "PIPELINE_CPU_LEVEL=x86-64-v3: the same output" same_output forced-v3
check "PIPELINE_CPU_LEVEL=x86-64-v3: said" said forced-v3 "x86-64-v3: set by PIPELINE_CPU_LEVEL"
inside avx2-node -v "$work/cpuinfo-avx2:/proc/cpuinfo:ro"
check "an AVX2 CPU (no avx512* in /proc/cpuinfo): the same output" same_output avx2-node
check "an AVX2 CPU: x86-64-v3 chosen" said avx2-node "/usr/local/lib/pipeline/x86-64-v3 (x86-64-v3: the highest of"
# A config and model of one's own, from a volume: the CSV sample.
"$outside" up -f compose/pipeline-csv.toml --run-dir "$work/run" < examples/transactions.csv > "$work/outside.csv" 2> /dev/null
sample=examples/transactions.csv inside csv -v "$PWD/compose:/data/compose:ro" -v "$PWD/models:/data/models:ro" \
    -- up -f /data/compose/pipeline-csv.toml
check "the CSV config and model from a volume: the same output" same_as csv outside.csv
inside old-cpu -v "$work/cpuinfo-avx:/proc/cpuinfo:ro"
check "a CPU below x86-64-v3: exit 9, no output, the reason" refused old-cpu 9 \
    "pipeline: error: this CPU is below x86-64-v3, the lowest x86-64 level the stage binaries are built for (x86-64-v3, x86-64-v4): it lacks avx2, bmi2, fma"

# The weights the supervisor prepares for the infer replicas (Services/infer/Sources/Cache) are
# the same whatever its build: the image's `pipeline` (x86-64 baseline) against this build's
# (-march=native), on the image's root filesystem outside the container, for float32, int8 and
# bfloat16 GEMM panels, trees and a sparse linear model. Each run stays up (an input FIFO
# without a writer) until its cache is copied.
cache_of() {  # PIPELINE CONFIG NAME: the infer weight cache(s) PIPELINE builds for CONFIG, into $work/NAME.cache
    local dir=$work/cache-run
    rm -rf "$dir" "$work/fifo"
    mkfifo "$work/fifo"
    "$1" up -d -f "$2" --input "$work/fifo" --output /dev/null --run-dir "$dir" > /dev/null
    cat "$dir"/infer-weights-*.cache > "$work/$3.cache"
    "$1" down --run-dir "$dir" > /dev/null
}
"$outside" bench --workload tabular-mlp --records 10 --write-data "$work/data" > /dev/null
"$outside" bench --workload tabular-trees --records 10 --write-data "$work/data" > /dev/null
"$outside" bench --workload text-linear --records 10 --write-data "$work/data" > /dev/null
configs=()
for precision in float32 int8 bf16; do
    sed "s|^path = \(.*\.onnx\"\)|path = \1\nprecision = \"$precision\"|" "$work/data/tabular-mlp.toml" > "$work/data/mlp-$precision.toml"
    configs+=("$work/data/mlp-$precision.toml")
done
configs+=("$work/data/tabular-trees.toml" "$work/data/text-linear.toml")
caches_same=0
for config in "${configs[@]}"; do
    name=$(basename "$config" .toml)
    cache_of .build-image/rootfs/usr/local/bin/pipeline "$config" "$name-image"
    cache_of "$outside" "$config" "$name-native"
    if [ -s "$work/$name-image.cache" ] && cmp -s "$work/$name-image.cache" "$work/$name-native.cache"; then
        echo "$name: weight cache $(stat -c %s "$work/$name-image.cache") bytes, identical"
    else
        echo "$name: weight caches differ (or are missing)"; caches_same=1
    fi
done
check "the weight caches of the image's pipeline (x86-64) and of this build's (native) are identical" test $caches_same -eq 0

leftover=$(podman ps --all --filter "ancestor=$tag" --format '{{.ID}}')
check "no container left behind" test -z "$leftover"
if [ $failures -gt 0 ]; then echo "image test: $failures FAILED"; exit 1; fi
echo "image test: passed"
