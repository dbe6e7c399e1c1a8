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
import os
import sys
import threading
import time
import tomllib

CHUNK = 1000


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
    config_path, input_path, output_path = sys.argv[1:4]
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    model = config["model"]["path"]
    if not os.path.isabs(model):
        config["model"]["path"] = os.path.join(os.path.dirname(os.path.abspath(config_path)), model)
    queues = [mp.Queue(maxsize=8) for _ in range(5)]
    stages = [mp.Process(target=parse_stage, args=(queues[0], queues[1])),
              mp.Process(target=feature_stage, args=(config, queues[1], queues[2])),
              mp.Process(target=infer_stage, args=(config, queues[2], queues[3])),
              mp.Process(target=format_stage, args=(config, queues[3], queues[4]))]
    start = time.perf_counter()
    for p in stages:
        p.start()

    def watch():
        # A stage that dies (a missing module, a crash) would leave the others and this process
        # waiting on their queues forever: end the run with its exit code instead.
        while True:
            for p in stages:
                if p.exitcode not in (None, 0):
                    print(f"python baseline: stage {p.name} exited with {p.exitcode}", file=sys.stderr, flush=True)
                    for q in stages:
                        q.kill()
                    os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    records = 0
    pending = {}
    next_seq = 0

    def drain(block):
        nonlocal next_seq
        while True:
            try:
                item = queues[4].get(block=block, timeout=None if block else 0)
            except Exception:
                return False
            if item is None:
                return True
            pending[item[0]] = item[1]
            while next_seq in pending:
                out.write(pending.pop(next_seq))
                next_seq += 1
            block = False

    with open(input_path, "rb") as src, open(output_path, "wb") as out:
        seq = 0
        chunk = []
        for line in src:
            if line.strip():
                chunk.append(line)
            if len(chunk) == CHUNK:
                queues[0].put((seq, chunk))
                records += len(chunk)
                seq += 1
                chunk = []
                drain(False)
        if chunk:
            queues[0].put((seq, chunk))
            records += len(chunk)
        queues[0].put(None)
        while not drain(True):
            pass
    for p in stages:
        p.join()
    print(records, time.perf_counter() - start)


if __name__ == "__main__":
    main()
