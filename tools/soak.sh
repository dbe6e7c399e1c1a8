#!/usr/bin/env bash
# The long versions of the fault tests (issue 3), run by hand, not in CI:
#   1. kill -9 of a random replica every 200 ms while 1M records stream; the output must be
#      byte-identical to a fault-free run.
#   2. a stdout reader limited to 1 MB/s against a 1 GB input: every process's RSS is sampled
#      and must stay flat; stdin must be read only as fast as output drains.
# Usage: tools/soak.sh [storm|slow|all] (default all). Needs a release build:
#   swift build -c release
# STORM_SECONDS=N feeds the storm's input over about N seconds (default: as fast as it goes,
# which on a fast machine leaves time for only a few kills).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/pipeline
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 2; }
what=${1:-all}
work=$(mktemp -d /tmp/soak-XXXXXX)
trap 'pkill -9 -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

# A config for the demo model whose stages may restart often.
cfg=$work/soak.toml
sed -e "s|path = \"../models/demo.onnx\"|path = \"$PWD/models/demo.onnx\"|" -e 's/restart = { max = 5, within_s = 30 }/restart = { max = 100000, within_s = 30 }/' compose/pipeline.toml > "$cfg"
for s in ingest featurize aggregate; do printf '\n[stage.%s]\nreplicas = 2\nrestart = { max = 100000, within_s = 30 }\n' "$s" >> "$cfg"; done

# records N PAD: N demo records, each with an ignored "pad" field of PAD bytes.
records() {
  awk -v n="$1" -v pad="$2" 'BEGIN { srand(7); c[0]="US"; c[1]="DE"; c[2]="FR"; c[3]="GB"; c[4]="IT";
    p = ""; for (i = 0; i < pad; i++) p = p "x";
    for (i = 1; i <= n; i++) printf "{\"id\":%d,\"amount\":%.2f,\"hour\":%d,\"country\":\"%s\",\"is_new_customer\":%s,\"pad\":\"%s\"}\n",
      i, rand() * 200, int(rand() * 24), c[int(rand() * 5)], (rand() < 0.3 ? "true" : "false"), p }'
}

if [ "$what" = storm ] || [ "$what" = all ]; then
  echo "== storm: 1M records of ~870 bytes, kill -9 a random replica every 200 ms"
  records 1000000 780 > "$work/in.jsonl"
  "$bin" up -f "$cfg" --run-dir "$work/ref" < "$work/in.jsonl" > "$work/ref.out" 2> "$work/ref.err"
  tail -1 "$work/ref.err"
  run=$work/storm
  ( kills=0
    while [ ! -S "$run/control.sock" ]; do sleep 0.05; done
    while [ -S "$run/control.sock" ]; do
      sleep 0.2
      pid=$(pgrep -f -- "--control $run/control.sock" | shuf -n1 || true)
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    done
    echo "$kills" > "$work/kills" ) &
  status=0
  seconds=${STORM_SECONDS:-0}
  if [ "$seconds" -gt 0 ]; then
    # Paced: the input in 10 pieces a second.
    size=$(stat -c %s "$work/in.jsonl"); piece=$((size / seconds / 10 + 1)); pieces=$(((size + piece - 1) / piece))
    ( for _ in $(seq "$pieces"); do dd bs="$piece" count=1 iflag=fullblock status=none; sleep 0.1; done ) < "$work/in.jsonl" |
      "$bin" up -f "$cfg" --run-dir "$run" > "$work/storm.out" 2> "$work/storm.err" || status=$?
  else
    "$bin" up -f "$cfg" --run-dir "$run" < "$work/in.jsonl" > "$work/storm.out" 2> "$work/storm.err" || status=$?
  fi
  wait
  echo "exit $status, $(cat "$work/kills") replicas killed, $(grep -c restarting "$work/storm.err") restarts"
  tail -1 "$work/storm.err"
  if cmp -s "$work/ref.out" "$work/storm.out"; then echo "storm: output byte-identical to the fault-free run"; else echo "storm: OUTPUT DIFFERS"; exit 1; fi
fi

if [ "$what" = slow ] || [ "$what" = all ]; then
  echo "== slow reader: 1 GB input (870-byte records), stdout read at 1 MB/s"
  records 1200000 780 > "$work/big.jsonl"
  ls -l "$work/big.jsonl" | awk '{ printf "input: %.2f GB\n", $5 / 1e9 }'
  run=$work/slow
  exec 3< "$work/big.jsonl"
  # A reader taking 64 KiB every 1/16 s: 1 MB/s.
  "$bin" up -f "$cfg" --run-dir "$run" <&3 2> "$work/slow.err" | (
    while IFS= read -r -d '' -N 65536 _; do sleep 0.0625; done ) &
  sleep 1
  sup=$(pgrep -f -- "up -f $cfg --run-dir $run" | head -1)
  echo "  t(s)  stdin read (MB)  RSS supervisor / max replica (MB)"
  t=0
  while kill -0 "$sup" 2>/dev/null; do
    pos=$(awk '/^pos:/ { print $2 }' "/proc/$sup/fdinfo/0" 2>/dev/null || echo 0)
    sr=$(awk '/VmRSS/ { print $2 }' "/proc/$sup/status" 2>/dev/null || echo 0)
    mr=0
    for p in $(pgrep -f -- "--control $run/control.sock"); do
      r=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0); [ "$r" -gt "$mr" ] && mr=$r
    done
    [ $((t % 10)) -eq 0 ] && printf "  %4d  %15.1f  %6.1f / %.1f\n" "$t" "$(echo "$pos / 1000000" | bc -l)" "$(echo "$sr / 1024" | bc -l)" "$(echo "$mr / 1024" | bc -l)"
    sleep 1; t=$((t + 1))
  done
  wait
  tail -1 "$work/slow.err"
fi
