#!/usr/bin/env python3
"""Makes the quantized-model fixtures: the engine's test models quantized with onnxruntime's own
tools, plus onnxruntime's outputs on them. Tooling only: the Swift product never runs Python.

Run from the repository root after tools/make_test_models.py (needs numpy, onnx, onnxruntime,
scikit-learn):

    python3 tools/quantize_models.py            # writes the fixtures
    python3 tools/quantize_models.py --report   # also prints each fixture's batch-vs-row figures

Versions used for the committed files: onnx 1.23, onnxruntime 1.32, scikit-learn 1.9.

It writes, deterministically (fixed seeds), into Tests/EngineTests/Fixtures (format: see
tools/make_test_models.py; the first tensor is the input, then the expected outputs):

  q_dyn_mlp       Benchmarks/models/tabular-mlp.onnx (Gemm + Relu, 64-256-256-10, Softmax) through
                  quantize_dynamic(weight_type=QInt8): DynamicQuantizeLinear, MatMulInteger, Cast,
                  Mul, Add, Relu per layer
  q_dyn_mlp_pc    the same with per_channel=True (a weight scale and zero point per column)
  q_dyn_mlp_u8    the same with weight_type=QUInt8 (uint8 weights, non-zero zero points)
  q_dyn_matmul    the mlp_matmul fixture (MatMul + Add, the bias Add with the constant first)
  q_dyn_lr        a scikit-learn LogisticRegression (16 features, 3 classes) exported the way
                  PyTorch exports a linear layer: Gemm(transB=1) + Softmax
  q_qdq_mlp       tabular-mlp through quantize_static(QDQ, activations QUInt8, weights QInt8):
                  QuantizeLinear/DequantizeLinear around each Gemm, int8 weights and int32 biases
                  DequantizeLinear'd, a Q/DQ pair after the Softmax
  q_qdq_mlp_pc    the same with per_channel=True
  q_qdq_matmul    the mlp_matmul fixture through quantize_static (QDQ)
  q_qdq_lr        the logistic regression through quantize_static (QDQ)
  q_qlinear       hand-built QuantizeLinear → QLinearMatMul (uint8 x int8) → QLinearMatMul
                  (per-column uint8 weights) → DequantizeLinear, with int8 activations in between

Expected outputs: for the dynamic models, onnxruntime run on ONE ROW AT A TIME (the engine
quantizes each row on its own, so a record's score never depends on its batch: README, Models);
for the static ones, onnxruntime on the whole batch (static quantization does not depend on the
batch). Sessions use default options with one thread, as the other fixtures do.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_models import FIXTURES, ROOT, write_bin  # noqa: E402

ROWS = 300
TMP = os.path.join(FIXTURES, ".quantize_tmp")


def session(data):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def run(data, x, row_by_row):
    s = session(data)
    name = s.get_inputs()[0].name
    if row_by_row:
        outs = [s.run(None, {name: x[i:i + 1]}) for i in range(len(x))]
        results = [np.concatenate([o[j] for o in outs]) for j in range(len(outs[0]))]
    else:
        results = s.run(None, {name: x})
    return name, [(meta.name, r) for meta, r in zip(s.get_outputs(), results)]


def save(name, data, x, row_by_row, report):
    with open(os.path.join(FIXTURES, name + ".onnx"), "wb") as f:
        f.write(data)
    input_name, outputs = run(data, x, row_by_row)
    write_bin(os.path.join(FIXTURES, name + ".bin"), [(input_name, x)] + outputs)
    line = "%-14s %7d bytes, outputs: %s" % (name, len(data), ", ".join(n for n, _ in outputs))
    if report and row_by_row:
        _, batch = run(data, x, False)
        diff = max(float(np.max(np.abs(a - b))) for (_, a), (_, b) in zip(outputs, batch))
        line += " (onnxruntime batch vs row by row: max |diff| %.3g)" % diff
    print(line)


class Reader(CalibrationDataReader):
    def __init__(self, name, rows):
        self.batches = iter([{name: rows[i:i + 20]} for i in range(0, len(rows), 20)])

    def get_next(self):
        return next(self.batches, None)


def dynamic(source, **options):
    path = os.path.join(TMP, "dynamic.onnx")
    quantize_dynamic(source, path, **options)
    return stable(path)


def static(source, calibration, **options):
    path = os.path.join(TMP, "static.onnx")
    name = onnx.load(source).graph.input[0].name
    quantize_static(source, path, Reader(name, calibration), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, **options)
    return stable(path)


def stable(path):
    """The model's bytes with the quantizer's run-dependent metadata dropped."""
    m = onnx.load(path)
    del m.metadata_props[:]
    return m.SerializeToString()


def saved(model, name):
    path = os.path.join(TMP, name)
    onnx.save(model, path)
    return path


def logistic_regression(rng):
    """A LogisticRegression as Gemm(transB=1) + Softmax (the form torch exports a linear layer in)."""
    from sklearn.linear_model import LogisticRegression

    k = 16
    x = rng.normal(size=(600, k)).astype(np.float32)
    y = np.digitize(x[:, 0] - x[:, 3] + 0.5 * x[:, 7], [-0.7, 0.7])
    lr = LogisticRegression(max_iter=500).fit(x, y)
    nodes = [
        helper.make_node("Gemm", ["input", "weight", "bias"], ["logits"], name="linear", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(nodes, "lr", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", k])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
                              [numpy_helper.from_array(lr.coef_.astype(np.float32), "weight"),
                               numpy_helper.from_array(lr.intercept_.astype(np.float32), "bias")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="quantize_models")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return saved(m, "lr.onnx"), x[:200], rng.normal(size=(ROWS, k)).astype(np.float32)


def qlinear(rng):
    """QuantizeLinear → QLinearMatMul → QLinearMatMul → DequantizeLinear, by hand."""
    k, h, n = 12, 20, 5
    w1 = rng.integers(-128, 128, size=(k, h), dtype=np.int8)
    w2 = rng.integers(0, 256, size=(h, n), dtype=np.uint8)
    inits = [
        numpy_helper.from_array(np.array(0.02, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(131, np.uint8), "x_zero"),
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(np.array(0.01, np.float32), "w1_scale"),
        numpy_helper.from_array(np.array(0, np.int8), "w1_zero"),
        numpy_helper.from_array(np.array(0.35, np.float32), "h_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "h_zero"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array((rng.uniform(0.002, 0.01, size=n)).astype(np.float32), "w2_scale"),
        numpy_helper.from_array(rng.integers(100, 156, size=n).astype(np.uint8), "w2_zero"),
        numpy_helper.from_array(np.array(0.05, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(120, np.uint8), "y_zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x_scale", "x_zero"], ["xq"], name="quantize"),
        helper.make_node("QLinearMatMul", ["xq", "x_scale", "x_zero", "w1", "w1_scale", "w1_zero", "h_scale", "h_zero"],
                         ["hq"], name="qmatmul1"),
        helper.make_node("QLinearMatMul", ["hq", "h_scale", "h_zero", "w2", "w2_scale", "w2_zero", "y_scale", "y_zero"],
                         ["yq"], name="qmatmul2"),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["output"], name="dequantize"),
    ]
    graph = helper.make_graph(nodes, "qlinear", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", k])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", n]),
                               helper.make_tensor_value_info("hq", TensorProto.UINT8, ["N", h])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="quantize_models")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m.SerializeToString(), rng.normal(scale=1.5, size=(ROWS, k)).astype(np.float32)


def main():
    report = "--report" in sys.argv
    os.makedirs(TMP, exist_ok=True)
    rng = np.random.default_rng(20261206)
    mlp = os.path.join(ROOT, "Benchmarks", "models", "tabular-mlp.onnx")
    mlp_x = rng.normal(size=(ROWS, 64)).astype(np.float32)
    mlp_cal = rng.normal(size=(200, 64)).astype(np.float32)
    matmul = os.path.join(FIXTURES, "mlp_matmul.onnx")
    matmul_x = rng.normal(size=(ROWS, 10)).astype(np.float32)
    matmul_cal = rng.normal(size=(200, 10)).astype(np.float32)
    lr, lr_cal, lr_x = logistic_regression(rng)

    save("q_dyn_mlp", dynamic(mlp, weight_type=QuantType.QInt8), mlp_x, True, report)
    save("q_dyn_mlp_pc", dynamic(mlp, weight_type=QuantType.QInt8, per_channel=True), mlp_x, True, report)
    save("q_dyn_mlp_u8", dynamic(mlp, weight_type=QuantType.QUInt8), mlp_x, True, report)
    save("q_dyn_matmul", dynamic(matmul, weight_type=QuantType.QInt8), matmul_x, True, report)
    save("q_dyn_lr", dynamic(lr, weight_type=QuantType.QInt8), lr_x, True, report)
    save("q_qdq_mlp", static(mlp, mlp_cal), mlp_x, False, report)
    save("q_qdq_mlp_pc", static(mlp, mlp_cal, per_channel=True), mlp_x, False, report)
    save("q_qdq_matmul", static(matmul, matmul_cal), matmul_x, False, report)
    save("q_qdq_lr", static(lr, lr_cal), lr_x, False, report)
    data, x = qlinear(rng)
    save("q_qlinear", data, x, False, report)

    for f in os.listdir(TMP):
        os.remove(os.path.join(TMP, f))
    os.rmdir(TMP)
    return 0


if __name__ == "__main__":
    sys.exit(main())
