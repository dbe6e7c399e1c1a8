#!/usr/bin/env python3
"""From scikit-learn to the pipeline, end to end (README: "From scikit-learn to the pipeline").

    python3 tools/walkthrough/walkthrough.py OUT_DIR [--pipeline .build/release/pipeline]

OUT_DIR is made if need be; give one outside the repository, e.g. /tmp/tickets. The exported
pipeline is named after it (`[pipeline] name = "tickets"`), like any config the exporter writes,
so `pipeline ps -f /tmp/tickets/pipeline.toml` finds its run.

1. Makes a support-ticket data set (generated here: no download) with a free-text message, a
   subject line, an amount (sometimes missing), the customer's account age, the hour, a country
   (sometimes missing) and a device.
2. Trains Pipeline(ColumnTransformer(HashingVectorizer 2^20 + TfidfVectorizer char_wb +
   SimpleImputer/StandardScaler + log1p + KBinsDiscretizer + MinMaxScaler + OneHotEncoder +
   FeatureHasher), LogisticRegression) to route tickets to "billing", "technical" or "other".
3. Exports it with tools/export_sklearn.py: OUT_DIR/pipeline.toml and OUT_DIR/model.onnx, once
   `pipeline check` (--pipeline, else the binary export_sklearn.find_pipeline finds) accepts them.
4. Writes held-out tickets as OUT_DIR/records.jsonl and scikit-learn's predict_proba for them as
   OUT_DIR/expected.jsonl ({"id": ..., "probabilities": [...]}, one line per record).
5. With --pipeline, runs `pipeline up -f OUT_DIR/pipeline.toml < OUT_DIR/records.jsonl`, as
   the README does, and compares every record's probabilities with predict_proba (exit 1 above
   1e-5).
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")   # small models: threads only cost (the machine is shared)
import numpy as np  # noqa: E402
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, MinMaxScaler, OneHotEncoder, StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from export_sklearn import export  # noqa: E402

TOLERANCE = 1e-5
COLUMNS = {"id": "int", "message": "string", "subject": "string", "amount": "float", "account_age": "float",
           "hour": "int", "country": "string", "device": "string"}
CLASSES = ["billing", "technical", "other"]

WORDS = {
    "billing": "invoice refund charged twice payment card bank transfer Rückerstattung facture 請求書 €",
    "technical": "crash error login password app update bug timeout Fehler erreur エラー 🐛 500",
    "other": "thanks question delivery address opening hours feedback merci danke ありがとう 🙏",
}
SHARED = "please help my account the order today since yesterday again urgent ASAP ... !!! ?"
COUNTRIES = ["US", "DE", "FR", "JP", "GB"]
DEVICES = ["ios", "android", "web", "desktop-app"]


def make_tickets(rng, n, first_id=1):
    rows, labels = [], []
    for i in range(n):
        label = CLASSES[int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
        # A message mostly in its class's words, some shared words, some noise from the others.
        words = []
        for _ in range(int(rng.integers(3, 25))):
            r = rng.random()
            pool = WORDS[label] if r < 0.55 else SHARED if r < 0.85 else WORDS[CLASSES[int(rng.integers(3))]]
            words.append(str(rng.choice(pool.split())))
        message = " ".join(words)
        if rng.random() < 0.5:
            message = message.capitalize() + str(rng.choice([".", "!", " 🙂", "?!", ""]))
        subject = str(rng.choice(WORDS[label].split())) + " " + str(rng.choice(SHARED.split()))
        amount = float(np.round(rng.lognormal(3 if label == "billing" else 2, 1.2), 2))
        if rng.random() < 0.1:
            amount = float("nan")
        account_age = float(np.round(rng.exponential(400 if label != "technical" else 150), 1))
        hour = int(rng.integers(0, 24))
        country = None if rng.random() < 0.08 else str(rng.choice(COUNTRIES))
        device = str(rng.choice(DEVICES))
        rows.append([first_id + i, message, subject, amount, account_age, hour, country, device])
        labels.append(label)
    return rows, labels


def awkward_tickets(first_id):
    """Records the model must score like scikit-learn even though nothing like them was seen."""
    return [
        [first_id, "", "", 10.0, 1.0, 0, "US", "web"],
        [first_id + 1, "!!! ??? ...", "?!", float("nan"), 0.0, 23, None, "ios"],
        [first_id + 2, "Zürich café: ΟΔΟΣ İstanbul — naïve 日本語のテキスト 🎉🎉", "Ünïcödé", 1e6, 5000.0, 12, "CH",
         "smart-fridge"],
        [first_id + 3, " ".join(["refund crash thanks"] * 700), "very long", 0.0, 2.0, 5, "JP", "android"],
        [first_id + 4, "snake_case_words __init__ x_y 3.14 ² ½ Ⅻ", "digits ٣٤٥", 3.5, 12.5, 7, "DE", ""],
    ]


def train(rng):
    rows, labels = make_tickets(rng, 1500)
    X = np.array(rows, dtype=object)
    index = {name: i for i, name in enumerate(COLUMNS)}
    pre = ColumnTransformer([
        # Text: 1-D column selections (a single index).
        ("message", HashingVectorizer(n_features=2 ** 20, ngram_range=(1, 2)), index["message"]),
        ("subject", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
         index["subject"]),
        # Tabular: 2-D selections (lists).
        ("amount", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
         [index["amount"]]),
        ("log_amount", Pipeline([("impute", SimpleImputer(strategy="median")),
                                 ("log", FunctionTransformer(np.log1p))]), [index["amount"]]),
        ("account_age", KBinsDiscretizer(n_bins=5, encode="onehot", strategy="quantile"), [index["account_age"]]),
        ("hour", MinMaxScaler(), [index["hour"]]),
        ("country", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="unknown",
                                                       missing_values=None)),
                              ("onehot", OneHotEncoder(handle_unknown="ignore"))]), [index["country"]]),
        ("device", FeatureHasher(n_features=16, input_type="string"), [index["device"]]),
    ])
    model = Pipeline([("features", pre), ("classify", LogisticRegression(C=2.0, max_iter=3000))])
    model.fit(X, labels)
    return model


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n")


def record(row):
    out = {}
    for (name, _), value in zip(COLUMNS.items(), row):
        if isinstance(value, float) and value != value:
            value = None  # JSON has no NaN: a missing value
        out[name] = value
    return out


def compare(pipeline_bin, out_dir):
    """Runs the pipeline on records.jsonl and compares with expected.jsonl; returns the max difference."""
    config = os.path.join(out_dir, "pipeline.toml")
    with open(os.path.join(out_dir, "records.jsonl"), "rb") as stdin:
        run = subprocess.run([pipeline_bin, "up", "-f", config], stdin=stdin, capture_output=True, timeout=600)
    if run.returncode != 0:
        raise SystemExit("pipeline up failed (%d): %s" % (run.returncode, run.stderr.decode()))
    got = [json.loads(line) for line in run.stdout.decode().splitlines()]
    with open(os.path.join(out_dir, "expected.jsonl"), encoding="utf-8") as f:
        expected = [json.loads(line) for line in f]
    if [g["id"] for g in got] != [e["id"] for e in expected]:
        raise SystemExit("the pipeline wrote %d records, expected %d, in order" % (len(got), len(expected)))
    worst = 0.0
    for g, e in zip(got, expected):
        worst = max(worst, max(abs(a - b) for a, b in zip(g["probabilities"], e["probabilities"])))
        if g["label"] != e["label"]:
            raise SystemExit("record %d: label %s, scikit-learn %s" % (e["id"], g["label"], e["label"]))
    return worst, len(got)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out_dir", help="where to write the files, e.g. /tmp/tickets (outside the repository); the pipeline is named after it")
    p.add_argument("--pipeline", help="a built `pipeline` binary: check the export with it, run it and compare")
    p.add_argument("--records", type=int, default=400, help="held-out records to score")
    args = p.parse_args()
    rng = np.random.default_rng(7)

    model = train(rng)
    result = export(model, columns=COLUMNS, out_dir=args.out_dir, passthrough={"id": "int"}, pipeline_binary=args.pipeline)
    print("exported: %s (%d model-input columns) and %s" % (result["config"], result["width"], result["model"]))

    rows, _ = make_tickets(rng, args.records, first_id=100_001)
    rows += awkward_tickets(first_id=100_001 + args.records)
    X = np.array(rows, dtype=object)
    probabilities = model.predict_proba(X)
    predicted = model.classes_[probabilities.argmax(axis=1)]
    write_jsonl(os.path.join(args.out_dir, "records.jsonl"), [record(r) for r in rows])
    write_jsonl(os.path.join(args.out_dir, "expected.jsonl"),
                [{"id": r[0], "label": str(label), "probabilities": [float(x) for x in probs]}
                 for r, label, probs in zip(rows, predicted, probabilities)])
    print("wrote %d records and scikit-learn's predict_proba for them" % len(rows))

    if args.pipeline:
        worst, count = compare(args.pipeline, args.out_dir)
        print("pipeline up: %d records, same labels, max |probability difference| %.3g (tolerance %g)"
              % (count, worst, TOLERANCE))
        if worst > TOLERANCE:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
