"""The pipeline a Python user would write instead, for `pipeline bench` to compare with.

    python3 Benchmarks/python/python_baseline.py CONFIG INPUT OUTPUT

Four multiprocessing stages connected by queues, 1000 records per message, as DESIGN.md's
comparison asks: parse (orjson) -> features (numpy; scikit-learn's HashingVectorizer for text)
-> infer (onnxruntime, one thread) -> format (orjson); the main process reads INPUT, feeds the
first stage and writes the formatted lines to OUTPUT in input order. It reads the same
pipeline.toml (the feature kinds the benchmark workloads use) and writes the same fields, so
predictions can be compared record by record. Prints "records seconds" on stdout.
"""
import multiprocessing as mp

import baseline_driver



def parse_stage(inbox, outbox):
    import orjson
    while (item := inbox.get()) is not None:
        seq, lines = item
        outbox.put((seq, [orjson.loads(line) for line in lines]))
    outbox.put(None)


def feature_stage(config, inbox, outbox):
    import numpy as np
    from scipy import sparse
    text = []
    for f in config["feature"]:
        if f["kind"] == "text_hash":
            from sklearn.feature_extraction.text import HashingVectorizer
            text.append(HashingVectorizer(n_features=f.get("n_features", 1 << 20),
                                          ngram_range=tuple(f.get("ngram_range", [1, 1])),
                                          alternate_sign=f.get("alternate_sign", True), norm=f.get("norm", "l2")))
        else:
            text.append(None)
    passthrough = config.get("output", {}).get("passthrough", [])
    while (item := inbox.get()) is not None:
        seq, records = item
        n = len(records)
        blocks = []
        for f, hasher in zip(config["feature"], text):
            values = [r.get(f["field"]) for r in records]
            kind = f["kind"]
            if kind == "standardize":
                std = f["std"] or 1.0
                blocks.append(((np.array(values, dtype=np.float64) - f["mean"]) / std).astype(np.float32).reshape(n, 1))
            elif kind == "identity":
                blocks.append(np.array([float(v) for v in values], dtype=np.float32).reshape(n, 1))
            elif kind == "onehot":
                cats = f["categories"]
                block = np.zeros((n, len(cats)), dtype=np.float32)
                index = {c: i for i, c in enumerate(cats)}
                for row, v in enumerate(values):
                    if v in index:
                        block[row, index[v]] = 1
                blocks.append(block)
            elif kind == "text_hash":
                blocks.append(hasher.transform([v or "" for v in values]).astype(np.float32))
            else:
                raise SystemExit("python_baseline: feature kind %r is not implemented" % kind)
        if any(sparse.issparse(b) for b in blocks):
            x = sparse.hstack([sparse.csr_matrix(b) for b in blocks], format="csr")
        else:
            x = np.hstack(blocks)
        outbox.put((seq, [[r.get(p) for p in passthrough] for r in records], x))
    outbox.put(None)


def infer_stage(config, inbox, outbox):
    import numpy as np
    import onnxruntime as ort
    from scipy import sparse
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(config["model"]["path"], options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    output = config["model"].get("output") or next(
        o.name for o in session.get_outputs() if o.type == "tensor(float)")
    while (item := inbox.get()) is not None:
        seq, passthrough, x = item
        if sparse.issparse(x):
            # onnxruntime takes dense input only: densify a few rows at a time.
            parts = [session.run([output], {name: x[i:i + 32].toarray()})[0] for i in range(0, x.shape[0], 32)]
            scores = np.vstack(parts)
        else:
            scores = session.run([output], {name: x})[0]
        outbox.put((seq, passthrough, scores))
    outbox.put(None)


def format_stage(config, inbox, outbox):
    import numpy as np
    import orjson
    out = config.get("output", {})
    fields = out.get("fields", ["label", "score"])
    passthrough = out.get("passthrough", [])
    labels = out.get("labels")
    while (item := inbox.get()) is not None:
        seq, rows, scores = item
        best = np.argmax(scores, axis=1)
        lines = []
        for row, values, b in zip(rows, scores, best):
            record = dict(zip(passthrough, row))
            for f in fields:
                if f == "label":
                    record["label"] = labels[b] if labels else int(b)
                elif f == "score":
                    record["score"] = float(values[b])
                elif f == "probabilities":
                    record["probabilities"] = [float(v) for v in values]
                elif f == "prediction":
                    record["prediction"] = float(values[0])
            lines.append(orjson.dumps(record))
        outbox.put((seq, b"\n".join(lines) + b"\n"))
    outbox.put(None)


def main():
    baseline_driver.main("python baseline", lambda config, q: [
        mp.Process(target=parse_stage, args=(q[0], q[1])),
        mp.Process(target=feature_stage, args=(config, q[1], q[2])),
        mp.Process(target=infer_stage, args=(config, q[2], q[3])),
        mp.Process(target=format_stage, args=(config, q[3], q[4]))])


if __name__ == "__main__":
    main()
