"""onnxruntime's speed on one model, one thread, for `pipeline bench`'s kernel comparison.

    python3 Benchmarks/python/ort_kernel.py MODEL BATCH SECONDS [INPUT OUTPUT_NAME OUTPUT]

Feeds float32 rows in batches of BATCH for about SECONDS and prints rows per second: the best of
10 repetitions of the session.run calls, in thread CPU time. The rows are random (fixed seed; the model's input width), or read
from INPUT (BATCH rows of raw little-endian float32); then the tensor OUTPUT_NAME computed on
them is written to OUTPUT as raw float32, for `pipeline bench` to compare with its own. That
output is computed one row at a time, as the pipeline scores a record whatever batch it is in: for
a quantize_dynamic model, onnxruntime quantizes the activations of the whole batch at once, and
a row's scores then depend on the other rows (by up to ~0.08 on tabular-mlp-int8).
"""
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    model, batch, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    width = inp.shape[1]
    if len(sys.argv) > 6:
        x = np.fromfile(sys.argv[4], dtype="<f4").reshape(batch, width)
        outputs = [sys.argv[5]]
    else:
        x = np.random.default_rng(1).standard_normal((batch, width)).astype(np.float32)
        outputs = [o.name for o in session.get_outputs() if o.type == "tensor(float)"][:1]
    for _ in range(3):
        session.run(outputs, {inp.name: x})
    # The best of 10 repetitions of thread CPU time, as `pipeline bench` measures its own engine:
    # with one intra-op thread, onnxruntime computes on this thread.
    start = time.thread_time()
    for _ in range(3):
        session.run(outputs, {inp.name: x})
    each = max((time.thread_time() - start) / 3, 1e-7)
    calls = max(1, int(seconds / 10 / each))
    best = 0.0
    for _ in range(10):
        t0 = time.thread_time()
        for _ in range(calls):
            session.run(outputs, {inp.name: x})
        best = max(best, calls * batch / max(time.thread_time() - t0, 1e-9))
    if len(sys.argv) > 6:
        rows = [session.run(outputs, {inp.name: x[i:i + 1]})[0] for i in range(batch)]
        np.concatenate(rows).astype("<f4").tofile(sys.argv[6])
    print(best)


if __name__ == "__main__":
    main()
