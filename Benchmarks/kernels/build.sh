#!/bin/sh
# Builds the Kernels sources and main.swift into one optimized binary at $1, as SwiftPM's release
# build would: the int8 modules first, each with its own flags (Package.swift), then Kernels and
# main.swift whole-module with the host's CPU features.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/kernels-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
module() {  # name, source directory, flags...
    name=$1; dir=$2; shift 2
    swiftc -O -wmo -parse-as-library "$@" -module-name "$name" -emit-module -emit-module-path "$work/$name.swiftmodule" \
        -c "$root/$dir"/*.swift -o "$work/$name.o"
}
module Int8VNNI Shared/KernelsInt8/VNNI -parse-stdlib -Xcc -march=x86-64-v4 -Xcc -mavx512vnni
module Int8AVX2 Shared/KernelsInt8/AVX2 -parse-stdlib -Xcc -march=x86-64-v3
# The guarantees runtime dispatch rests on, checked on every build: the AVX2 path has no zmm
# register and no EVEX (AVX-512) encoding, the VNNI path uses vpdpbusd, and neither module
# defines a symbol the linker could share with (and resolve to) code built for other features.
objdump -d "$work/Int8AVX2.o" > "$work/avx2.s"
if grep -Eq 'zmm|ymm(1[6-9]|2[0-9]|3[01])|xmm(1[6-9]|2[0-9]|3[01])|%k[0-7]|\{1to' "$work/avx2.s"; then
    echo "build.sh: the AVX2 module contains AVX-512 instructions" >&2; exit 1
fi
objdump -d "$work/Int8VNNI.o" | grep -q vpdpbusd || { echo "build.sh: no vpdpbusd in the VNNI module" >&2; exit 1; }
for name in Int8VNNI Int8AVX2; do
    shared=$(nm "$work/$name.o" | awk '$2 ~ /^[WwVv]$/ && $3 !~ /^\$s[0-9]+'"$name"'/ && $3 != "__swift_reflection_version"')
    [ -z "$shared" ] || { echo "build.sh: $name defines shared symbols: $shared" >&2; exit 1; }
done
swiftc -O -wmo -Xcc -march=native -I "$work" -module-name BenchKernels \
    "$root"/Shared/Kernels/*.swift "$here/main.swift" "$work/Int8VNNI.o" "$work/Int8AVX2.o" -o "$out"
