#!/bin/bash
# The drift watch's goals, measured with the release build (README, "Watching for drift"):
#  1. no false alarm: RECORDS records drawn like the training data, windows of 10,000: no warn
#     or alert, and the largest PSI and JS distance per field;
#  2. detection: amount's mean up half a standard deviation, then 10 points of country's share
#     moved from US to DE, each from the middle of a stream on: the first window that alerts,
#     and every input field at warn or above in it;
#  3. every window's figures recomputed by numpy (tools/drift_check.py, 1e-6);
#  4. cost: `up` with and without [drift], alternating ROUNDS times, on the demo records and on
#     the bench's tabular-mlp records (64 numeric fields watched): CPU per record and throughput.
#     With perf installed (and allowed to sample every CPU), each process's CPU is also measured
#     from `perf record -a` samples, as a share of infer's (whose work drift does not change):
#     steadier than --stats on a shared machine, where the untouched stages move ±5%.
# Usage: Benchmarks/drift/run.sh [RECORDS [ROUNDS [cost]]]   (default 1000000 3; cost: part 4 only)
#        Benchmarks/drift/run.sh --smoke                     (20,000 records, one round: CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
RECORDS=${1:-1000000}
ROUNDS=${2:-3}
ONLY=${3:-all}
if [ "$RECORDS" = "--smoke" ]; then RECORDS=20000; ROUNDS=1; fi
PIPELINE=$PWD/.build/release/pipeline
[ -x "$PIPELINE" ] || { echo "drift/run.sh: build first: swift build -c release" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HALF=$(( RECORDS / 2 / 10000 * 10000 + 1 ))
[ "$HALF" -gt 1 ] || HALF=$(( RECORDS / 2 + 1 ))

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
config() {  # config FILE DRIFT(yes|no) REFERENCE
    sed "s#\.\./models/demo\.onnx#$PWD/models/demo.onnx#" compose/pipeline.toml > "$1"
    if [ "$2" = yes ]; then printf '\n[drift]\nreference = "%s"\nwindow = 10000\n' "$3" >> "$1"; fi
}
python3 tools/drift_data.py --records 100000 --seed 1 > "$WORK/training.jsonl"
config "$WORK/drift.toml" yes "$WORK/reference.json"
config "$WORK/plain.toml" no ""
"$PIPELINE" profile -f "$WORK/drift.toml" --output "$WORK/reference.json" < "$WORK/training.jsonl"

summarize() {  # summarize EVENTS: drift events and the largest figure per field
    python3 - "$1" <<'PY'
import json, sys
windows, flagged, largest = 0, [], {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "drift_window":
        windows += 1
        for f in e["fields"]:
            key = (f["field"], f["statistic"])
            if f["value"] > largest.get(key, (-1, 0))[0]: largest[key] = (f["value"], e["window"])
    elif e["event"] == "drift":
        flagged.append((e["window"], e["field"], e["level"], e["value"]))
print("  %d windows, %d drift events %s" % (windows, len(flagged), flagged[:6]))
for (field, stat), (v, w) in largest.items():
    print("  largest %-18s %-3s %.5f (window %d)" % (field, stat, v, w))
PY
}

python3 tools/drift_data.py --records "$RECORDS" --seed 2 > "$WORK/same.jsonl"
if [ "$ONLY" = all ]; then
echo
echo "== 1. undrifted: $RECORDS records (seed 2), window 10,000"
"$PIPELINE" up -f "$WORK/drift.toml" --run-dir "$WORK/run" --events "$WORK/same-events.jsonl" \
    < "$WORK/same.jsonl" > "$WORK/same-out.jsonl" 2> "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
summarize "$WORK/same-events.jsonl"
python3 tools/drift_check.py --reference "$WORK/reference.json" --input "$WORK/same.jsonl" --output "$WORK/same-out.jsonl" \
    --events "$WORK/same-events.jsonl" --levels --quiet

for drift in "--shift-mean amount:0.5" "--move-share country:US:DE:10"; do
    echo
    echo "== 2. $drift from record $HALF on ($RECORDS records)"
    # shellcheck disable=SC2086
    python3 tools/drift_data.py --records "$RECORDS" --seed 3 $drift --start "$HALF" > "$WORK/shift.jsonl"
    "$PIPELINE" up -f "$WORK/drift.toml" --run-dir "$WORK/run" --events "$WORK/shift-events.jsonl" \
        < "$WORK/shift.jsonl" > "$WORK/shift-out.jsonl" 2> "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    python3 - "$WORK/shift-events.jsonl" "$HALF" <<'PY'
import json, sys
start = int(sys.argv[2])
by_window = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "drift":
        by_window.setdefault((e["window"], e["first_line"], e["last_line"]), []).append((e["field"], e["level"], round(e["value"], 4)))
before = [(w, f) for w, f in by_window.items() if w[2] < start]
after = sorted(w for w in by_window if w[1] >= start)
print("  drift events before the shift: %s" % (before or "none"))
if after:
    w = after[0]
    print("  first window alerted: %d (lines %d-%d; the shift starts at line %d): %s" % (w[0], w[1], w[2], start, by_window[w]))
    inputs = sorted({f for ws in after for f, level, _ in by_window[ws] if not f.startswith("prediction.")})
    print("  input fields at warn or alert in any window after it: %s" % inputs)
else:
    print("  NOT DETECTED")
PY
    python3 tools/drift_check.py --reference "$WORK/reference.json" --input "$WORK/shift.jsonl" --output "$WORK/shift-out.jsonl" \
        --events "$WORK/shift-events.jsonl" --levels --quiet
done
fi

cost() {  # cost NAME DATA PLAIN_CONFIG DRIFT_CONFIG
    echo
    echo "== 4. cost on $1: up without and with [drift], alternating, $ROUNDS rounds"
    : > "$WORK/cost.txt"
    for _ in $(seq 1 "$ROUNDS"); do
        for mode in off on; do
            cfg=$3; [ $mode = on ] && cfg=$4
            "$PIPELINE" up -f "$cfg" --run-dir "$WORK/run" --stats "$WORK/stats.json" < "$2" > /dev/null 2> "$WORK/err" \
                || { cat "$WORK/err" >&2; exit 1; }
            python3 - "$WORK/stats.json" "$mode" >> "$WORK/cost.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); n = d["records_read"]
cpu = sum(v["cpu_seconds"] for v in d["stages"].values()) + d["supervisor"]["cpu_seconds"]
parts = [v["cpu_seconds"] / n * 1e6 for v in d["stages"].values()] + [d["supervisor"]["cpu_seconds"] / n * 1e6]
print(sys.argv[2], n / d["wall_seconds"], cpu / n * 1e6, *parts)
PY
        done
    done
    python3 - "$WORK/cost.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = ["ingest", "featurize", "infer", "aggregate", "supervisor"]
for mode in ("off", "on"):
    r = [[float(x) for x in row[1:]] for row in rows if row[0] == mode]
    print("  drift %-3s records/s %s  CPU µs/record %s" % (mode, " ".join("%.0f" % x[0] for x in r), " ".join("%.3f" % x[1] for x in r)))
    print("            median µs/record by process: " + ", ".join("%s %.3f" % (name, statistics.median(x[2 + i] for x in r))
                                                          for i, name in enumerate(names)))
off = [(float(row[1]), float(row[2])) for row in rows if row[0] == "off"]
on = [(float(row[1]), float(row[2])) for row in rows if row[0] == "on"]
print("  median throughput on/off: %.3f; median CPU per record on/off: %.3f" % (
    statistics.median(x[0] for x in on) / statistics.median(x[0] for x in off),
    statistics.median(x[1] for x in on) / statistics.median(x[1] for x in off)))
# Each "on" run beside the "off" run just before it: the machine's load drifts slowly, so
# neighbours share it; the median of those ratios is the steadier figure.
print("  median of paired ratios (each on run / the off run before it): throughput %.3f, CPU per record %.3f" % (
    statistics.median(b[0] / a[0] for a, b in zip(off, on)), statistics.median(b[1] / a[1] for a, b in zip(off, on))))
PY
}
perfshares() {  # perfshares DATA PLAIN_CONFIG DRIFT_CONFIG: per-process CPU from perf samples, over infer's
    perf record -q -a -o "$WORK/probe.data" -- true > /dev/null 2>&1 || { echo "  (perf cannot sample every CPU here: skipped)"; return 0; }
    : > "$WORK/shares.txt"
    for _ in $(seq 1 "$ROUNDS"); do
        for mode in off on; do
            cfg=$2; [ $mode = on ] && cfg=$3
            perf record -q -a -o "$WORK/perf.data" -- "$PIPELINE" up -f "$cfg" --run-dir "$WORK/run" --stats "$WORK/stats.json" \
                < "$1" > /dev/null 2> "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
            python3 - "$WORK/stats.json" "$mode" >> "$WORK/shares.txt" <<PY
import json, subprocess, sys
report = subprocess.run(["perf", "report", "-i", "$WORK/perf.data", "--sort", "comm", "--stdio"], capture_output=True, text=True).stdout
share = {}
for line in report.splitlines():
    parts = line.split()
    if len(parts) == 2 and parts[0].endswith("%"): share[parts[1]] = float(parts[0][:-1])
d = json.load(open(sys.argv[1])); infer = d["stages"]["infer"]["cpu_seconds"] / d["records_read"] * 1e6
print(sys.argv[2], infer, *(share.get(c, 0) / share["infer"] for c in ("ingest", "featurize", "aggregate", "pipeline")))
PY
        done
    done
    python3 - "$WORK/shares.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = ["ingest", "featurize", "aggregate", "supervisor"]
infer = statistics.median(float(r[1]) for r in rows)
off = [[float(x) for x in r[2:]] for r in rows if r[0] == "off"]
on = [[float(x) for x in r[2:]] for r in rows if r[0] == "on"]
deltas = [statistics.median(b[i] - a[i] for a, b in zip(off, on)) * infer for i in range(4)]
total = infer * (1 + sum(statistics.median(a[i] for a in off) for i in range(4)))
print("  perf samples (each process over infer, paired, × infer's %.3f µs): " % infer
      + ", ".join("%s %+.3f" % (n, d) for n, d in zip(names, deltas))
      + " µs/record; drift on adds %.1f%% of %.2f µs" % (100 * sum(deltas) / total, total))
PY
}

cost "the demo records ($RECORDS)" "$WORK/same.jsonl" "$WORK/plain.toml" "$WORK/drift.toml"

"$PIPELINE" bench --workload tabular-mlp --records "$RECORDS" --write-data "$WORK/mlp" > /dev/null 2>&1
head -n 100000 "$WORK/mlp/tabular-mlp.jsonl" > "$WORK/mlp/training.jsonl"
"$PIPELINE" profile -f "$WORK/mlp/tabular-mlp.toml" --output "$WORK/mlp/reference.json" < "$WORK/mlp/training.jsonl" 2> /dev/null
cp "$WORK/mlp/tabular-mlp.toml" "$WORK/mlp/drift.toml"
printf '\n[drift]\nreference = "reference.json"\nwindow = 10000\n' >> "$WORK/mlp/drift.toml"
cost "tabular-mlp ($RECORDS records, 64 fields watched)" "$WORK/mlp/tabular-mlp.jsonl" "$WORK/mlp/tabular-mlp.toml" "$WORK/mlp/drift.toml"
perfshares "$WORK/mlp/tabular-mlp.jsonl" "$WORK/mlp/tabular-mlp.toml" "$WORK/mlp/drift.toml"
