#!/usr/bin/env python3
"""Checks tools/export_sklearn.py beyond the walk-through (run by Tests/EndToEndTests/WalkthroughTests).

    python3 tools/walkthrough/check_export.py OUT_DIR

1. Every translation the walk-through does not use, in one "kitchen sink" pipeline: StandardScaler
   without mean, MinMaxScaler with feature_range and clip, SimpleImputer alone (mean), identity
   (FunctionTransformer() and remainder="passthrough"), KBinsDiscretizer ordinal, OneHotEncoder
   with int categories and drop="first", FeatureHasher without alternate signs, CountVectorizer
   with English stop words, Pipeline(CountVectorizer, TfidfTransformer) on char n-grams, an
   l1-normalized HashingVectorizer, under an MLPClassifier (2 classes) — narrow enough to be
   dense rows. Writes OUT_DIR/kitchen/{pipeline.toml, model.onnx, records.jsonl, expected.jsonl}
   in the walk-through's format, for the caller to run `pipeline up` on and compare.
2. Every ExportError the exporter promises: it is raised, and names what it cannot translate (or,
   for a shape it does not take, what it does).
The kitchen sink is checked by `pipeline check` before it is written (see export_sklearn.find_pipeline
for the binary it uses).
Exit status 0 when every check passed; failures are listed on stderr.
"""
import os
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")   # small models: threads only cost (the machine is shared)
import numpy as np  # noqa: E402
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MinMaxScaler, OneHotEncoder,
                                   PolynomialFeatures, StandardScaler)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from export_sklearn import ExportError, export  # noqa: E402
from walkthrough import write_jsonl  # noqa: E402

COLUMNS = {"id": "int", "note": "string", "x": "float", "y": "float", "z": "float", "level": "int",
           "city": "string", "w": "float"}
WORDS = "the a and of quick brown fox lazy dog Zürich café naïve ΟΔΟΣ 日本 🎉 !!! ... snake_case x2".split()


def make_rows(rng, n, first_id):
    rows = []
    for i in range(n):
        note = " ".join(str(rng.choice(WORDS)) for _ in range(int(rng.integers(0, 12))))
        x = float(np.round(rng.normal(5, 3), 3))
        y = float("nan") if rng.random() < 0.15 else float(np.round(rng.exponential(2), 3))
        z = float(np.round(rng.uniform(-1, 12), 3))
        level = int(rng.integers(1, 4))
        city = str(rng.choice(["Paris", "Zürich", "東京", "Lima", "Oslo"]))
        w = float(np.round(rng.normal(0, 1), 3))
        rows.append([first_id + i, note, x, y, z, level, city, w])
    return rows


def kitchen_sink(out_dir):
    rng = np.random.default_rng(11)
    rows = make_rows(rng, 600, 1)
    X = np.array(rows, dtype=object)
    y = np.array([("yes" if (r[2] > 5) ^ ("fox" in r[1]) ^ (r[5] == 2) else "no") for r in rows])
    ix = {name: i for i, name in enumerate(COLUMNS)}
    pre = ColumnTransformer([
        ("x", StandardScaler(with_mean=False), [ix["x"]]),
        ("x_range", MinMaxScaler(feature_range=(-1, 1), clip=True), [ix["x"]]),
        ("y", SimpleImputer(strategy="mean"), [ix["y"]]),
        ("z", KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="uniform"), [ix["z"]]),
        ("z_identity", FunctionTransformer(), [ix["z"]]),
        ("level", OneHotEncoder(drop="first"), [ix["level"]]),
        ("city", FeatureHasher(n_features=8, input_type="string", alternate_sign=False), [ix["city"]]),
        ("words", CountVectorizer(stop_words="english", ngram_range=(1, 2)), ix["note"]),
        ("chars", Pipeline([("count", CountVectorizer(analyzer="char", ngram_range=(1, 2), lowercase=False)),
                            ("tfidf", TfidfTransformer(sublinear_tf=True, norm="l1"))]), ix["note"]),
        ("hashed", HashingVectorizer(n_features=64, norm="l1", analyzer="char_wb", ngram_range=(2, 3)), ix["note"]),
        ("w", "passthrough", [ix["w"]]),
    ])
    model = Pipeline([("pre", pre), ("mlp", MLPClassifier(hidden_layer_sizes=(16,), max_iter=600, random_state=0))])
    model.fit(X, y)
    export(model, columns=COLUMNS, out_dir=out_dir, name="kitchen", passthrough={"id": "int"})
    test = make_rows(rng, 200, 10_001)
    # Awkward: empty note, missing y, x and z far outside what was seen, an unseen city.
    test.append([10_201, "", 1e6, float("nan"), 100.0, 3, "Quito", 0.0])
    Xt = np.array(test, dtype=object)
    probabilities = model.predict_proba(Xt)
    labels = model.classes_[probabilities.argmax(axis=1)]
    write_jsonl(os.path.join(out_dir, "records.jsonl"), [record_of(r) for r in test])
    write_jsonl(os.path.join(out_dir, "expected.jsonl"),
                [{"id": r[0], "label": str(lab), "probabilities": [float(p) for p in probs]}
                 for r, lab, probs in zip(test, labels, probabilities)])
    return open(os.path.join(out_dir, "pipeline.toml"), encoding="utf-8").read()


def record_of(row):
    out = {}
    for (name, _), value in zip(COLUMNS.items(), row):
        out[name] = None if isinstance(value, float) and value != value else value
    return out


def fitted(transformers, estimator=None, columns=("t", "n", "m", "s")):
    X = np.array([["aa bb", 1.0, 2.0, "p"], ["bb cc", 2.0, 1.0, "q"], ["cc aa dd", 3.0, 0.0, "p"], ["dd", 4.0, 5.0, "r"]],
                 dtype=object)
    model = Pipeline([("pre", ColumnTransformer(transformers)), ("est", estimator or LogisticRegression())])
    return model.fit(X, [0, 1, 0, 1]), list(columns)


def error_cases():
    """(description, callable raising ExportError, words its message must contain)."""
    cases = []

    def add(description, make, *words):
        cases.append((description, make, words))

    add("unsupported transformer", lambda: fitted([("poly", PolynomialFeatures(), [1, 2])]),
        "'poly'", "PolynomialFeatures", "cannot be translated")
    add("FunctionTransformer other than log1p",
        lambda: fitted([("sq", FunctionTransformer(np.sqrt, validate=True), [1])]),
        "'sq'", "np.log1p")
    add("custom token_pattern", lambda: fitted([("t", HashingVectorizer(token_pattern=r"\w+"), 0)]),
        "token_pattern")
    add("strip_accents", lambda: fitted([("t", TfidfVectorizer(strip_accents="unicode"), 0)]), "strip_accents")
    add("callable analyzer", lambda: fitted([("t", HashingVectorizer(analyzer=str.split), 0)]), "analyzer")
    add("FeatureHasher over two columns",
        lambda: fitted([("h", FeatureHasher(n_features=4, input_type="string"), [0, 3])]), "exactly one column")
    add("infrequent categories",
        lambda: fitted([("o", OneHotEncoder(min_frequency=2, handle_unknown="infrequent_if_exist"), [1])]),
        "infrequent")
    add("imputer with indicator", lambda: fitted([("i", SimpleImputer(add_indicator=True), [1])]), "add_indicator")
    add("a longer Pipeline",
        lambda: fitted([("p", Pipeline([("a", StandardScaler()), ("b", MinMaxScaler())]), [1])]),
        "StandardScaler → MinMaxScaler")
    add("transformer weights", lambda: (Pipeline([("pre", ColumnTransformer(
        [("s", StandardScaler(), [1])], transformer_weights={"s": 2.0})), ("e", LogisticRegression())]).fit(
        np.array([["a", 1.0, 2.0], ["b", 2.0, 1.0]], dtype=object), [0, 1]), ["t", "n", "m"]),
        "transformer_weights")
    # A DummyClassifier: fitting anything 2^25 wide would take minutes.
    add("n_features above 2^24", lambda: fitted([("t", HashingVectorizer(n_features=1 << 25), 0)], DummyClassifier()),
        "2^24")

    def unfitted():
        return Pipeline([("pre", ColumnTransformer([("s", StandardScaler(), [1])])), ("e", LogisticRegression())]), None
    add("not fitted", unfitted, "not fitted")
    add("a transformer alone", lambda: (StandardScaler().fit([[1.0]]), None), "Pipeline", "StandardScaler",
        "make_pipeline(StandardScaler(), LogisticRegression())", "Accepted:")
    add("an estimator alone, not fitted", lambda: (LogisticRegression(), None), "LogisticRegression", "not fitted")
    add("two steps before the estimator", lambda: (Pipeline([("s", StandardScaler()), ("m", MinMaxScaler()),
                                                             ("e", LogisticRegression())]).fit([[1.0], [2.0]], [0, 1]),
                                                   None),
        "StandardScaler → MinMaxScaler", "make_pipeline(ColumnTransformer(")
    add("a step after the ColumnTransformer", lambda: (Pipeline([
        ("pre", ColumnTransformer([("s", StandardScaler(), [0])])), ("m", MinMaxScaler()),
        ("e", LogisticRegression())]).fit([[1.0], [2.0]], [0, 1]), ["a"]), "only step before the estimator")
    add("FeatureHasher as a Pipeline step", lambda: (Pipeline([
        ("h", FeatureHasher(n_features=4, input_type="string")), ("e", LogisticRegression())]).fit(
        [["a"], ["b"]], [0, 1]), None), "FeatureHasher", "one space", "ColumnTransformer")
    add("one name for two text columns", lambda: (Pipeline([("t", HashingVectorizer(n_features=8)),
                                                            ("e", LogisticRegression())]).fit(["a b", "c d"], [0, 1]),
                                                  ["t", "u"]), "one column of texts")
    add("no column names", lambda: (fitted([("s", StandardScaler(), [1])])[0], None), "columns=")
    add("wrong number of column names", lambda: (fitted([("s", StandardScaler(), [1])])[0], ["a", "b"]),
        "2 names", "4 columns")
    add("wrong column type", lambda: (fitted([("s", StandardScaler(), [1])])[0], {"t": "string", "n": "string",
                                                                                   "m": "float", "s": "string"}),
        "'n'", "standardize")
    return cases


def main():
    warnings.simplefilter("ignore")   # convergence and unknown-category warnings of the fixtures
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "check-export"
    failures = []
    toml = kitchen_sink(os.path.join(out_dir, "kitchen"))
    for kind in ["standardize", "minmax", "impute", "bucketize", "identity", "onehot", "hash", "tfidf", "text_hash"]:
        if 'kind = "%s"' % kind not in toml:
            failures.append("kitchen sink: no %s feature" % kind)
    for needle in ['feature_range = [-1.0, 1.0]', "clip = true", 'encode = "ordinal"', 'drop = "1"',
                   "alternate_sign = false", "stop_words = [", 'norm = "l1"', "sublinear_tf = true",
                   'labels = ["no", "yes"]']:
        if needle not in toml:
            failures.append("kitchen sink: pipeline.toml lacks %r" % needle)

    for description, make, words in error_cases():
        try:
            pipeline, columns = make()
            export(pipeline, columns=columns, out_dir=os.path.join(out_dir, "errors"))
        except ExportError as e:
            message = str(e)
            missing = [w for w in words if w not in message]
            if missing:
                failures.append("%s: the message %r does not mention %r" % (description, message, missing))
            continue
        except Exception as e:  # anything but ExportError is a bug in the exporter
            failures.append("%s: %s instead of ExportError: %s" % (description, type(e).__name__, e))
            continue
        failures.append("%s: exported without an error" % description)

    for f in failures:
        print("check_export: FAIL: " + f, file=sys.stderr)
    print("check_export: %d error cases, kitchen sink written; %d failures" % (len(error_cases()), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
