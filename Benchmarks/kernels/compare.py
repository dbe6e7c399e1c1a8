"""Single-thread numpy (OpenBLAS) and onnxruntime figures for the shapes main.swift measures.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python3 Benchmarks/kernels/compare.py
Same method as main.swift: best of 9 repetitions of thread CPU time (the machine is shared;
with one intra-op thread, onnxruntime and OpenBLAS compute on the calling thread), mean time per
call within a repetition. onnxruntime times include its Python call overhead (5-8 us per call,
shared/MEASURED.md).
"""
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def best_per_call(fn, iterations, repeats=9):
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(iterations):
            fn()
        best = min(best, (time.thread_time() - start) / iterations)
    return best


def session(layers, final_softmax):
    """An ONNX model: Gemm (+Relu) per layer, optional Softmax; intra-op threads = 1."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    name = "x"
    for i, (k, n, relu) in enumerate(layers):
        w = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), f"w{i}")
        b = numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), f"b{i}")
        inits += [w, b]
        nodes.append(helper.make_node("Gemm", [name, f"w{i}", f"b{i}"], [f"g{i}"]))
        name = f"g{i}"
        if relu:
            nodes.append(helper.make_node("Relu", [name], [f"r{i}"]))
            name = f"r{i}"
    if final_softmax:
        nodes.append(helper.make_node("Softmax", [name], ["y"], axis=1))
    else:
        nodes.append(helper.make_node("Identity", [name], ["y"]))
    k0, n_last = layers[0][0], layers[-1][1]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, k0])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, n_last])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


print("gemm + bias + relu, single thread: numpy (OpenBLAS) / onnxruntime")
for m, k, n in [(256, 64, 256), (256, 256, 256), (256, 256, 10), (1, 256, 256), (16, 256, 256),
                (1024, 1024, 1024)]:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out = np.empty((m, n), np.float32)
    flops = 2.0 * m * k * n
    iterations = max(1, int(2e8 / flops))

    def numpy_gemm():
        np.matmul(a, b, out=out)
        np.add(out, bias, out=out)
        np.maximum(out, 0, out=out)

    t_np = best_per_call(numpy_gemm, iterations)
    t_mm = best_per_call(lambda: np.matmul(a, b, out=out), iterations)
    sess = session([(k, n, True)], False)
    t_ort = best_per_call(lambda: sess.run(None, {"x": a}), iterations)
    print(f"  m={m:4} k={k:4} n={n:4}: numpy matmul only {flops / t_mm / 1e9:6.1f}, +bias+relu "
          f"{flops / t_np / 1e9:6.1f}, onnxruntime {flops / t_ort / 1e9:6.1f} GFLOP/s ({t_ort * 1e6:8.2f} us)")

print("MLP 64->256->256->10 + softmax, onnxruntime single thread:")
sess = session([(64, 256, True), (256, 256, True), (256, 10, False)], True)
for batch in [1, 16, 256, 4096]:
    x = np.random.default_rng(2).standard_normal((batch, 64)).astype(np.float32)
    t = best_per_call(lambda: sess.run(None, {"x": x}), max(1, 2_000_000 // (batch * 170)))
    flops = 2.0 * batch * (64 * 256 + 256 * 256 + 256 * 10)
    print(f"  batch {batch:4}: {batch / t / 1e3:7.0f}k rows/s  {flops / t / 1e9:6.1f} GFLOP/s")
