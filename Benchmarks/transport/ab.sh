#!/bin/bash
# The shared-memory rings against the sockets only, side by side: runs `pipeline up` on a
# workload's records ROUNDS times each way, alternating (PIPELINE_SHARED_MEMORY_MB=0, then 16),
# and prints each run's wall time and CPU µs per record by process (system time in brackets).
# Usage: Benchmarks/transport/ab.sh CONFIG RECORDS [ROUNDS]
#   e.g. .build/release/pipeline bench --workload tabular-mlp --write-data /tmp/data
#        Benchmarks/transport/ab.sh /tmp/data/tabular-mlp.toml /tmp/data/tabular-mlp.jsonl 5
set -e
cd "$(dirname "$0")/../.."
CONFIG=${1:?usage: ab.sh CONFIG RECORDS [ROUNDS]}
DATA=${2:?usage: ab.sh CONFIG RECORDS [ROUNDS]}
ROUNDS=${3:-3}
PIPELINE=.build/release/pipeline
[ -x "$PIPELINE" ] || { echo "ab.sh: build first: swift build -c release" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for _ in $(seq 1 "$ROUNDS"); do
    for mb in 0 16; do
        PIPELINE_SHARED_MEMORY_MB=$mb "$PIPELINE" up -f "$CONFIG" --run-dir "$WORK/run" --stats "$WORK/stats.json" \
            < "$DATA" > /dev/null 2> "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
        python3 - "$WORK/stats.json" "$mb" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); n = d["records_read"] / 1e6
stages = d["stages"]; sup = d["supervisor"]
parts = " ".join("%s %.2f(%.2f)" % (k, v["cpu_seconds"] / n, v["system_seconds"] / n) for k, v in stages.items())
total = (sum(v["cpu_seconds"] for v in stages.values()) + sup["cpu_seconds"]) / n
print("rings %-7s wall %.2f s  %s  supervisor %.2f(%.2f)  total %.2f µs/record" % (
    "off" if sys.argv[2] == "0" else sys.argv[2] + " MiB", d["wall_seconds"], parts, sup["cpu_seconds"] / n,
    sup["system_seconds"] / n, total))
PY
    done
done
