"""Runs the Swift benchmark (run.sh's binary) and compare.py alternately, N rounds, and prints
the best figure each one reached for every shape: on a shared machine the best of several
interleaved runs is the fairest estimate of what each can do.

Run: python3 Benchmarks/kernels/side_by_side.py [rounds]   (default 5)
"""
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
binary = "/tmp/kernels-bench-side-by-side"
subprocess.run([os.path.join(here, "build.sh"), binary], check=True)
env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

best = {}
def keep(key, value):
    best[key] = max(best.get(key, 0.0), value)

for _ in range(rounds):
    swift = subprocess.run([binary, "gemm"], capture_output=True, text=True).stdout
    swift += subprocess.run([binary, "mlp"], capture_output=True, text=True).stdout
    for line in swift.splitlines():
        if m := re.match(r"\s+m=\s*(\d+) k=\s*(\d+) n=\s*(\d+):\s+([\d.]+) GFLOP/s", line):
            keep(("gemm", *map(int, m.groups()[:3]), "swift"), float(m.group(4)))
        elif m := re.match(r"\s+batch\s+(\d+):\s+([\d.]+)k rows/s", line):
            keep(("mlp", int(m.group(1)), "swift"), float(m.group(2)))
    python = subprocess.run([sys.executable, os.path.join(here, "compare.py")], capture_output=True, text=True,
                            env=env).stdout
    for line in python.splitlines():
        if m := re.match(r"\s+m=\s*(\d+) k=\s*(\d+) n=\s*(\d+): numpy matmul only\s+([\d.]+), \+bias\+relu\s+([\d.]+), "
                         r"onnxruntime\s+([\d.]+)", line):
            shape = tuple(map(int, m.groups()[:3]))
            keep(("gemm", *shape, "numpy matmul"), float(m.group(4)))
            keep(("gemm", *shape, "numpy +bias+relu"), float(m.group(5)))
            keep(("gemm", *shape, "onnxruntime"), float(m.group(6)))
        elif m := re.match(r"\s+batch\s+(\d+):\s+([\d.]+)k rows/s", line):
            keep(("mlp", int(m.group(1)), "onnxruntime"), float(m.group(2)))

print(f"best of {rounds} interleaved rounds, single thread")
print("gemm + bias + relu, GFLOP/s:        Swift gemm | numpy matmul | numpy +bias+relu | onnxruntime")
for shape in sorted({k[1:4] for k in best if k[0] == "gemm"}, key=lambda s: (s[0] * s[1] * s[2], s)):
    cells = [best.get(("gemm", *shape, who), float("nan")) for who in
             ("swift", "numpy matmul", "numpy +bias+relu", "onnxruntime")]
    print(f"  m={shape[0]:4} k={shape[1]:4} n={shape[2]:4}:  " + " | ".join(f"{c:10.1f}" for c in cells))
print("MLP 64->256->256->10 + softmax, k rows/s:   Swift | onnxruntime | ratio")
for batch in sorted({k[1] for k in best if k[0] == "mlp"}):
    s, o = best.get(("mlp", batch, "swift"), float("nan")), best.get(("mlp", batch, "onnxruntime"), float("nan"))
    print(f"  batch {batch:4}: {s:8.0f} | {o:8.0f} | {s / o:5.2f}")
