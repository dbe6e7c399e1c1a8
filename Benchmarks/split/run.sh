#!/usr/bin/env bash
# What splitting a file costs: the CPU (supervisor + every replica, from --stats) of N split
# runs, one after the other, against one run over the whole file, and the parts concatenated
# compared with the whole run's output byte for byte.
#   Benchmarks/split/run.sh [COPIES [ROUNDS [N ...]]]    (default: 1000 copies of the demo sample
#   = 1M records, 3 rounds, N = 3 and 8). Needs `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/../.."
copies=${1:-1000}; rounds=${2:-3}; shift $(( $# > 2 ? 2 : $# )) || true
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(3 8)
P=$PWD/.build/release/pipeline
work=$(mktemp -d /tmp/pipeline-split-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$copies"); do cat examples/transactions.jsonl; done > "$work/in.jsonl"
sed -e "s#\"../models/demo.onnx\"#\"$PWD/models/demo.onnx\"#" compose/pipeline.toml > "$work/demo.toml"
cpu() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['supervisor']['cpu_seconds'] + sum(v.get('cpu_seconds', 0) for v in s['stages'].values()))" "$1"; }
run() {  # run NAME [up options...]
    local name=$1; shift
    mkdir -m 700 "$work/run-$name"
    "$P" up -f "$work/demo.toml" --run-dir "$work/run-$name" --input "$work/in.jsonl" --output "$work/$name.out" --stats "$work/$name.json" --quiet "$@" 2> "$work/$name.err" || { cat "$work/$name.err" >&2; return 1; }
    cpu "$work/$name.json"
}
echo "input: $(wc -l < "$work/in.jsonl") records, $(wc -c < "$work/in.jsonl") bytes; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for round in $(seq "$rounds"); do
    for n in "${counts[@]}"; do
        rm -rf "$work"/run-* "$work"/*.out "$work"/*.json
        whole=$(run whole)
        total=0
        for i in $(seq 0 $((n - 1))); do total=$(python3 -c "print($total + $(run "part$i" --split "$i/$n"))"); done
        for i in $(seq 0 $((n - 1))); do cat "$work/part$i.out"; done | cmp -s - "$work/whole.out" && same=identical || same=DIFFERENT
        python3 -c "print(f'round $round, N=$n: one run {$whole:.2f} s CPU, the splits {$total:.2f} s in all: {$total / $whole:.3f}x; parts concatenated: $same')"
        [ "$same" = identical ]
    done
done
