#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (see README.md, "Fuzzing").
#
#   fuzz/run.sh [TARGET|all] [SECONDS]   build, then fuzz each target SECONDS (default 60) in turn
#   fuzz/run.sh --smoke                  every target for about 10 s
#   fuzz/run.sh --build [TARGET|all]     build only
#   fuzz/run.sh --repro TARGET FILE...   run the target once on the given inputs (a crash's file)
#   fuzz/run.sh --seeds                  regenerate the committed seed corpus (fuzz/corpus)
#   fuzz/run.sh --merge TARGET           minimize the work corpus into fuzz/corpus/TARGET
#
# Targets: frames (Shared/Messages), csv and jsonl (the source's InputSplitter + ingest), onnx
# (Shared/Engine: the ONNX reader, loader and session, on model files) and graph (the same on
# models written from the input's choices). Each harness is compiled with the module sources it
# needs, module by module as Package.swift builds them, with -sanitize=fuzzer,address into
# .build-fuzz/. It runs on .build-fuzz/corpus/TARGET, a copy of fuzz/corpus/TARGET that keeps
# what libFuzzer adds (delete it to start over). Crashes land in .build-fuzz/artifacts/TARGET.
# Prints one line per target; exits 1 when a target crashed (or leaked, ran out of memory or
# time), 2 on a usage or build error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/.build-fuzz"
SWIFTC=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}
TARGETS=(frames csv jsonl onnx graph)

# -O: Swift keeps every safety check (bounds, overflow, preconditions) at -O, and ASan checks the
# unsafe-pointer code either way; -O runs 3-5x more inputs per second than -Onone, and builds the
# code the product ships. The harnesses fold every value they read into a sink so that no read is
# optimized away. -march=native as in Package.swift: the SIMD kernels take the same paths.
FLAGS=(-parse-as-library -O -wmo -swift-version 6 -sanitize=fuzzer,address -Xcc -march=native
       -gline-tables-only -module-cache-path "$OUT/module-cache")

# Swift's own crash backtracer reads the stack in a way ASan reports as an error of its own;
# libFuzzer already prints the stack and keeps the input.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}

die() { echo "fuzz/run.sh: $*" >&2; exit 2; }

sources_of() {  # the Swift sources of a Package.swift target
    case $1 in
        Messages) find "$ROOT/Shared/Messages" -name '*.swift' ;;
        Config) find "$ROOT/Shared/Config" -name '*.swift' ;;
        Kernels) find "$ROOT/Shared/Kernels" -name '*.swift' ;;
        IngestStage) find "$ROOT/Services/ingest/Sources" -name '*.swift' ;;
        Engine) find "$ROOT/Shared/Engine" -name '*.swift' ;;
        *) die "unknown module $1" ;;
    esac | sort
}

modules_of() {  # the modules a target links, dependencies last (static link order)
    case $1 in
        frames) echo Messages ;;
        csv|jsonl) echo IngestStage Config Messages ;;
        onnx|graph) echo Engine Kernels ;;
        *) die "unknown target '$1' (targets: ${TARGETS[*]})" ;;
    esac
}

harness_of() {  # the files compiled into a target's own module
    local h="$ROOT/fuzz/harnesses"
    case $1 in
        frames) echo "$h/FuzzSupport.swift $h/frames.swift" ;;
        csv) echo "$h/FuzzSupport.swift $h/SplitDriver.swift $h/csv.swift $ROOT/Supervisor/Source/InputSplitter.swift" ;;
        jsonl) echo "$h/FuzzSupport.swift $h/SplitDriver.swift $h/jsonl.swift $ROOT/Supervisor/Source/InputSplitter.swift" ;;
        onnx) echo "$h/FuzzSupport.swift $h/OnnxRun.swift $h/onnx.swift" ;;
        graph) echo "$h/FuzzSupport.swift $h/OnnxRun.swift $h/graph.swift $ROOT/Tests/EngineTestSupport/ProtoWriter.swift" ;;
    esac
}

flags_of() {  # libFuzzer options per target
    local common=(-rss_limit_mb=2560 -malloc_limit_mb=2560 -timeout=20 -print_final_stats=1 -reload=0)
    case $1 in
        frames) echo "${common[*]} -max_len=16384" ;;
        csv) echo "${common[*]} -max_len=16384 -dict=$ROOT/fuzz/dict/csv.dict" ;;
        jsonl) echo "${common[*]} -max_len=16384 -dict=$ROOT/fuzz/dict/json.dict" ;;
        onnx) echo "${common[*]} -max_len=65536 -dict=$ROOT/fuzz/dict/onnx.dict" ;;
        graph) echo "${common[*]} -max_len=4096" ;;
    esac
}

newer_than() {  # true when any of the files after $1 is newer than $1 (or $1 is missing)
    local stamp=$1; shift
    [[ -e $stamp ]] || return 0
    local f
    for f in "$@"; do [[ $f -nt $stamp ]] && return 0; done
    return 1
}

build_module() {
    local m=$1 dir="$OUT/modules"
    mkdir -p "$dir"
    local srcs
    mapfile -t srcs < <(sources_of "$m")
    local deps=() d
    for d in $(modules_of_module "$m"); do deps+=("$dir/lib$d.a"); done
    newer_than "$dir/lib$m.a" "${srcs[@]}" "${deps[@]}" "$0" || return 0
    echo "building module $m" >&2
    "$SWIFTC" "${FLAGS[@]}" -module-name "$m" -I "$dir" -emit-module -emit-module-path "$dir/$m.swiftmodule" \
        -emit-library -static -o "$dir/lib$m.a" "${srcs[@]}" 2> >(grep -v 'Cannot export local symbol' >&2)
}

modules_of_module() {  # direct dependencies of a module (Package.swift)
    case $1 in
        IngestStage) echo Messages Config ;;
        Engine) echo Kernels ;;
        *) ;;
    esac
}

build() {
    local t=$1 m
    local mods
    read -r -a mods <<< "$(modules_of "$t")"
    for ((i = ${#mods[@]} - 1; i >= 0; i--)); do build_module "${mods[i]}"; done
    local files libs=()
    read -r -a files <<< "$(harness_of "$t")"
    for m in "${mods[@]}"; do libs+=("-l$m"); done
    mkdir -p "$OUT/bin"
    local stamps=()
    for m in "${mods[@]}"; do stamps+=("$OUT/modules/lib$m.a"); done
    newer_than "$OUT/bin/$t" "${files[@]}" "${stamps[@]}" "$0" || return 0
    echo "building fuzz target $t" >&2
    # ld.gold warns about every ASan trampoline symbol; the warnings are noise.
    "$SWIFTC" "${FLAGS[@]}" -module-name "Fuzz_$t" -I "$OUT/modules" -L "$OUT/modules" "${files[@]}" "${libs[@]}" \
        -o "$OUT/bin/$t" 2> >(grep -v 'Cannot export local symbol' >&2)
}

# One line: target, seconds, executions, execs/s, coverage (edges, features, corpus), peak RSS,
# and "ok" or what was found.
run_target() {
    local t=$1 seconds=$2
    local corpus="$OUT/corpus/$t" artifacts="$OUT/artifacts/$t" log="$OUT/logs/$t.log"
    mkdir -p "$corpus" "$artifacts" "$OUT/logs"
    cp -n "$ROOT/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
    local before flags status=0
    before=$(ls -1 "$artifacts" | sort)
    read -r -a flags <<< "$(flags_of "$t")"
    "$OUT/bin/$t" "${flags[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1 \
        || status=$?
    local last execs rate rss cov new
    last=$(grep -a -E '^#[0-9]+' "$log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n $execs ]] || execs=$(sed -E 's/^#([0-9]+).*/\1/' <<< "$last")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/([^ ]+).*/cov \1 ft \2 corpus \3 (\4)/' <<< "$last")
    new=$(comm -13 <(echo "$before") <(ls -1 "$artifacts" | sort) | head -1)
    local verdict=ok
    if (( status != 0 )) || [[ -n $new ]]; then
        local what
        what=$(grep -a -m1 -E 'Fatal error|ERROR:' "$log" | cut -c1-200)
        verdict="FOUND: ${what:-exit status $status}; input ${new:+$artifacts/$new}; log $log"
    fi
    printf '%-6s %5ss %11s execs %6s/s  %s  rss %sMB  %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
        "${cov:-cov ?}" "${rss:-?}" "$verdict"
    [[ $verdict == ok ]]
}

targets_for() {
    if [[ ${1:-all} == all ]]; then echo "${TARGETS[*]}"; else modules_of "$1" > /dev/null; echo "$1"; fi
}

case ${1:-all} in
    --build)
        for t in $(targets_for "${2:-all}"); do build "$t"; done ;;
    --seeds)
        mkdir -p "$OUT/seeds"
        mapfile -t msgs < <(sources_of Messages)
        "$SWIFTC" -parse-as-library -Onone -swift-version 6 -module-name MakeSeeds -module-cache-path "$OUT/module-cache" \
            "${msgs[@]}" "$ROOT/fuzz/seeds/MakeSeeds.swift" -o "$OUT/seeds/make-seeds"
        (cd "$ROOT" && "$OUT/seeds/make-seeds" fuzz/corpus) ;;
    --repro)
        t=${2:?--repro TARGET FILE...}; shift 2
        build "$t"
        read -r -a flags <<< "$(flags_of "$t")"
        exec "$OUT/bin/$t" "${flags[@]}" -runs=1 "$@" ;;
    --merge)
        t=${2:?--merge TARGET}
        build "$t"
        read -r -a flags <<< "$(flags_of "$t")"
        tmp=$(mktemp -d)
        mkdir -p "$OUT/logs" "$OUT/corpus/$t"
        "$OUT/bin/$t" "${flags[@]}" -merge=1 "$tmp" "$ROOT/fuzz/corpus/$t" "$OUT/corpus/$t" > "$OUT/logs/merge-$t.log" 2>&1
        rm -f "$ROOT/fuzz/corpus/$t"/*
        cp "$tmp"/* "$ROOT/fuzz/corpus/$t"/
        rm -rf "$tmp"
        echo "fuzz/corpus/$t: $(ls "$ROOT/fuzz/corpus/$t" | wc -l) files, $(du -sh "$ROOT/fuzz/corpus/$t" | cut -f1)" ;;
    --smoke|-*)
        [[ $1 == --smoke ]] || die "unknown option $1 (see the comment at the top of this script)"
        for t in "${TARGETS[@]}"; do build "$t"; done
        failed=0
        for t in "${TARGETS[@]}"; do run_target "$t" 10 || failed=1; done
        exit $failed ;;
    *)
        seconds=${2:-60}
        [[ $seconds =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number, got '$seconds'"
        list=$(targets_for "$1")
        for t in $list; do build "$t"; done
        failed=0
        for t in $list; do run_target "$t" "$seconds" || failed=1; done
        exit $failed ;;
esac
