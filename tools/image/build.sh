#!/usr/bin/env bash
# Builds the container image: `pipeline` and the four stages, per x86-64 level, the few glibc
# libraries they load, and nothing else (see README, "The container image").
#
#   tools/image/build.sh [--tag NAME] [--with-shell] [--no-build] [--rootfs-only]
#
# 1. builds in release, each level in its own build path, the Swift runtime linked in
#    (--static-swift-stdlib): `pipeline` for the x86-64 baseline (.build-x86-64: it runs on any
#    x86-64 CPU, so it can say which level a CPU lacks), the stages for x86-64-v3 (AVX2 + FMA)
#    and x86-64-v4 (AVX-512) (.build-x86-64-v3, .build-x86-64-v4);
# 2. assembles the root filesystem in .build-image/rootfs.tar:
#      /usr/local/bin/pipeline
#      /usr/local/lib/pipeline/x86-64-v3/{ingest,featurize,infer,aggregate}
#      /usr/local/lib/pipeline/x86-64-v4/{ingest,featurize,infer,aggregate}
#      the libraries `ldd` names for them (glibc's libc, libm, the loader; libstdc++, libgcc_s)
#      /etc/passwd, /etc/group: root and the user `pipeline` (65532), whom the image runs as
#      /models/demo.onnx: the demo model, where `pipeline export kubernetes` looks for models
#      /usr/local/share/pipeline/compose/pipeline.toml: the default config (the working
#        directory; its `../models/demo.onnx` is /usr/local/share/pipeline/models → /models)
#      /run/pipeline: the run directory's root, 0700 and the user's (a volume), and /tmp (1777)
# 3. builds the image from it with podman (or docker, when its daemon answers):
#    tools/image/Containerfile, FROM scratch.
#
# The image is tagged pipeline:VERSION (`pipeline --version`; what `pipeline export kubernetes`
# names by default) and pipeline:latest, or --tag NAME. --with-shell (into .build-image-shell)
# adds /bin/busybox (Debian's busybox-static: apt-get install busybox-static) and its links sh,
# mkfifo, mkdir, rm, kill, cat: the POSIX shell and tools the pods of `pipeline export kubernetes
# --stream` run their script with (the default image has no shell). --no-build assembles from
# the builds already made; --rootfs-only stops before step 3.
# Environment: PIPELINE_IMAGE_LEVELS ("x86-64-v3 x86-64-v4") the stage levels;
# PIPELINE_IMAGE_ENGINE (podman | docker) to choose the engine.
set -euo pipefail
cd "$(dirname "$0")/../.."

tags=()
build=1
image=1
shell=0
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) tags=("${2:?--tag needs a name}"); shift 2 ;;
        --with-shell) shell=1; shift ;;
        --no-build) build=0; shift ;;
        --rootfs-only) image=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

levels=${PIPELINE_IMAGE_LEVELS:-x86-64-v3 x86-64-v4}
stages="ingest featurize infer aggregate"
supervisor_level=x86-64
uid=65532
out=.build-image
[ "$shell" -eq 0 ] || out=.build-image-shell

build_products() {  # LEVEL PRODUCT…
    local level=$1; shift
    for product in "$@"; do
        PIPELINE_MARCH=$level swift build -c release --static-swift-stdlib --build-path ".build-$level" --product "$product" || return 1
    done
}

if [ "$build" -eq 1 ]; then
    # Two builds at once: a release build is mostly one module compiling after another (one core
    # busy), so `pipeline` (every module, for the baseline) builds beside the stages' levels.
    logs=$(mktemp -d)
    trap 'rm -rf "$logs"' EXIT
    start=$(date +%s)
    echo "== build: pipeline for $supervisor_level (.build-$supervisor_level) and the stages for $levels (.build-<level>), release"
    build_products "$supervisor_level" pipeline > "$logs/supervisor" 2>&1 &
    supervisor=$!
    # shellcheck disable=SC2086
    (for level in $levels; do build_products "$level" $stages || exit 1; done) > "$logs/stages" 2>&1 &
    stages_pid=$!
    failed=0
    wait $supervisor || failed=1
    wait $stages_pid || failed=1
    for log in "$logs/supervisor" "$logs/stages"; do
        grep -E "error:|warning:" "$log" | sort -u | head -40 || true
    done
    [ $failed -eq 0 ] || { echo "build.sh: a build failed" >&2; exit 1; }
    echo "built in $(( $(date +%s) - start )) s"
fi

echo "== root filesystem ($out/rootfs)"
root=$out/rootfs
rm -rf "$root" "$out/rootfs.tar"
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/usr/local/share/pipeline/compose" "$root/models" \
    "$root/run/pipeline" "$root/tmp"
binaries=("$root/usr/local/bin/pipeline")
install -m 0755 ".build-$supervisor_level/release/pipeline" "$root/usr/local/bin/pipeline"
for level in $levels; do
    mkdir -p "$root/usr/local/lib/pipeline/$level"
    for stage in $stages; do
        install -m 0755 ".build-$level/release/$stage" "$root/usr/local/lib/pipeline/$level/$stage"
        binaries+=("$root/usr/local/lib/pipeline/$level/$stage")
    done
done
# Each binary's instructions against its level, on the disassembly (a flag that did not reach a
# build would otherwise show only as SIGILL on another machine): `pipeline` uses no VEX or EVEX
# instruction, the x86-64-v3 stages no AVX-512 register (zmm, k, xmm/ymm16-31), the x86-64-v4
# ones some. The int8 GEMM's modules are left out: fixed targets, chosen at run time.
functions_using() {  # BINARY REGEX: how many functions outside the int8 modules match
    objdump -d --no-show-raw-insn "$1" | awk -v re="$2" '/^[0-9a-f]+ <.*>:$/ { fn = $2 } $0 ~ re { print fn }' \
        | sort -u | grep -Evc 'Int8VNNI|Int8AVX2' || true
}
avx512='%zmm|%k[0-7]|%[xy]mm(1[6-9]|2[0-9]|3[01])'
check_level() {  # BINARY LEVEL
    local n
    case "$2" in
        x86-64) n=$(functions_using "$1" ':\tv[a-z]'); [ "$n" -eq 0 ] || { echo "build.sh: $1: $n functions use AVX, built for x86-64" >&2; exit 1; } ;;
        x86-64-v4) n=$(functions_using "$1" "$avx512"); [ "$n" -gt 0 ] || { echo "build.sh: $1: no AVX-512, built for x86-64-v4" >&2; exit 1; } ;;
        *) n=$(functions_using "$1" "$avx512"); [ "$n" -eq 0 ] || { echo "build.sh: $1: $n functions use AVX-512, built for $2" >&2; exit 1; } ;;
    esac
}
check_level "$root/usr/local/bin/pipeline" "$supervisor_level"
for level in $levels; do
    for stage in $stages; do check_level "$root/usr/local/lib/pipeline/$level/$stage" "$level"; done
done
echo "instructions: pipeline without AVX; $(echo "$levels" | sed 's/ /, /g') as built for"

# Debug info and symbol tables go (a third of each binary): the Swift runtime needs neither, and
# without its backtracer (not in the image) a crash prints no symbol anyway.
strip --strip-all "${binaries[@]}"

# Every library the loader would map, at the path it maps it from (ldd: "name => path" and the
# interpreter's own line); the loader's default directories hold them, so no ld.so.cache is needed.
libraries=$(for b in "${binaries[@]}"; do
    if ldd "$b" | grep -q 'not found'; then echo "build.sh: $b: a library is missing:" >&2; ldd "$b" >&2; exit 1; fi
    ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u)
for lib in $libraries; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
    chmod 0755 "$root$lib"
done

printf 'root:x:0:0:root:/root:/sbin/nologin\npipeline:x:%d:%d:pipeline:/run/pipeline:/sbin/nologin\n' "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\npipeline:x:%d:\n' "$uid" > "$root/etc/group"
install -m 0644 compose/pipeline.toml "$root/usr/local/share/pipeline/compose/pipeline.toml"
if [ "$shell" -eq 1 ]; then
    [ -x /bin/busybox ] && ! ldd /bin/busybox > /dev/null 2>&1 \
        || { echo "build.sh: --with-shell needs a static /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }
    mkdir -p "$root/bin"
    install -m 0755 /bin/busybox "$root/bin/busybox"
    for applet in sh mkfifo mkdir rm kill cat; do ln -s busybox "$root/bin/$applet"; done
fi
install -m 0644 models/demo.onnx "$root/models/demo.onnx"
ln -s /models "$root/usr/local/share/pipeline/models"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
find "$root" -type d -exec chmod 0755 {} +
chmod 0700 "$root/run/pipeline"
chmod 1777 "$root/tmp"

# Owned by root but for the run directory's root, which is the user's; fixed times, sorted
# names: the same binaries make the same layer.
tar_flags=(--sort=name --mtime=@0 --numeric-owner --format=gnu)
tar -C "$root" "${tar_flags[@]}" --owner=0 --group=0 --exclude=./run/pipeline -cf "$out/rootfs.tar" .
tar -C "$root" "${tar_flags[@]}" --owner="$uid" --group="$uid" -rf "$out/rootfs.tar" ./run/pipeline
cp tools/image/Containerfile "$out/Containerfile"
echo "binaries: ${#binaries[@]}; libraries: $(echo "$libraries" | xargs -n1 basename | tr '\n' ' ')"
echo "root filesystem: $(du -sh "$root" | cut -f1) ($out/rootfs.tar: $(du -h "$out/rootfs.tar" | cut -f1))"
[ "$image" -eq 1 ] || exit 0

version=$("$root/usr/local/bin/pipeline" --version | awk '{ print $2 }')
[ ${#tags[@]} -gt 0 ] || tags=("pipeline:$version" pipeline:latest)
engine=${PIPELINE_IMAGE_ENGINE:-}
if [ -z "$engine" ]; then
    if command -v podman > /dev/null; then engine=podman
    elif command -v docker > /dev/null && docker info > /dev/null 2>&1; then engine=docker
    else
        echo "build.sh: neither podman nor a docker with a running daemon is here; the root filesystem is $out/rootfs.tar" >&2
        exit 3
    fi
fi
echo "== $engine build: ${tags[*]}"
"$engine" build --quiet "${tags[@]/#/--tag=}" -f "$out/Containerfile" "$out" > /dev/null
size=$("$engine" image inspect --format '{{.Size}}' "${tags[0]}")
echo "image ${tags[*]}: $((size / 1000000)) MB ($size bytes)"
