"""onnxruntime's float32 and `quantize_dynamic` int8 speed on the tabular MLP, one thread, for
main.swift's int8 mode (run.sh int8).

    python3 Benchmarks/kernels/ort_int8.py BATCH SECONDS

Quantizes Benchmarks/models/tabular-mlp.onnx with `quantize_dynamic(..., weight_type=QInt8)`
into a temporary directory, then times both models with Benchmarks/python/ort_kernel.py (best of
10 repetitions of thread CPU time, random rows) and prints two lines: `float32 ROWS_PER_S` and
`int8 ROWS_PER_S`.
"""
import os
import subprocess
import sys
import logging
import tempfile

from onnxruntime.quantization import QuantType, quantize_dynamic

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
model = os.path.join(root, "Benchmarks/models/tabular-mlp.onnx")
timer = os.path.join(root, "Benchmarks/python/ort_kernel.py")
batch, seconds = sys.argv[1], sys.argv[2]

# quantize_dynamic logs a suggestion to pre-process the model on every call.
logging.getLogger().setLevel(logging.ERROR)

with tempfile.TemporaryDirectory() as tmp:
    quantized = os.path.join(tmp, "tabular-mlp-int8.onnx")
    quantize_dynamic(model, quantized, weight_type=QuantType.QInt8)
    for name, path in (("float32", model), ("int8", quantized)):
        rows = subprocess.run([sys.executable, timer, path, batch, seconds], check=True, capture_output=True,
                              text=True).stdout.split()[-1]
        print(name, rows, flush=True)
