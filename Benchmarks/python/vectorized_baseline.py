"""The strongest natural Python pipeline for `pipeline bench`: the headline comparison.

    python3 Benchmarks/python/vectorized_baseline.py CONFIG INPUT OUTPUT

Four multiprocessing stages connected by queues, 1000 records per message, as a skilled Python
user would write them: parse (orjson, one call per message: the lines joined into one JSON
array; the numeric fields taken with `operator.itemgetter` into one float32 matrix, so that
arrays, not dicts, cross to the next process) -> features (numpy, one vectorized call per
message: standardized at once; text with scikit-learn's own `HashingVectorizer`, kept sparse) -> infer (onnxruntime, one thread, for
dense input; for the sparse text input, scikit-learn's `LogisticRegression.predict_proba` on the
sparse matrix, with the ONNX model's weights) -> format (orjson, one `dumps` per record, numpy
arrays serialized natively). The main process reads INPUT a megabyte at a time, feeds the first
stage and writes the formatted lines to OUTPUT in input order. It reads the same pipeline.toml
(the feature kinds the benchmark workloads use) and writes the same fields, so predictions can
be compared record by record. Prints "records seconds" on stdout.

`python_baseline.py` is the generic one (per-field lists, onnxruntime on densified text rows);
the bench shows both.
"""
import multiprocessing as mp

import baseline_driver
import operator



def numeric_features(config):
    """The numeric features (all of them, or none: the workloads do not mix kinds)."""
    features = config["feature"]
    numeric = [f for f in features if f["kind"] in ("standardize", "identity")]
    if len(numeric) not in (0, len(features)):
        raise SystemExit("vectorized_baseline: numeric features mixed with others are not implemented")
    return numeric


def parse_stage(config, inbox, outbox):
    # Parsing ends in arrays: what crosses to the next process pickles as a buffer, not as a
    # thousand dicts (unpickling those cost more than parsing them).
    import numpy as np
    import orjson
    numeric = numeric_features(config)
    passthrough = config.get("output", {}).get("passthrough", [])
    keep = operator.itemgetter(*passthrough) if passthrough else None
    take = operator.itemgetter(*[f["field"] for f in numeric]) if numeric else None
    fields = [f["field"] for f in config["feature"]]
    while (item := inbox.get()) is not None:
        seq, lines = item
        records = orjson.loads(b"[" + b",".join(lines) + b"]")
        ids = list(map(keep, records)) if keep else None
        if take:
            columns = np.array(list(map(take, records)), dtype=np.float32)
        else:
            columns = {f: [r.get(f) for r in records] for f in fields}
        outbox.put((seq, ids, columns))
    outbox.put(None)


def feature_stage(config, inbox, outbox):
    import numpy as np
    from scipy import sparse
    numeric = numeric_features(config)
    if numeric:
        mean = np.array([f.get("mean", 0.0) if f["kind"] == "standardize" else 0.0 for f in numeric], dtype=np.float32)
        scale = np.array([1.0 / (f.get("std") or 1.0) if f["kind"] == "standardize" else 1.0 for f in numeric], dtype=np.float32)
    else:
        from sklearn.feature_extraction.text import HashingVectorizer
        parts = []
        for f in config["feature"]:
            if f["kind"] == "text_hash":
                hasher = HashingVectorizer(n_features=f.get("n_features", 1 << 20), ngram_range=tuple(f.get("ngram_range", [1, 1])),
                                           alternate_sign=f.get("alternate_sign", True), norm=f.get("norm", "l2"),
                                           dtype=np.float32)
                parts.append(("text", f["field"], hasher))
            elif f["kind"] == "onehot":
                parts.append(("onehot", f["field"], {c: i for i, c in enumerate(f["categories"])}))
            else:
                raise SystemExit("vectorized_baseline: feature kind %r is not implemented" % f["kind"])
    while (item := inbox.get()) is not None:
        seq, ids, columns = item
        if numeric:
            x = (columns - mean) * scale
        else:
            blocks = []
            for kind, field, how in parts:
                values = columns[field]
                if kind == "text":
                    blocks.append(how.transform([v or "" for v in values]))
                else:
                    cols = np.fromiter((how.get(v, -1) for v in values), dtype=np.int64, count=len(values))
                    rows = np.nonzero(cols >= 0)[0]
                    blocks.append(sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols[rows])),
                                                    shape=(len(values), len(how))))
            x = sparse.hstack(blocks, format="csr")
        outbox.put((seq, ids, x))
    outbox.put(None)


def infer_stage(config, inbox, outbox):
    import numpy as np
    from scipy import sparse
    session = None
    linear = None
    while (item := inbox.get()) is not None:
        seq, ids, x = item
        if sparse.issparse(x):
            if linear is None:
                linear = logistic_regression(config["model"]["path"])
            scores = linear.predict_proba(x)[:, 1:].astype(np.float32)
        else:
            if session is None:
                session, name, output = onnx_session(config)
            scores = session.run([output], {name: x})[0]
        outbox.put((seq, ids, scores))
    outbox.put(None)


def onnx_session(config):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(config["model"]["path"], options, providers=["CPUExecutionProvider"])
    output = config["model"].get("output") or next(o.name for o in session.get_outputs() if o.type == "tensor(float)")
    return session, session.get_inputs()[0].name, output


def logistic_regression(path):
    """scikit-learn's LogisticRegression with the weights of a MatMul + Add + Sigmoid ONNX model."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from sklearn.linear_model import LogisticRegression
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    w = next(v for v in weights.values() if v.ndim == 2)
    b = next(v for v in weights.values() if v.ndim == 1)
    model = LogisticRegression()
    model.coef_ = w.T.astype(np.float64)
    model.intercept_ = b.astype(np.float64)
    model.classes_ = np.array([0, 1])
    return model


def format_stage(config, inbox, outbox):
    import numpy as np
    import orjson
    out = config.get("output", {})
    fields = out.get("fields", ["label", "score"])
    passthrough = out.get("passthrough", [])
    labels = out.get("labels")
    numpy = orjson.OPT_SERIALIZE_NUMPY
    while (item := inbox.get()) is not None:
        seq, ids, scores = item
        n = len(scores)
        if not passthrough:
            rows = [{} for _ in range(n)]
        elif len(passthrough) == 1:
            rows = [{passthrough[0]: v} for v in ids]
        else:
            rows = [dict(zip(passthrough, v)) for v in ids]
        best = np.argmax(scores, axis=1)
        for f in fields:
            if f == "label":
                column = [labels[b] for b in best] if labels else best.tolist()
            elif f == "score":
                column = scores[np.arange(n), best].tolist()
            elif f == "probabilities":
                column = list(scores)  # numpy rows: orjson writes them natively
            elif f == "prediction":
                column = scores[:, 0].tolist()
            else:
                raise SystemExit("vectorized_baseline: output field %r is not implemented" % f)
            for row, v in zip(rows, column):
                row[f] = v
        outbox.put((seq, b"\n".join([orjson.dumps(r, option=numpy) for r in rows]) + b"\n"))
    outbox.put(None)


def main():
    baseline_driver.main("vectorized baseline", lambda config, q: [
        mp.Process(target=parse_stage, args=(config, q[0], q[1])),
        mp.Process(target=feature_stage, args=(config, q[1], q[2])),
        mp.Process(target=infer_stage, args=(config, q[2], q[3])),
        mp.Process(target=format_stage, args=(config, q[3], q[4]))])


if __name__ == "__main__":
    main()
