#!/usr/bin/env bash
# The container image end to end: builds it (tools/image/build.sh), scores
# examples/transactions.jsonl inside it with podman and compares the output byte for byte with
# the same input scored outside by the ordinary build (.build/release/pipeline, built first):
#
#   - as it starts on this CPU (the highest level it runs), with the root filesystem read-only;
#   - with PIPELINE_CPU_LEVEL=x86-64-v3 (the AVX2 binaries on an AVX-512 CPU);
#   - as on an AVX2-only node: /proc/cpuinfo replaced by one without AVX-512 (runc lets a file
#     be mounted there, as LXCFS does), so the supervisor itself picks x86-64-v3;
#   - as on a CPU below x86-64-v3 (AVX without AVX2): exit 9 and the message, nothing started;
#
# that the infer weight cache the image's `pipeline` (x86-64 baseline) prepares is the one this
# build's prepares, byte for byte (float32, int8, bf16 panels; trees; a sparse model); and that
# the pods `pipeline export kubernetes` describes run in the image (an Indexed Job's two pods; a
# stream's pod script in the image built --with-shell, busybox-static installed with apt-get if
# missing), each giving the outside run's output.
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
    podman rmi --force "$tag" "$tag-shell" > /dev/null 2>&1 || true
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
check "the image holds no shell" test ! -e .build-image/rootfs/bin/sh
config=$(podman image inspect --format '{{.Config.User}} {{json .Config.Volumes}} {{json .Config.Entrypoint}}' "$tag")
check "the image runs as pipeline (65532), its run directory is a volume, its entry point pipeline: $config" \
    test "$config" = '65532:65532 {"/run/pipeline":{}} ["/usr/local/bin/pipeline"]'

sample=examples/transactions.jsonl
outside=.build/release/pipeline
# The ordinary build (up to date: a no-op after .ci/run's own release build).
swift build -c release 2>&1 | { grep -v "^\[" || true; }
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
same_as() { [ "$(cat "$work/$1.status")" = 0 ] && cmp -s "$work/$2" "$work/$1.jsonl"; }
same_output() { same_as "$1" outside.jsonl; }
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

# The pods `pipeline export kubernetes` describes, run in the image as the kubelet would: the
# ConfigMap's files at their mount, a directory of mode 1777 at /run/pipeline (the memory-backed
# emptyDir is a tmpfs root of that mode; podman's own --tmpfs there keeps the image directory's
# 0700), the data volume at /data, the read-only root, the pod's user, the container's command
# and environment as written in the manifest. The Indexed Job's two pods score the
# sample's two splits, one after the other: their parts, concatenated, are the outside run's
# output. The stream pod's script (`sh -c`, so in the image built --with-shell) runs the sample
# from its source command through `pipeline up` into its sink command: the same output again.
# PyYAML reads the manifests (kubernetes-validate, which CI installs, brings it).
pod() {  # EXPORT-DIR MANIFEST OUT-DIR: the ConfigMap's files into OUT-DIR/config, the rest as shell words
    python3 - "$@" <<'PY'
import os, sys, yaml
directory, manifest, out = sys.argv[1:]
config = yaml.safe_load(open(os.path.join(directory, "configmap.yaml")))
os.makedirs(os.path.join(out, "config"), exist_ok=True)
for key, value in config["data"].items():
    with open(os.path.join(out, "config", key), "w") as f:
        f.write(value)
spec = yaml.safe_load(open(os.path.join(directory, manifest)))["spec"]["template"]["spec"]
container = spec["containers"][0]
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
unescape = lambda text: text.replace("$$", "$")  # Kubernetes' $(VAR) escape
with open(os.path.join(out, "command"), "wb") as f:
    f.write(b"".join(unescape(word).encode() + b"\0" for word in container["command"]))
with open(os.path.join(out, "environment"), "wb") as f:
    f.write(b"".join(("%s=%s" % (e["name"], unescape(e["value"]))).encode() + b"\0" for e in container.get("env", []) if "value" in e))
print(spec["securityContext"]["runAsUser"], mounts["config"], mounts["run"])
PY
}
run_pod() {  # POD-DIR IMAGE NAME [ENV=VALUE…]: the pod's container, in podman
    local dir=$1 image=$2 name=$3; shift 3
    local user config_mount run_mount command=() environment=()
    read -r user config_mount run_mount < "$dir/mounts"
    mapfile -d '' command < "$dir/command"
    mapfile -d '' environment < "$dir/environment"
    environment+=("$@")
    mkdir -p "$dir/run"
    chmod 1777 "$dir/run"
    set +e
    podman run --rm "${run_flags[@]}" --read-only --user "$user:$user" -v "$dir/run:$run_mount" \
        -v "$dir/config:$config_mount:ro" -v "$work/pods/data:/data" "${environment[@]/#/--env=}" \
        --entrypoint "${command[0]}" "$image" "${command[@]:1}" > "$work/$name.out" 2> "$work/$name.err"
    echo $? > "$work/$name.status"
    set -e
    echo "$name: exit $(cat "$work/$name.status"); $(tr '\n' ' ' < "$work/$name.err")"
}
if python3 -c 'import yaml' 2> /dev/null; then
    mkdir -p "$work/pods/data/parts"
    cp examples/transactions.jsonl "$work/pods/data/input.jsonl"
    chmod -R a+rwX "$work/pods/data"
    "$outside" export kubernetes --splits 2 --image "$tag" --out "$work/pods/job" 2> /dev/null
    pod "$work/pods/job" job.yaml "$work/pods/job" > "$work/pods/job/mounts"
    for index in 0 1; do
        # The Job controller's $(JOB_COMPLETION_INDEX), as Kubernetes expands it in the command.
        sed -z "s/\$(JOB_COMPLETION_INDEX)/$index/g" "$work/pods/job/command" > "$work/pods/job/command.$index"
        mkdir -p "$work/pods/job-$index"
        cp -r "$work/pods/job/config" "$work/pods/job/mounts" "$work/pods/job/environment" "$work/pods/job-$index/"
        cp "$work/pods/job/command.$index" "$work/pods/job-$index/command"
        run_pod "$work/pods/job-$index" "$tag" "job-pod-$index" "JOB_COMPLETION_INDEX=$index"
    done
    cat "$work/pods/data/parts/part-0.jsonl" "$work/pods/data/parts/part-1.jsonl" > "$work/job.jsonl" 2> /dev/null || true
    cat "$work/job-pod-0.status" "$work/job-pod-1.status" | sort -n | tail -1 > "$work/job.status"
    check "the exported Job's two pods, in the image: their parts are the outside run's output" same_output job
else
    echo "skipped: the exported Job's and stream's pods in the image: PyYAML is not installed (pip install pyyaml)"
fi
if python3 -c 'import yaml' 2> /dev/null; then
    if [ ! -x /bin/busybox ] && command -v apt-get > /dev/null && [ "$(id -u)" -eq 0 ]; then
        echo "== installing busybox-static (apt-get) for the image --with-shell"
        { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static; }
        } > /dev/null 2>&1 || true
    fi
    if [ -x /bin/busybox ]; then
        tools/image/build.sh --no-build --with-shell --tag "$tag-shell" | grep -E '^image '
        rm -f "$work/pods/data/scored.jsonl"
        "$outside" export kubernetes --stream --source 'cat /data/input.jsonl' --sink 'cat > /data/scored.jsonl' \
            --image "$tag-shell" --out "$work/pods/stream" 2> /dev/null
        pod "$work/pods/stream" statefulset.yaml "$work/pods/stream" > "$work/pods/stream/mounts"
        run_pod "$work/pods/stream" "$tag-shell" stream-pod POD_INDEX=0
        cp "$work/pods/data/scored.jsonl" "$work/stream-pod.jsonl" 2> /dev/null || true
        check "the exported stream's pod script, in the image --with-shell: the outside run's output" same_output stream-pod
    else
        echo "skipped: the exported stream's pod in the image --with-shell: no static busybox (apt-get install busybox-static)"
    fi
fi

leftover=$(podman ps --all --filter "ancestor=$tag" --format '{{.ID}}')
check "no container left behind" test -z "$leftover"
if [ $failures -gt 0 ]; then echo "image test: $failures FAILED"; exit 1; fi
echo "image test: passed"
