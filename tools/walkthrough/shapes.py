#!/usr/bin/env python3
"""Trains one of the short model shapes users export first, for Tests/EndToEndTests/ExporterShapeTests.

    python3 tools/walkthrough/shapes.py CASE OUT_DIR

Writes OUT_DIR/model.pkl (the fitted model, pickled, for tools/export_sklearn.py) and, for the
shapes the pipeline runs, OUT_DIR/records.jsonl (held-out records, each with an "id") and
OUT_DIR/expected.jsonl (scikit-learn's label, a number for an integer class, and predict_proba for
each, in the walk-through's format). The caller exports the pickle, runs `pipeline up` and compares. Cases (`--list` prints
them; the last three are refused):

  scaler-dataframe  make_pipeline(StandardScaler(), LogisticRegression()) on a DataFrame
  scaler-array      make_pipeline(StandardScaler(), MLPClassifier()) on a NumPy array (columns x0 …)
  bare-dataframe    LogisticRegression() alone on a DataFrame
  bare-array        LogisticRegression() alone on a NumPy array (columns x0 …)
  int-classes       LogisticRegression() alone on a DataFrame, classes 0 and 1 (int64): labels
                    written as integers
  hashing           make_pipeline(HashingVectorizer(), LogisticRegression()) on a list of texts
  tfidf             make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
  count             make_pipeline(CountVectorizer(), LogisticRegression())
  count-tfidf       make_pipeline(CountVectorizer(), TfidfTransformer(), LogisticRegression())
  svc               Pipeline(ColumnTransformer(StandardScaler), SVC()): the engine has no SVMClassifier
  knn               make_pipeline(StandardScaler(), KNeighborsClassifier()): nor the operators of a
                    nearest-neighbour search
  unconvertible     Pipeline(ColumnTransformer(passthrough), NearestCentroid()): skl2onnx has no
                    converter for it
"""
import os
import pickle
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")   # small models: threads only cost (the machine is shared)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from walkthrough import write_jsonl  # noqa: E402

NUMERIC = ["amount", "age", "hour", "visits"]
CLASSES = ["low", "mid", "high"]
WORDS = {
    "low": "cheap fine small quiet okay slow café naïve",
    "mid": "average normal usual regular ΟΔΟΣ medium",
    "high": "expensive urgent loud large fast 日本 🎉 crash",
}
SHARED = "the a and of please again today !!! ... x2 snake_case"


def numeric_rows(rng, n):
    """Columns on different scales, so that standardizing matters; three classes."""
    X = np.column_stack([rng.lognormal(3, 1, n), rng.normal(40, 12, n), rng.integers(0, 24, n),
                         rng.poisson(3, n)]).astype(float)
    score = 0.02 * X[:, 0] - 0.05 * (X[:, 1] - 40) + 0.3 * X[:, 3] + rng.normal(0, 0.8, n)
    y = np.array(CLASSES)[np.digitize(score, [1.0, 2.5])]
    return X, y


def texts(rng, n):
    docs, labels = [], []
    for _ in range(n):
        label = CLASSES[int(rng.integers(3))]
        words = [str(rng.choice((WORDS[label] if rng.random() < 0.6 else SHARED).split()))
                 for _ in range(int(rng.integers(0, 15)))]
        docs.append(" ".join(words))
        labels.append(label)
    return docs, labels


def numeric(case, out_dir, rng):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    X, y = numeric_rows(rng, 600)
    Xt, _ = numeric_rows(rng, 200)
    Xt = np.vstack([Xt, [[0.0, 0.0, 0.0, 0.0], [1e6, -50.0, 23.0, 40.0]]])   # nothing like them seen
    if case == "int-classes":
        y = np.where(y == "low", 0, 1)   # int64 classes_, as y of 0s and 1s gives
    frame = not case.endswith("-array")
    if frame:
        X, Xt = pd.DataFrame(X, columns=NUMERIC), pd.DataFrame(Xt, columns=NUMERIC)
    models = {
        "scaler-dataframe": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "scaler-array": lambda: make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=800,
                                                                              random_state=0)),
        "bare-dataframe": lambda: LogisticRegression(max_iter=5000),
        "bare-array": lambda: LogisticRegression(max_iter=5000),
        "int-classes": lambda: LogisticRegression(max_iter=5000),
        "svc": lambda: Pipeline([("pre", ColumnTransformer([("scale", StandardScaler(), NUMERIC)])),
                                 ("svc", SVC())]),
        "knn": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier()),
        "unconvertible": lambda: Pipeline([("pre", ColumnTransformer([("all", "passthrough", NUMERIC)])),
                                           ("centroid", NearestCentroid())]),
    }
    model = models[case]().fit(X, y)
    names = NUMERIC if frame else ["x%d" % i for i in range(len(NUMERIC))]
    rows = np.asarray(Xt, dtype=float)
    records = [dict({"id": i + 1}, **{n: float(v) for n, v in zip(names, row)}) for i, row in enumerate(rows)]
    return model, Xt, records


def text(case, out_dir, rng):
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    steps = {
        "hashing": lambda: [HashingVectorizer()],
        "tfidf": lambda: [TfidfVectorizer(ngram_range=(1, 2))],
        "count": lambda: [CountVectorizer()],
        "count-tfidf": lambda: [CountVectorizer(), TfidfTransformer()],
    }[case]()
    docs, labels = texts(rng, 600)
    model = make_pipeline(*steps, LogisticRegression(C=5.0, max_iter=3000)).fit(docs, labels)
    test, _ = texts(rng, 200)
    test += ["", "!!! ...", "Zürich CAFÉ naïve 日本語 🎉🎉", " ".join(["urgent cheap"] * 300), "unseen words only"]
    field = "message" if case == "tfidf" else "text"   # the test names the tfidf field with --columns
    return model, test, [{"id": i + 1, field: doc} for i, doc in enumerate(test)]


REFUSED = ["svc", "knn", "unconvertible"]
CASES = ["scaler-dataframe", "scaler-array", "bare-dataframe", "bare-array", "int-classes", "hashing", "tfidf",
         "count", "count-tfidf", "svc", "knn", "unconvertible"]


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        print("usage: shapes.py CASE OUT_DIR (cases: %s)" % ", ".join(CASES), file=sys.stderr)
        return 2
    case, out_dir = sys.argv[1], sys.argv[2]
    warnings.simplefilter("ignore")   # convergence warnings of the small fixtures
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(sum(map(ord, case)))
    is_text = case in ("hashing", "tfidf", "count", "count-tfidf")
    model, X, records = (text if is_text else numeric)(case, out_dir, rng)
    with open(os.path.join(out_dir, "model.pkl"), "wb") as f:
        pickle.dump(model, f)
    if case in REFUSED:
        return 0
    probabilities = model.predict_proba(X)
    labels = model.classes_[probabilities.argmax(axis=1)]
    write_jsonl(os.path.join(out_dir, "records.jsonl"), records)
    write_jsonl(os.path.join(out_dir, "expected.jsonl"),
                [{"id": r["id"], "label": lab.item(), "probabilities": [float(p) for p in probs]}
                 for r, lab, probs in zip(records, labels, probabilities)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
