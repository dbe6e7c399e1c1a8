#!/bin/sh
# Builds the IngestStage library in release (as the pipeline does) and links this benchmark, and
# the C baseline it runs side by side, to it.
# Usage: Benchmarks/ingest/run.sh [jsonl|jsonl-spaced|csv|full|encode|all] [records]
set -e
cd "$(dirname "$0")/../.."
swift build -c release --target IngestStage
B=.build/release
D=Benchmarks/ingest
clang -O2 -march=native -c $D/baseline.c -o $B/ingest-bench-baseline.o
swiftc -O -wmo -Xcc -march=native -I $B/Modules -import-objc-header $D/baseline.h $D/main.swift \
    $B/ingest-bench-baseline.o $B/IngestStage.build/*.o $B/Messages.build/*.o $B/Config.build/*.o -o $B/ingest-bench
$B/ingest-bench "$@"
