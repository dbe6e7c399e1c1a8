#!/usr/bin/env python3
"""Makes the ONNX test fixtures, the demo model and the demo data. Tooling only: the Swift
product never runs Python.

Run from the repository root (needs numpy, onnx, onnxruntime, scikit-learn, skl2onnx, and for the
tree and PyTorch fixtures xgboost, lightgbm, onnxmltools, torch and onnxscript; without torch the
committed torch_* fixtures are kept):

    python3 tools/make_test_models.py              # everything below
    python3 tools/make_test_models.py demo_v2      # only the named ones: demo, demo_v2, examples

Versions used for the committed files: onnx 1.23, onnxruntime 1.32, scikit-learn 1.9, skl2onnx 1.20,
xgboost 3.2, lightgbm 4.7, onnxmltools 1.16, torch 2.15.

It writes, deterministically (fixed seeds; re-running gives the same files):

  Tests/EngineTests/Fixtures/<name>.onnx   a small model
  Tests/EngineTests/Fixtures/<name>.bin    its input batch and onnxruntime's outputs (format below)
      mlp_gemm        PyTorch-style MLP: Gemm(transB=1) + Relu + Gemm(transB=1) + Softmax
      mlp_matmul      the same MLP as MatMul + Add (+ Relu), weights [K, n]
      mlp_act         Gemm + Sigmoid + Gemm(alpha, beta, transB=0, bias [1,n]) + Tanh, LogSoftmax
      axes13          rank-3 input: Softmax/LogSoftmax on the last axis, ArgMax (keepdims,
                      select_last_index), Concat, MatMul on [N,2,3] x [3,4] + Add (opset 13)
      softmax11       opset-11 Softmax (coerced to 2-D at axis 1) on a rank-3 input
      shape_ops       Flatten, Reshape (0 / -1, folded shapes), Cast, Identity, Dropout, Add, Sub,
                      Mul, Div (constant rows/scalars, both sides, and activation pairs), Gemm with a
                      scalar C and beta
      ml_ops          hand-built LinearClassifier (binary one-row and 3-class, every
                      post_transform), LinearRegressor (1 and 2 targets), Normalizer MAX/L1/L2
      lr_binary       skl2onnx LogisticRegression, 2 classes, zipmap=False
      lr_multi        skl2onnx LogisticRegression, 3 classes, zipmap=False
      lr_multi_zipmap skl2onnx LogisticRegression, 3 classes, with ZipMap
      linreg          skl2onnx LinearRegression
      mlp_sklearn     skl2onnx MLPClassifier, 3 classes (MatMul, Softmax, ArgMax,
                      ArrayFeatureExtractor, Reshape, Cast)
      mlp_sklearn_binary  skl2onnx MLPClassifier, 2 classes (Sigmoid, Sub, Concat)
      lr_strings      skl2onnx LogisticRegression with string class labels and ZipMap
      mlp_strings     skl2onnx MLPClassifier with string class labels, zipmap=False
      sk_ridge, sk_linsvc_binary, sk_linsvc_multi, sk_mlp_regressor
                      skl2onnx Ridge, LinearSVC (label + decision scores), MLPRegressor
      sk_tree_clf, sk_tree_reg, sk_rf_clf, sk_rf_binary, sk_rf_reg, sk_gb_clf, sk_gb_binary, sk_gb_reg
                      skl2onnx DecisionTree / RandomForest / GradientBoosting classifiers and
                      regressors (TreeEnsembleClassifier/Regressor), some with ZipMap; the last 60
                      input rows sit exactly on (or one float beside) thresholds the trees test
      sk_pipeline     Pipeline(SimpleImputer, StandardScaler, MinMaxScaler, Normalizer, RandomForest):
                      Imputer, Scaler, Mul, Add, Normalizer, TreeEnsembleClassifier; input with NaN
      sk_pipeline_linear  Pipeline(SimpleImputer, StandardScaler, LogisticRegression)
      sk_columns      Pipeline(ColumnTransformer(StandardScaler on 6 columns, OneHotEncoder on 2
                      integer-valued float columns), GradientBoosting): ArrayFeatureExtractor,
                      Gather, Scaler, Cast, OneHotEncoder, Concat, Reshape; unknown categories
      xgb_binary, xgb_multi, xgb_reg, lgbm_binary, lgbm_multi, lgbm_reg, lgbm_categorical
                      XGBoost / LightGBM through onnxmltools (BRANCH_LT / BRANCH_LEQ, base values,
                      LOGISTIC / SOFTMAX, missing-value tracking), trained and run on data with
                      NaN, plus threshold ties; lgbm_categorical has categorical splits (BRANCH_EQ)
      tree_ops        hand-built TreeEnsembleRegressor / TreeEnsembleClassifier nodes: every node
                      mode, missing tracking, SUM/AVERAGE/MIN/MAX, every post_transform, 0/1/2
                      base values, and the two-class cases (weights for class 1 only, class 0
                      only, positive only, both)
      tree_ensemble5  hand-built TreeEnsemble (ai.onnx.ml opset 5) nodes
      torch_mlp_opset17, torch_mlp_opset20, torch_mlp_gelu_tanh, torch_mlp_dynamo18,
      torch_mlp_dynamo20, torch_mlp_3d
                      torch.onnx.export of an MLP (Linear, BatchNorm1d, GELU, Dropout, ReLU, Tanh,
                      Sigmoid, Softmax, LogSoftmax) with the TorchScript exporter (BatchNormalization
                      kept; Gelu as Div/Erf/Add/Mul/Mul at opset 17, the Gelu op at 20) and the
                      dynamo exporter (BatchNormalization folded by torch); a 3-D input (MatMul + Add)
  Tests/EngineTests/Fixtures/unsupported_op.onnx   a Conv node (error test)
  Tests/EngineTests/Fixtures/malformed.onnx        a truncated, corrupted model (error test)
  Tests/EngineTests/Fixtures/undefined_input.onnx  a node reading a name nothing defines
  Tests/EngineTests/Fixtures/cycle.onnx            two nodes feeding each other
  Tests/EngineTests/Fixtures/external_data.onnx    an initializer with data_location=EXTERNAL
  models/demo.onnx              the default pipeline's fraud MLP (see make_demo)
  models/demo_v2.onnx           the same model "retrained" (24 hidden units, another sample with more
                                fraud; about 4% of the example records' labels differ): a candidate
                                version for shadow comparisons (see make_demo_v2)
  examples/transactions.jsonl   1000 demo records (id, amount, hour, country, is_new_customer)
  examples/transactions.csv     the same records as CSV

The .bin format (all little-endian): b"ONXF", u32 version (1), u32 tensor count, then per
tensor: u32 name length, UTF-8 name, u32 rank, u32 dims[rank], f32 data[product(dims)].
The first tensor is the model input (named after the graph input); the others are expected
outputs, named after the tensor they hold. Integer outputs (labels, ArgMax) are stored as f32.
"""
import os
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures")
ROWS = 300  # more than the chunk size the tests use, so chunking is exercised

OPSET = [helper.make_opsetid("", 13)]
OPSET_ML = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)]


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, inits=(), opset=OPSET, producer="make_test_models"):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=opset, producer_name=producer)
    m.ir_version = 8
    if any(not o.type.tensor_type.HasField("shape") for o in m.graph.output):
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)  # fills in the outputs' shapes
    onnx.checker.check_model(m)
    return m


def write_bin(path, tensors):
    with open(path, "wb") as f:
        f.write(b"ONXF")
        f.write(struct.pack("<II", 1, len(tensors)))
        for name, array in tensors:
            array = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
            encoded = name.encode("utf-8")
            f.write(struct.pack("<I", len(encoded)))
            f.write(encoded)
            f.write(struct.pack("<I", array.ndim))
            f.write(struct.pack("<%dI" % array.ndim, *array.shape))
            f.write(array.astype("<f4").tobytes())


def save_fixture(name, m, x, extra_outputs=None):
    """Saves the model, runs onnxruntime on x, and saves x plus every tensor output."""
    data = m.SerializeToString()
    with open(os.path.join(FIXTURES, name + ".onnx"), "wb") as f:
        f.write(data)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    results = session.run(None, {input_name: x})
    tensors = [(input_name, x)]
    for meta, value in zip(session.get_outputs(), results):
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
            tensors.append((meta.name, value))
    for out_name, fn in (extra_outputs or {}).items():
        tensors.append((out_name, fn(results)))
    write_bin(os.path.join(FIXTURES, name + ".bin"), tensors)
    print("%-20s %6d bytes, outputs: %s" % (name, len(data), ", ".join(t[0] for t in tensors[1:])))


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


# ---------------------------------------------------------------- hand-built graphs

def make_mlps(rng):
    k, h, n = 10, 32, 4
    x = rng.normal(size=(ROWS, k)).astype(np.float32)
    w1 = rng.normal(scale=0.4, size=(h, k)).astype(np.float32)  # PyTorch Linear weight [out, in]
    b1 = rng.normal(scale=0.1, size=h).astype(np.float32)
    w2 = rng.normal(scale=0.4, size=(n, h)).astype(np.float32)
    b2 = rng.normal(scale=0.1, size=n).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["/fc1/Gemm_output_0"], name="/fc1/Gemm",
                         alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Relu", ["/fc1/Gemm_output_0"], ["/relu/Relu_output_0"], name="/relu/Relu"),
        helper.make_node("Gemm", ["/relu/Relu_output_0", "fc2.weight", "fc2.bias"], ["/fc2/Gemm_output_0"],
                         name="/fc2/Gemm", alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Softmax", ["/fc2/Gemm_output_0"], ["output"], name="/softmax/Softmax", axis=1),
    ]
    m = model(nodes, [vi("input", TensorProto.FLOAT, ["batch", k])], [vi("output", TensorProto.FLOAT, ["batch", n])],
              [init("fc1.weight", w1), init("fc1.bias", b1), init("fc2.weight", w2), init("fc2.bias", b2)],
              producer="pytorch")
    save_fixture("mlp_gemm", m, x)

    nodes = [
        helper.make_node("MatMul", ["input", "w1"], ["mm1"], name="/fc1/MatMul"),
        helper.make_node("Add", ["mm1", "b1"], ["add1"], name="/fc1/Add"),
        helper.make_node("Relu", ["add1"], ["relu1"], name="/relu/Relu"),
        helper.make_node("MatMul", ["relu1", "w2"], ["mm2"], name="/fc2/MatMul"),
        helper.make_node("Add", ["b2", "mm2"], ["logits"], name="/fc2/Add"),
        helper.make_node("Softmax", ["logits"], ["output"], name="/softmax/Softmax", axis=-1),
    ]
    m = model(nodes, [vi("input", TensorProto.FLOAT, ["N", k])],
              [vi("output", TensorProto.FLOAT, ["N", n]), vi("logits", TensorProto.FLOAT, ["N", n])],
              [init("w1", w1.T.copy()), init("b1", b1), init("w2", w2.T.copy()), init("b2", b2.reshape(1, n))],
              producer="pytorch")
    save_fixture("mlp_matmul", m, x)

    w3 = rng.normal(scale=0.5, size=(h, n)).astype(np.float32)  # [K, n], transB=0
    b3 = rng.normal(scale=0.1, size=(1, n)).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["z1"], name="fc1", transB=1),
        helper.make_node("Sigmoid", ["z1"], ["s1"], name="sigmoid"),
        helper.make_node("Gemm", ["s1", "w3", "b3"], ["z2"], name="fc2", alpha=0.5, beta=2.0),
        helper.make_node("Tanh", ["z2"], ["tanh_out"], name="tanh"),
        helper.make_node("LogSoftmax", ["z2"], ["log_probs"], name="logsoftmax", axis=1),
    ]
    m = model(nodes, [vi("input", TensorProto.FLOAT, [None, k])],
              [vi("tanh_out", TensorProto.FLOAT, [None, n]), vi("log_probs", TensorProto.FLOAT, [None, n])],
              [init("fc1.weight", w1), init("fc1.bias", b1), init("w3", w3), init("b3", b3)])
    save_fixture("mlp_act", m, x)


def make_axes(rng):
    x = rng.normal(size=(ROWS, 2, 3)).astype(np.float32)
    x[:5, 0, :] = 0.5  # ties, for ArgMax first / last index
    w = rng.normal(size=(3, 4)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    nodes = [
        helper.make_node("Softmax", ["x"], ["softmax_last"], name="sm", axis=-1),
        helper.make_node("LogSoftmax", ["x"], ["logsoftmax_last"], name="lsm", axis=2),
        helper.make_node("ArgMax", ["x"], ["argmax_axis1"], name="am1", axis=1, keepdims=1),
        helper.make_node("ArgMax", ["x"], ["argmax_last"], name="am2", axis=-1, keepdims=0, select_last_index=1),
        helper.make_node("Relu", ["x"], ["rx"], name="relu"),
        helper.make_node("Concat", ["x", "rx"], ["concat_axis1"], name="cat1", axis=1),
        helper.make_node("Concat", ["rx", "x", "rx"], ["concat_last"], name="cat2", axis=-1),
        helper.make_node("MatMul", ["x", "w"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "b"], ["matmul3d"], name="mm_add"),
    ]
    outs = [vi("softmax_last", TensorProto.FLOAT, None), vi("logsoftmax_last", TensorProto.FLOAT, None),
            vi("argmax_axis1", TensorProto.INT64, None), vi("argmax_last", TensorProto.INT64, None),
            vi("concat_axis1", TensorProto.FLOAT, None), vi("concat_last", TensorProto.FLOAT, None),
            vi("matmul3d", TensorProto.FLOAT, None)]
    m = model(nodes, [vi("x", TensorProto.FLOAT, ["N", 2, 3])], outs, [init("w", w), init("b", b)])
    save_fixture("axes13", m, x)

    nodes = [helper.make_node("Softmax", ["x"], ["softmax_coerced"], name="sm11")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, ["N", 2, 3])], [vi("softmax_coerced", TensorProto.FLOAT, None)],
              opset=[helper.make_opsetid("", 11)])
    save_fixture("softmax11", m, x)


def make_shape_ops(rng):
    x = rng.normal(size=(ROWS, 2, 4)).astype(np.float32)
    c8 = rng.normal(size=8).astype(np.float32)
    row = rng.uniform(0.5, 1.5, size=(1, 8)).astype(np.float32)
    w = rng.normal(size=(8, 3)).astype(np.float32)
    const = lambda name, value: helper.make_node("Constant", [], [name], name=name + "_const",
                                                 value=numpy_helper.from_array(np.asarray(value), name))
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flatten", axis=1),
        helper.make_node("Sub", ["f", "c8"], ["a"], name="sub_row"),
        helper.make_node("Div", ["a", "two"], ["b"], name="div_scalar"),
        helper.make_node("Mul", ["row", "b"], ["c"], name="mul_row_first"),
        helper.make_node("Sub", ["one", "c"], ["d"], name="sub_scalar_first"),
        helper.make_node("Dropout", ["d", "ratio", "training"], ["e", "mask"], name="dropout"),
        helper.make_node("Identity", ["e"], ["g"], name="identity"),
        const("shape_f", np.array([0, 2, 4], dtype=np.float32)),
        helper.make_node("Cast", ["shape_f"], ["shape_i"], name="cast_shape", to=TensorProto.INT64),
        helper.make_node("Reshape", ["g", "shape_i"], ["h"], name="reshape_0"),
        helper.make_node("Cast", ["h"], ["i"], name="cast_float", to=TensorProto.FLOAT),
        const("minus_one", np.array([-1], dtype=np.int64)),
        const("eight", np.array([8], dtype=np.int64)),
        helper.make_node("Concat", ["minus_one", "eight"], ["shape_m1"], name="concat_shape", axis=0),
        helper.make_node("Reshape", ["i", "shape_m1"], ["j"], name="reshape_m1"),
        helper.make_node("Add", ["j", "f"], ["k"], name="add_pair"),
        helper.make_node("Relu", ["f"], ["rf"], name="relu"),
        helper.make_node("Add", ["rf", "one_half"], ["den"], name="add_den"),
        helper.make_node("Div", ["k", "den"], ["l"], name="div_pair"),
        helper.make_node("Mul", ["l", "l"], ["sq"], name="mul_pair"),
        helper.make_node("Sub", ["sq", "l"], ["m"], name="sub_pair"),
        helper.make_node("Gemm", ["m", "w", "gemm_c"], ["gemm_out"], name="gemm", beta=0.5),
        helper.make_node("Mul", ["l", "three"], ["l3"], name="mul_three"),
        helper.make_node("Cast", ["l3"], ["truncated"], name="cast_int", to=TensorProto.INT64),
    ]
    inits = [init("c8", c8), init("two", np.float32(2.0)), init("row", row), init("one", np.float32(1.0)),
             init("ratio", np.float32(0.3)), init("training", np.bool_(False)), init("one_half", np.float32(1.5)),
             init("w", w), init("three", np.float32(3.0)), init("gemm_c", np.float32([0.25]))]
    outs = [vi("gemm_out", TensorProto.FLOAT, ["N", 3]), vi("j", TensorProto.FLOAT, ["N", 8]),
            vi("truncated", TensorProto.INT64, ["N", 8])]
    m = model(nodes, [vi("x", TensorProto.FLOAT, ["N", 2, 4])], outs, inits)
    save_fixture("shape_ops", m, x)


def make_ml_ops(rng):
    c = 4
    x = rng.normal(size=(ROWS, c)).astype(np.float32)
    x[0] = 0.0  # a zero row: Normalizer leaves it, LinearClassifier scores are the intercepts
    x[1] = [-1.0, -2.0, -0.5, -3.0]  # an all-negative row for Normalizer MAX
    nodes, outs = [], []
    one_row = rng.normal(size=c).astype(np.float32).tolist()
    for transform in ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"]:
        t = transform.lower()
        nodes.append(helper.make_node("LinearClassifier", ["x"], ["label_bin_" + t, "scores_bin_" + t],
                                      domain="ai.onnx.ml", name="lc_bin_" + t, coefficients=one_row,
                                      intercepts=[0.25], classlabels_ints=[3, 7], post_transform=transform))
        three = rng.normal(size=3 * c).astype(np.float32)
        three[c:2 * c] = 0.0  # a zero row: zero scores, for SOFTMAX_ZERO
        nodes.append(helper.make_node("LinearClassifier", ["x"], ["label_multi_" + t, "scores_multi_" + t],
                                      domain="ai.onnx.ml", name="lc_multi_" + t, coefficients=three.tolist(),
                                      intercepts=[0.1, 0.0, -0.2], classlabels_ints=[10, 20, 30],
                                      multi_class=1, post_transform=transform))
        outs += [vi("label_bin_" + t, TensorProto.INT64, [None]), vi("scores_bin_" + t, TensorProto.FLOAT, [None, 2]),
                 vi("label_multi_" + t, TensorProto.INT64, [None]), vi("scores_multi_" + t, TensorProto.FLOAT, [None, 3])]
    nodes.append(helper.make_node("LinearRegressor", ["x"], ["regression_1"], domain="ai.onnx.ml", name="lr1",
                                  coefficients=rng.normal(size=c).astype(np.float32).tolist(), intercepts=[0.5],
                                  post_transform="LOGISTIC"))  # onnxruntime ignores it for one target
    nodes.append(helper.make_node("LinearRegressor", ["x"], ["regression_2"], domain="ai.onnx.ml", name="lr2",
                                  coefficients=rng.normal(size=2 * c).astype(np.float32).tolist(),
                                  intercepts=[0.5, -0.5], targets=2, post_transform="SOFTMAX"))
    outs += [vi("regression_1", TensorProto.FLOAT, [None, 1]), vi("regression_2", TensorProto.FLOAT, [None, 2])]
    for norm in ["MAX", "L1", "L2"]:
        nodes.append(helper.make_node("Normalizer", ["x"], ["norm_" + norm.lower()], domain="ai.onnx.ml",
                                      name="norm_" + norm.lower(), norm=norm))
        outs.append(vi("norm_" + norm.lower(), TensorProto.FLOAT, [None, c]))
    m = model(nodes, [vi("x", TensorProto.FLOAT, [None, c])], outs, opset=OPSET_ML)
    save_fixture("ml_ops", m, x)


# ---------------------------------------------------------------- scikit-learn models

def make_sklearn(rng):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from skl2onnx import to_onnx

    k = 6
    x_train = rng.normal(size=(400, k)).astype(np.float32)
    x = rng.normal(size=(ROWS, k)).astype(np.float32)
    y2 = (x_train[:, 0] + 0.5 * x_train[:, 1] - x_train[:, 2] > 0).astype(np.int64)
    y3 = np.digitize(x_train[:, 0] - x_train[:, 3], [-0.6, 0.6]).astype(np.int64)
    target = {"": 13, "ai.onnx.ml": 1}

    def convert(estimator, options=None):
        m = to_onnx(estimator, x_train[:1], options=options, target_opset=target)
        # skl2onnx gathers opsets in a set (order varies with PYTHONHASHSEED): sort for stable bytes.
        opsets = sorted(((o.domain, o.version) for o in m.opset_import))
        del m.opset_import[:]
        m.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets)
        return m

    save_fixture("lr_binary", convert(LogisticRegression().fit(x_train, y2), {"zipmap": False}), x)
    save_fixture("lr_multi", convert(LogisticRegression().fit(x_train, y3), {"zipmap": False}), x)
    zipmap = convert(LogisticRegression(C=0.5).fit(x_train, y3))
    zip_input = [n for n in zipmap.graph.node if n.op_type == "ZipMap"][0].input[0]
    save_fixture("lr_multi_zipmap", zipmap, x, extra_outputs={
        zip_input: lambda results: np.array([[row[c] for c in sorted(row)] for row in results[1]], dtype=np.float32)})
    save_fixture("linreg", convert(LinearRegression().fit(x_train, x_train @ np.arange(1, k + 1) + 3.0)), x)
    names = np.array(["cat", "dog", "emu"])[y3]  # string class labels: the label outputs are strings
    zipmap = convert(LogisticRegression().fit(x_train, names))
    save_fixture("lr_strings", zipmap, x, extra_outputs={
        "probabilities": lambda results: np.array([[row[c] for c in sorted(row)] for row in results[1]], dtype=np.float32)})
    save_fixture("mlp_strings", convert(MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=1)
                                        .fit(x_train, names), {"zipmap": False}), x)
    mlp = MLPClassifier(hidden_layer_sizes=(12,), max_iter=400, random_state=0)
    save_fixture("mlp_sklearn", convert(mlp.fit(x_train, y3), {"zipmap": False}), x)
    mlp2 = MLPClassifier(hidden_layer_sizes=(8,), max_iter=400, random_state=0)
    save_fixture("mlp_sklearn_binary", convert(mlp2.fit(x_train, y2), {"zipmap": False}), x)


# ---------------------------------------------------------------- trees and pipelines

def tree_thresholds(m):
    """(feature, threshold) pairs of every branch of every tree-ensemble node in `m`."""
    pairs = []
    for node in m.graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        values = attrs.get("nodes_values")
        if values is None and "nodes_values_as_tensor" in attrs:
            values = numpy_helper.to_array(attrs["nodes_values_as_tensor"]).tolist()
        for f, v, mode in zip(attrs["nodes_featureids"], values, attrs["nodes_modes"]):
            if mode != b"LEAF":
                pairs.append((f, np.float32(v)))
    return pairs


def awkward_rows(rng, x, m, nan_rows=0):
    """x with its last rows made awkward: features set exactly to thresholds the model tests
    (ties decide the branch), their float neighbours, and (nan_rows) NaN features."""
    x = x.copy()
    pairs = tree_thresholds(m)
    n = len(x)
    tie_rows = range(n - 60, n - 20)
    for i in tie_rows:
        for _ in range(4):
            f, v = pairs[rng.integers(len(pairs))]
            x[i, f] = v if i % 3 else np.nextafter(v, np.float32(np.inf) if i % 2 else np.float32(-np.inf))
    for i in range(n - 20, n - 20 + nan_rows):
        x[i, rng.choice(x.shape[1], size=rng.integers(1, 4), replace=False)] = np.nan
    return x


def make_sklearn_models(rng):
    """scikit-learn estimators and pipelines through skl2onnx (ai.onnx.ml opset 1 and 3)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, Normalizer, OneHotEncoder, StandardScaler
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from skl2onnx import to_onnx

    k = 8
    x_train = rng.normal(size=(600, k)).astype(np.float32)
    x = rng.normal(size=(ROWS, k)).astype(np.float32)
    y2 = (x_train[:, 0] + 0.5 * x_train[:, 1] - x_train[:, 2] > 0).astype(np.int64)
    y3 = np.digitize(x_train[:, 0] - x_train[:, 3] + 0.3 * x_train[:, 5], [-0.6, 0.6]).astype(np.int64)
    yr = (x_train @ np.linspace(-1, 2, k) + np.sin(3 * x_train[:, 1])).astype(np.float32)

    def convert(estimator, x_like, options=None, ml=1):
        m = to_onnx(estimator, x_like[:1], options=options, target_opset={"": 13, "ai.onnx.ml": ml})
        opsets = sorted(((o.domain, o.version) for o in m.opset_import))
        del m.opset_import[:]
        m.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets)
        return m

    def zipmap_input(m):
        return [n for n in m.graph.node if n.op_type == "ZipMap"][0].input[0]

    def save_zipmap(name, m, x_in):
        save_fixture(name, m, x_in, extra_outputs={zipmap_input(m): lambda results: np.array(
            [[row[c] for c in sorted(row)] for row in results[1]], dtype=np.float32)})

    save_fixture("sk_ridge", convert(Ridge(alpha=0.5).fit(x_train, yr), x_train), x)
    save_fixture("sk_linsvc_binary", convert(LinearSVC(random_state=0).fit(x_train, y2), x_train), x)
    save_fixture("sk_linsvc_multi", convert(LinearSVC(random_state=0).fit(x_train, y3), x_train), x)
    save_fixture("sk_mlp_regressor", convert(MLPRegressor(hidden_layer_sizes=(16, 8), max_iter=300, random_state=0)
                                             .fit(x_train, yr), x_train), x)

    trees = [
        ("sk_tree_clf", DecisionTreeClassifier(max_depth=6, random_state=0).fit(x_train, y3), "zipmap"),
        ("sk_tree_reg", DecisionTreeRegressor(max_depth=6, random_state=0).fit(x_train, yr), None),
        ("sk_rf_clf", RandomForestClassifier(n_estimators=12, max_depth=6, random_state=0).fit(x_train, y3), "nozip"),
        ("sk_rf_binary", RandomForestClassifier(n_estimators=12, max_depth=5, random_state=0).fit(x_train, y2), "zipmap"),
        ("sk_rf_reg", RandomForestRegressor(n_estimators=12, max_depth=6, random_state=0).fit(x_train, yr), None),
        ("sk_gb_clf", GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(x_train, y3), "nozip"),
        ("sk_gb_binary", GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(x_train, y2), "zipmap"),
        ("sk_gb_reg", GradientBoostingRegressor(n_estimators=20, max_depth=4, random_state=0).fit(x_train, yr), None),
    ]
    for name, estimator, zipmap in trees:
        m = convert(estimator, x_train, {"zipmap": False} if zipmap == "nozip" else None)
        x_in = awkward_rows(rng, x, m)
        if zipmap == "zipmap":
            save_zipmap(name, m, x_in)
        else:
            save_fixture(name, m, x_in)

    # A fitted Pipeline: SimpleImputer (Imputer), StandardScaler (Scaler), MinMaxScaler (Mul, Add),
    # Normalizer, then a random forest; the input has NaN for the imputer.
    x_nan = x_train.copy()
    x_nan[rng.random(x_nan.shape) < 0.05] = np.nan
    pipe = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), MinMaxScaler(), Normalizer(),
                         RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)).fit(x_nan, y3)
    x_in = x.copy()
    x_in[rng.random(x_in.shape) < 0.05] = np.nan
    save_fixture("sk_pipeline", convert(pipe, x_nan, {"zipmap": False}), x_in)
    from sklearn.linear_model import LogisticRegression
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()).fit(x_nan, y3)
    save_fixture("sk_pipeline_linear", convert(pipe, x_nan, {"zipmap": False}), x_in)

    # A ColumnTransformer over one float tensor: StandardScaler on the numeric columns and
    # OneHotEncoder(handle_unknown="ignore") on two integer-valued columns. skl2onnx emits
    # ArrayFeatureExtractor, Gather, Scaler, Cast, OneHotEncoder, Concat and Reshape for it.
    x_cat = x_train.copy()
    x_cat[:, 6] = rng.integers(0, 3, size=len(x_cat))
    x_cat[:, 7] = rng.integers(0, 5, size=len(x_cat))
    ct = ColumnTransformer([("num", StandardScaler(), list(range(6))),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), [6, 7])])
    pipe = make_pipeline(ct, GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0)).fit(x_cat, y3)
    x_in = x.copy()
    x_in[:, 6] = rng.integers(-1, 4, size=len(x_in))  # -1 and 3: unknown categories
    x_in[:, 7] = rng.integers(0, 6, size=len(x_in))   # 5: unknown
    save_fixture("sk_columns", convert(pipe, x_cat, {"zipmap": False}), x_in)


def make_boosters(rng):
    """XGBoost and LightGBM through onnxmltools, trained on data with NaN (missing tracking)."""
    import lightgbm
    import xgboost
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    k = 10
    x_train = rng.normal(size=(800, k)).astype(np.float32)
    x_train[rng.random(x_train.shape) < 0.08] = np.nan
    filled = np.nan_to_num(x_train)
    y2 = (filled[:, 0] + 0.5 * filled[:, 1] - filled[:, 2] + 0.8 * np.isnan(x_train[:, 3]) > 0).astype(np.int64)
    y3 = np.digitize(filled[:, 0] - filled[:, 3] + 0.3 * filled[:, 5], [-0.6, 0.6]).astype(np.int64)
    yr = (filled @ np.linspace(-1, 2, k) + np.sin(3 * filled[:, 1])).astype(np.float32)
    x = rng.normal(size=(ROWS, k)).astype(np.float32)
    types = [("input", FloatTensorType([None, k]))]

    def stable(m, name):
        m.graph.name = name  # onnxmltools names the graph with a random uuid
        opsets = sorted(((o.domain, o.version) for o in m.opset_import))
        del m.opset_import[:]
        m.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets)
        return m

    xgb = dict(n_estimators=20, max_depth=4, learning_rate=0.3, n_jobs=1, random_state=0, tree_method="exact")
    models = [
        ("xgb_binary", convert_xgboost(xgboost.XGBClassifier(**xgb).fit(x_train, y2), initial_types=types, target_opset=15)),
        ("xgb_multi", convert_xgboost(xgboost.XGBClassifier(**xgb).fit(x_train, y3), initial_types=types, target_opset=15)),
        ("xgb_reg", convert_xgboost(xgboost.XGBRegressor(**xgb).fit(x_train, yr), initial_types=types, target_opset=15)),
    ]
    lgb = dict(n_estimators=20, num_leaves=15, learning_rate=0.2, n_jobs=1, random_state=0, deterministic=True,
               verbose=-1)
    models += [
        ("lgbm_binary", convert_lightgbm(lightgbm.LGBMClassifier(**lgb).fit(x_train, y2), initial_types=types,
                                         target_opset=15, zipmap=False)),
        ("lgbm_multi", convert_lightgbm(lightgbm.LGBMClassifier(**lgb).fit(x_train, y3), initial_types=types,
                                        target_opset=15, zipmap=False)),
        ("lgbm_reg", convert_lightgbm(lightgbm.LGBMRegressor(**lgb).fit(x_train, yr), initial_types=types,
                                      target_opset=15)),
    ]
    for name, m in models:
        save_fixture(name, stable(m, name), awkward_rows(rng, x, m, nan_rows=20))

    # LightGBM with categorical features: onnxmltools writes its category splits as BRANCH_EQ chains.
    x_cat = x_train.copy()
    x_cat[:, 8] = rng.integers(0, 12, size=len(x_cat))
    x_cat[:, 9] = rng.integers(0, 5, size=len(x_cat))
    y_cat = ((np.nan_to_num(x_cat[:, 0]) + 1.5 * np.isin(x_cat[:, 8], [1, 3, 7, 9]) - (x_cat[:, 9] == 2)) > 0.5)
    clf = lightgbm.LGBMClassifier(min_data_per_group=5, cat_smooth=1, **lgb).fit(x_cat, y_cat.astype(np.int64),
                                                                                 categorical_feature=[8, 9])
    m = stable(convert_lightgbm(clf, initial_types=types, target_opset=15, zipmap=False), "lgbm_categorical")
    x_in = x.copy()
    x_in[:, 8] = rng.integers(-1, 14, size=len(x_in))  # -1, 12, 13: categories never seen
    x_in[:, 9] = rng.integers(0, 5, size=len(x_in))
    save_fixture("lgbm_categorical", m, awkward_rows(rng, x_in, m, nan_rows=20))


def make_tree_ops(rng):
    """Hand-built TreeEnsembleRegressor / TreeEnsembleClassifier / TreeEnsemble nodes covering
    what the exporters leave out: every node mode, missing tracking, every aggregate function
    and post_transform, base values, and onnxruntime's two-class special cases."""
    k = 4
    depth = 3

    def random_tree(tree_id, outputs, modes, leaf_weights):
        """A full tree of `depth`: node ids 0.. in breadth-first order."""
        nodes = dict(treeids=[], nodeids=[], featureids=[], modes=[], values=[], truenodeids=[], falsenodeids=[],
                     missing=[])
        weights = []
        count = 2 ** (depth + 1) - 1
        for i in range(count):
            nodes["treeids"].append(tree_id)
            nodes["nodeids"].append(i)
            if i < 2 ** depth - 1:
                nodes["featureids"].append(int(rng.integers(k)))
                nodes["modes"].append(modes[int(rng.integers(len(modes)))])
                nodes["values"].append(float(np.float32(rng.choice([-0.5, 0.0, 0.25, 1.0]) if rng.random() < 0.5
                                                         else rng.normal())))
                nodes["truenodeids"].append(2 * i + 1)
                nodes["falsenodeids"].append(2 * i + 2)
                nodes["missing"].append(int(rng.random() < 0.5))
            else:
                nodes["featureids"].append(0)
                nodes["modes"].append("LEAF")
                nodes["values"].append(0.0)
                nodes["truenodeids"].append(0)
                nodes["falsenodeids"].append(0)
                nodes["missing"].append(0)
                weights += leaf_weights(tree_id, i, outputs)
        return nodes, weights

    def ensemble(n_trees, outputs, modes, leaf_weights):
        nodes = None
        weights = []
        for t in range(n_trees):
            tn, tw = random_tree(t, outputs, modes, leaf_weights)
            nodes = tn if nodes is None else {key: nodes[key] + tn[key] for key in nodes}
            weights += tw
        return nodes, weights

    def all_outputs(tree_id, node_id, outputs):
        return [(tree_id, node_id, j, float(np.float32(rng.normal()))) for j in range(outputs)]

    def one_output(cls):
        return lambda tree_id, node_id, outputs: [(tree_id, node_id, cls, float(np.float32(rng.normal())))]

    def positive(cls):
        return lambda tree_id, node_id, outputs: [(tree_id, node_id, cls, float(np.float32(rng.uniform(0, 0.2))))]

    all_modes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
    node_list, outs = [], []

    def regressor(name, n_trees, targets, modes, aggregate="SUM", post="NONE", base=None, leaf=all_outputs):
        nodes, weights = ensemble(n_trees, targets, modes, leaf)
        attrs = dict(n_targets=targets, nodes_treeids=nodes["treeids"], nodes_nodeids=nodes["nodeids"],
                     nodes_featureids=nodes["featureids"], nodes_modes=nodes["modes"], nodes_values=nodes["values"],
                     nodes_truenodeids=nodes["truenodeids"], nodes_falsenodeids=nodes["falsenodeids"],
                     nodes_missing_value_tracks_true=nodes["missing"], target_treeids=[w[0] for w in weights],
                     target_nodeids=[w[1] for w in weights], target_ids=[w[2] for w in weights],
                     target_weights=[w[3] for w in weights], aggregate_function=aggregate, post_transform=post)
        if base is not None:
            attrs["base_values"] = base
        node_list.append(helper.make_node("TreeEnsembleRegressor", ["x"], [name], domain="ai.onnx.ml", name=name, **attrs))
        outs.append(vi(name, TensorProto.FLOAT, [None, targets]))

    def classifier(name, n_trees, classes, modes, post="NONE", base=None, leaf=all_outputs, labels=None):
        nodes, weights = ensemble(n_trees, classes, modes, leaf)
        attrs = dict(classlabels_int64s=labels or list(range(classes)), nodes_treeids=nodes["treeids"],
                     nodes_nodeids=nodes["nodeids"], nodes_featureids=nodes["featureids"], nodes_modes=nodes["modes"],
                     nodes_values=nodes["values"], nodes_truenodeids=nodes["truenodeids"],
                     nodes_falsenodeids=nodes["falsenodeids"], nodes_missing_value_tracks_true=nodes["missing"],
                     class_treeids=[w[0] for w in weights], class_nodeids=[w[1] for w in weights],
                     class_ids=[w[2] for w in weights], class_weights=[w[3] for w in weights], post_transform=post)
        if base is not None:
            attrs["base_values"] = base
        node_list.append(helper.make_node("TreeEnsembleClassifier", ["x"], [name + "_label", name], domain="ai.onnx.ml",
                                          name=name, **attrs))
        outs.extend([vi(name + "_label", TensorProto.INT64, [None]), vi(name, TensorProto.FLOAT, [None, classes])])

    regressor("reg_modes", 5, 1, all_modes)
    for mode in all_modes:
        regressor("reg_" + mode.lower(), 3, 1, [mode])
    for aggregate in ["SUM", "AVERAGE", "MIN", "MAX"]:
        regressor("reg_" + aggregate.lower(), 4, 1, ["BRANCH_LEQ", "BRANCH_LT"], aggregate=aggregate, base=[0.5])
        regressor("reg2_" + aggregate.lower(), 4, 2, ["BRANCH_LEQ"], aggregate=aggregate, base=[0.5, -1.0])
    regressor("reg_sparse_min", 4, 2, ["BRANCH_LEQ"], aggregate="MIN", leaf=lambda t, n, o: one_output(t % 2)(t, n, o))
    regressor("reg1_logistic", 3, 1, ["BRANCH_LEQ"], post="LOGISTIC", base=[0.3])  # onnxruntime ignores it
    for aggregate in ["SUM", "AVERAGE", "MIN", "MAX"]:  # target 2 gets no leaf value, only a base value
        regressor("reg_unreached_" + aggregate.lower(), 4, 3, ["BRANCH_LEQ"], aggregate=aggregate, base=[0.5, -1.0, 0.7],
                  leaf=lambda t, n, o: one_output(t % 2)(t, n, o))
    for post in ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"]:
        regressor("reg3_" + post.lower(), 3, 3, ["BRANCH_LEQ", "BRANCH_GT"], post=post, base=[0.1, 0.2, 0.3])
        classifier("clf3_" + post.lower(), 3, 3, ["BRANCH_LEQ", "BRANCH_GTE"], post=post, base=[0.1, -0.2, 0.3],
                   labels=[7, 8, 9])
        for nb in [0, 1, 2]:
            base = [0.25, -0.5][:nb] if nb else None
            classifier("bin_one_%s_%d" % (post.lower(), nb), 3, 2, ["BRANCH_LT"], post=post, base=base,
                       leaf=one_output(1))
            classifier("bin_zero_%s_%d" % (post.lower(), nb), 3, 2, ["BRANCH_LT"], post=post, base=base,
                       leaf=one_output(0), labels=[4, 6])
            classifier("bin_pos_%s_%d" % (post.lower(), nb), 3, 2, ["BRANCH_LEQ"], post=post, base=base,
                       leaf=positive(1), labels=[4, 6])
            classifier("bin_both_%s_%d" % (post.lower(), nb), 3, 2, ["BRANCH_LEQ"], post=post, base=base)
    classifier("clf_sparse", 6, 4, ["BRANCH_LEQ"], leaf=lambda t, n, o: one_output(t % 3)(t, n, o))
    # Two classes, values for both: onnxruntime's label is 1 when class 1's score is > 0, else 0
    # (the numbers, not classlabels_int64s), and we reproduce it.
    classifier("bin_both_labels", 3, 2, ["BRANCH_LEQ"], labels=[4, 6])
    # Each leaf has a value for one random class: whether a class has a score depends on the row.
    random_class = lambda t, n, o: one_output(int(rng.integers(o)))(t, n, o)
    for nb in [0, 1, 2]:
        classifier("bin_mixed_%d" % nb, 2, 2, ["BRANCH_LEQ"], post="LOGISTIC", base=[0.25, -0.5][:nb] if nb else None,
                   leaf=random_class)
    classifier("clf_mixed", 2, 4, ["BRANCH_LEQ"], post="SOFTMAX", leaf=random_class)
    regressor("reg_mixed", 2, 3, ["BRANCH_LEQ"], base=[0.5, -1.0, 0.7], leaf=random_class)

    x = rng.normal(size=(ROWS, k)).astype(np.float32)
    m0 = model(node_list, [vi("x", TensorProto.FLOAT, [None, k])], outs, opset=OPSET_ML)
    x = awkward_rows(rng, x, m0, nan_rows=20)
    x[:8] = np.float32([-0.5, 0.0, 0.25, 1.0])[rng.integers(4, size=(8, k))]  # ties with the round thresholds
    save_fixture("tree_ops", m0, x)

    # TreeEnsemble (ai.onnx.ml opset 5): separate leaves, tensor attributes, integer enums.
    nodes5 = []
    outs5 = []
    for index, (aggregate, post, targets) in enumerate([(1, 0, 1), (0, 0, 2), (2, 2, 2), (3, 1, 3), (1, 3, 2)]):
        n_trees, feature, split, mode, true_id, true_leaf, false_id, false_leaf, missing = 3, [], [], [], [], [], [], [], []
        leaf_target, leaf_weight, roots = [], [], []
        for t in range(n_trees):
            roots.append(len(feature))
            base = len(feature)
            for i in range(3):  # a root and two children, each child with two leaves
                feature.append(int(rng.integers(k)))
                split.append(np.float32(rng.normal()))
                mode.append(int(rng.integers(6)))
                missing.append(int(rng.random() < 0.5))
                if i == 0:
                    true_id.append(base + 1)
                    false_id.append(base + 2)
                    true_leaf.append(0)
                    false_leaf.append(0)
                else:
                    true_id.append(len(leaf_target))
                    false_id.append(len(leaf_target) + 1)
                    true_leaf.append(1)
                    false_leaf.append(1)
                    for _ in range(2):
                        leaf_target.append(int(rng.integers(targets)))
                        leaf_weight.append(np.float32(rng.normal()))
        name = "ensemble5_%d" % index
        nodes5.append(helper.make_node(
            "TreeEnsemble", ["x"], [name], domain="ai.onnx.ml", name=name, aggregate_function=aggregate,
            post_transform=post, n_targets=targets, tree_roots=roots, nodes_featureids=feature,
            nodes_splits=numpy_helper.from_array(np.array(split, dtype=np.float32)),
            nodes_modes=numpy_helper.from_array(np.array(mode, dtype=np.uint8)), nodes_truenodeids=true_id,
            nodes_trueleafs=true_leaf, nodes_falsenodeids=false_id, nodes_falseleafs=false_leaf,
            nodes_missing_value_tracks_true=missing, leaf_targetids=leaf_target,
            leaf_weights=numpy_helper.from_array(np.array(leaf_weight, dtype=np.float32))))
        outs5.append(vi(name, TensorProto.FLOAT, [None, targets]))
    m5 = model(nodes5, [vi("x", TensorProto.FLOAT, [None, k])], outs5,
               opset=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)])
    save_fixture("tree_ensemble5", m5, x)


def make_torch(rng):
    """PyTorch MLPs exported by torch.onnx.export: the TorchScript exporter (dynamo=False) at
    opset 17 (Gelu as Div/Erf/Add/Mul/Mul, BatchNormalization kept) and 20 (Gelu op), and the
    dynamo exporter at opset 18 (BatchNormalization folded into the Gemm) and 20; plus a 3-D
    input, for which Linear becomes MatMul + Add."""
    try:
        import torch
    except ImportError:
        print("torch is not installed: keeping the committed torch_* fixtures")
        return
    import io
    import warnings
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)

    class MLP(torch.nn.Module):
        def __init__(self, k, hidden, classes, approximate="none"):
            super().__init__()
            self.fc1 = torch.nn.Linear(k, hidden)
            self.bn = torch.nn.BatchNorm1d(hidden)
            self.fc2 = torch.nn.Linear(hidden, hidden)
            self.fc3 = torch.nn.Linear(hidden, hidden)
            self.out = torch.nn.Linear(hidden, classes)
            self.drop = torch.nn.Dropout(0.2)
            self.approximate = approximate

        def forward(self, x):
            h = torch.nn.functional.gelu(self.bn(self.fc1(x)), approximate=self.approximate)
            h = self.drop(torch.relu(self.fc2(h)))
            h = torch.sigmoid(torch.tanh(self.fc3(h)))
            logits = self.out(h)
            return torch.softmax(logits, dim=1), torch.log_softmax(logits, dim=-1)

    k, hidden, classes = 12, 32, 5
    x = rng.normal(size=(ROWS, k)).astype(np.float32)
    net = MLP(k, hidden, classes)
    net_tanh = MLP(k, hidden, classes, approximate="tanh")
    for m in [net, net_tanh]:
        m.train()
        with torch.no_grad():  # running statistics that are not the identity
            for _ in range(5):
                m(torch.from_numpy(rng.normal(loc=0.3, scale=2.0, size=(64, k)).astype(np.float32)))
        m.eval()

    def export(module, example, name, opset, dynamo):
        f = io.BytesIO()
        kwargs = dict(input_names=["input"], output_names=["probabilities", "log_probabilities"], opset_version=opset,
                      dynamo=dynamo)
        if dynamo:
            kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
        else:
            kwargs["dynamic_axes"] = {"input": {0: "batch"}}
        torch.onnx.export(module, (example,), f, **kwargs)
        m = onnx.load_from_string(f.getvalue())
        m.producer_version = m.producer_version.split("+")[0]
        # The dynamo exporter records stack traces (this file's path and line numbers) per node.
        del m.metadata_props[:]
        for node in m.graph.node:
            del node.metadata_props[:]
        for value in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output) + list(m.graph.initializer):
            del value.metadata_props[:]
        save_fixture(name, m, x if example.dim() == 2 else x3)

    example = torch.from_numpy(x[:4])
    export(net, example, "torch_mlp_opset17", 17, False)
    export(net, example, "torch_mlp_opset20", 20, False)
    export(net_tanh, example, "torch_mlp_gelu_tanh", 20, False)
    export(net, example, "torch_mlp_dynamo18", 18, True)
    export(net, example, "torch_mlp_dynamo20", 20, True)

    class Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(6, 16)
            self.fc2 = torch.nn.Linear(16, 3)

        def forward(self, x):
            return torch.log_softmax(self.fc2(torch.nn.functional.gelu(self.fc1(x))), dim=-1), torch.sigmoid(self.fc2(x.new_zeros(1) + self.fc1(x)))

    x3 = rng.normal(size=(ROWS, 2, 6)).astype(np.float32)
    export(Seq().eval(), torch.from_numpy(x3[:4]), "torch_mlp_3d", 17, False)


# ---------------------------------------------------------------- error fixtures

def make_error_fixtures(rng):
    def write(name, m):
        with open(os.path.join(FIXTURES, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())

    w = init("w", rng.normal(size=(4, 1, 3, 3)).astype(np.float32))
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w"], ["y"], name="/conv1/Conv", kernel_shape=[3, 3])]
    write("unsupported_op", model(nodes, [vi("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                                  [vi("y", TensorProto.FLOAT, None)], [w]))

    graph = helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="add_ghost")], "g",
                              [vi("x", TensorProto.FLOAT, ["N", 3])], [vi("y", TensorProto.FLOAT, None)])
    write("undefined_input", helper.make_model(graph, opset_imports=OPSET))

    graph = helper.make_graph([helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
                               helper.make_node("Relu", ["a"], ["b"], name="relu_b")], "g",
                              [vi("x", TensorProto.FLOAT, ["N", 3])], [vi("b", TensorProto.FLOAT, None)])
    write("cycle", helper.make_model(graph, opset_imports=OPSET))

    weights = init("w", np.ones((3, 2), dtype=np.float32))
    weights.ClearField("raw_data")
    weights.data_location = TensorProto.EXTERNAL
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                              [vi("x", TensorProto.FLOAT, ["N", 3])], [vi("y", TensorProto.FLOAT, None)], [weights])
    write("external_data", helper.make_model(graph, opset_imports=OPSET))

    # A real model cut short, with a length prefix made to overrun what remains.
    data = bytearray(open(os.path.join(FIXTURES, "mlp_gemm.onnx"), "rb").read()[:700])
    data[-40:] = b"\x0a\xff\xff\xff\x0f" + bytes(35)
    with open(os.path.join(FIXTURES, "malformed.onnx"), "wb") as f:
        f.write(bytes(data))


# ---------------------------------------------------------------- the demo

COUNTRIES = ["US", "DE", "FR", "GB"]
AMOUNT_MEAN, AMOUNT_STD = 52.0, 30.0
HOUR_MEAN, HOUR_STD = 11.5, 6.9


def demo_records(rng, n, base_logit=-4.5):
    """Synthetic transactions; fraud is likelier for large amounts, night hours, new customers, FR.
    `base_logit` sets how common fraud is overall (-4.5: the demo's training data)."""
    amount = rng.gamma(shape=3.0, scale=AMOUNT_MEAN / 3.0, size=n).round(2)
    hour = rng.integers(0, 24, size=n)
    country = rng.choice(COUNTRIES + ["IT"], p=[0.45, 0.2, 0.15, 0.15, 0.05], size=n)
    new = rng.random(n) < 0.3
    night = (hour < 6) | (hour >= 23)
    logit = base_logit + 0.05 * (amount - AMOUNT_MEAN) + 2.5 * night + 1.8 * new + 1.0 * (country == "FR")
    fraud = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    return amount, hour, country, new, fraud


def demo_features(amount, hour, country, new):
    onehot = np.stack([(country == c) for c in COUNTRIES], axis=1).astype(np.float32)
    return np.column_stack([(amount - AMOUNT_MEAN) / AMOUNT_STD, (hour - HOUR_MEAN) / HOUR_STD,
                            onehot, new.astype(np.float32)]).astype(np.float32)


def demo_model(mlp, features, doc):
    """The demo graph of a fitted one-hidden-layer MLPClassifier (relu, one logistic output unit):
    Gemm(transB=1) 7->hidden + Relu + Gemm hidden->2 + Softmax -> 'probabilities' [N, 2]
    (legit, fraud), and ArgMax -> 'label' [N] (int64); the logistic unit is rewritten exactly as
    a 2-way softmax over the logits [0, z]. Checked against mlp.predict_proba on `features`."""
    w1, w2 = mlp.coefs_
    b1, b2 = mlp.intercepts_
    hidden = w1.shape[1]
    fc2_weight = np.vstack([np.zeros((1, hidden)), w2.T]).astype(np.float32)  # [2, hidden]: class 0 logit is 0
    fc2_bias = np.array([0.0, b2[0]], dtype=np.float32)
    nodes = [
        helper.make_node("Gemm", ["features", "fc1.weight", "fc1.bias"], ["/fc1/Gemm_output_0"], name="/fc1/Gemm", transB=1),
        helper.make_node("Relu", ["/fc1/Gemm_output_0"], ["/relu/Relu_output_0"], name="/relu/Relu"),
        helper.make_node("Gemm", ["/relu/Relu_output_0", "fc2.weight", "fc2.bias"], ["logits"], name="/fc2/Gemm", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="/softmax/Softmax", axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], name="/argmax/ArgMax", axis=1, keepdims=0),
    ]
    m = model(nodes, [vi("features", TensorProto.FLOAT, ["batch", 7])],
              [vi("probabilities", TensorProto.FLOAT, ["batch", 2]), vi("label", TensorProto.INT64, ["batch"])],
              [init("fc1.weight", w1.T.astype(np.float32)), init("fc1.bias", b1.astype(np.float32)),
               init("fc2.weight", fc2_weight), init("fc2.bias", fc2_bias)], producer="make_test_models")
    m.doc_string = doc
    onnx.checker.check_model(m)
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    probs = session.run(["probabilities"], {"features": features[:2000]})[0]
    assert np.allclose(probs, mlp.predict_proba(features[:2000]), atol=1e-5), "softmax rewrite differs from sklearn"
    return m


def make_demo():
    """models/demo.onnx: input 'features' [N, 7] = amount standardized (mean 52, std 30), hour
    standardized (mean 11.5, std 6.9), country one-hot US/DE/FR/GB (others: zeros),
    is_new_customer 0/1; Gemm(transB=1) 7->16 + Relu + Gemm 16->2 + Softmax -> 'probabilities'
    [N, 2] (legit, fraud), and ArgMax -> 'label' [N] (int64). Trained with scikit-learn's
    MLPClassifier (one logistic output unit), rewritten exactly as a 2-way softmax: logits [0, z]."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(2026)
    amount, hour, country, new, fraud = demo_records(rng, 20000)
    features = demo_features(amount, hour, country, new)
    mlp = MLPClassifier(hidden_layer_sizes=(16,), activation="relu", max_iter=300, random_state=0)
    mlp.fit(features, fraud.astype(np.int64))
    m = demo_model(mlp, features, make_demo.__doc__)
    with open(os.path.join(ROOT, "models", "demo.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    print("demo.onnx: train accuracy %.3f, fraud rate %.3f" % (mlp.score(features, fraud), fraud.mean()))


def make_demo_v2():
    """models/demo_v2.onnx: the demo model "retrained" on a newer sample, for shadow comparisons.
    Same input 'features' [N, 7], outputs 'probabilities' [N, 2] (legit, fraud) and 'label' [N]
    (int64), opset and graph as models/demo.onnx, but 24 hidden units (Gemm 7->24 + Relu + Gemm
    24->2 + Softmax, ArgMax), trained on another 20000 records (seed 2027) in which fraud is more
    common (base logit -4.0 instead of -4.5; fraud rate about 17% instead of 14%). On
    examples/transactions.jsonl it predicts "fraud" more often than demo.onnx: about 4% of the
    labels differ."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(2027)
    amount, hour, country, new, fraud = demo_records(rng, 20000, base_logit=-4.0)
    features = demo_features(amount, hour, country, new)
    mlp = MLPClassifier(hidden_layer_sizes=(24,), activation="relu", max_iter=300, random_state=1)
    mlp.fit(features, fraud.astype(np.int64))
    m = demo_model(mlp, features, make_demo_v2.__doc__)
    with open(os.path.join(ROOT, "models", "demo_v2.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    print("demo_v2.onnx: train accuracy %.3f, fraud rate %.3f" % (mlp.score(features, fraud), fraud.mean()))


def make_examples():
    rng = np.random.default_rng(7)
    n = 1000
    amount, hour, country, new, _ = demo_records(rng, n)
    missing_country = rng.random(n) < 0.03  # the optional field, left out of some records
    jsonl, csv = [], ["id,amount,hour,country,is_new_customer"]
    for i in range(n):
        fields = ['"id":%d' % (i + 1), '"amount":%s' % repr(float(amount[i])), '"hour":%d' % hour[i]]
        if not missing_country[i]:
            fields.append('"country":"%s"' % country[i])
        fields.append('"is_new_customer":%s' % ("true" if new[i] else "false"))
        jsonl.append("{" + ",".join(fields) + "}")
        csv.append("%d,%s,%d,%s,%s" % (i + 1, repr(float(amount[i])), hour[i],
                                       "" if missing_country[i] else country[i], "true" if new[i] else "false"))
    with open(os.path.join(ROOT, "examples", "transactions.jsonl"), "w") as f:
        f.write("\n".join(jsonl) + "\n")
    with open(os.path.join(ROOT, "examples", "transactions.csv"), "w") as f:
        f.write("\n".join(csv) + "\n")


# What `make_test_models.py NAME …` makes on its own (no name: everything, as in main).
TARGETS = {"demo": make_demo, "demo_v2": make_demo_v2, "examples": make_examples}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for d in [FIXTURES, os.path.join(ROOT, "models"), os.path.join(ROOT, "examples")]:
        os.makedirs(d, exist_ok=True)
    if argv:
        unknown = [name for name in argv if name not in TARGETS]
        if unknown:
            print("make_test_models.py: unknown target %s; known: %s (no argument: everything)"
                  % (", ".join(map(repr, unknown)), ", ".join(TARGETS)), file=sys.stderr)
            return 2
        for name in argv:
            TARGETS[name]()
        return 0
    rng = np.random.default_rng(12345)
    make_mlps(rng)
    make_axes(rng)
    make_shape_ops(rng)
    make_ml_ops(rng)
    make_sklearn(rng)
    make_error_fixtures(rng)
    make_sklearn_models(np.random.default_rng(101))
    make_boosters(np.random.default_rng(102))
    make_tree_ops(np.random.default_rng(103))
    make_torch(np.random.default_rng(104))
    make_demo()
    make_demo_v2()
    make_examples()
    return 0


if __name__ == "__main__":
    sys.exit(main())
