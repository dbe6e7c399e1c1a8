#!/usr/bin/env python3
"""Self-test of the drift tools, without the pipeline binary: python3 tools/test_drift_tools.py

- drift_data.py: deterministic, the drift starts at --start, the shares move as asked;
- drift_check.py: on data from drift_data.py (with a blank line and missing values), a reference
  and an event log whose values are computed here a second, deliberately different way (pure
  Python: bisect, dict counts, math.fsum; JS from entropies H(m) - (H(a) + H(e))/2), it agrees
  (exit 0, also with --levels and the predictions of a fake output), and fails (exit 1) when a
  value is off by 1e-5, a field is missing, a record count or a level is wrong, a drift event is
  missing; an output with fewer records than the input is exit 2;
- export_sklearn.py's profile (when scikit-learn and skl2onnx are installed): the numeric edges are
  the "lower" quantiles (computed here from a sorted list), the counts add up, `[drift]` is written.
"""
import bisect
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
TESTS = []


class Skip(Exception):
    pass


def test(f):
    TESTS.append(f)
    return f


def run(args, **kw):
    return subprocess.run([PY] + args, capture_output=True, text=True, **kw)


def data(*args):
    r = run([os.path.join(HERE, "drift_data.py")] + list(args))
    assert r.returncode == 0, r.stderr
    return r.stdout


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


# ------------------------------------------------------------------ a second implementation

def lower_quantile_edges(values, bins):
    xs = sorted(v for v in values if v is not None)
    n = len(xs)
    edges = []
    for j in range(1, bins):
        i = int(math.floor((n - 1) * (j / bins)))   # numpy's "lower": floor((n-1)*q) in float64
        e = xs[i]
        if not edges or e > edges[-1]:
            edges.append(e)
    return edges


def profile_numeric(values, bins):
    edges = lower_quantile_edges(values, bins)
    counts = [0] * (len(edges) + 1)
    missing = 0
    for v in values:
        if v is None:
            missing += 1
        else:
            counts[bisect.bisect_right(edges, v)] += 1
    return {"kind": "numeric", "edges": edges, "counts": counts, "missing": missing}


def profile_categorical(values, top=20):
    counts = {}
    missing = 0
    for v in values:
        if v is None:
            missing += 1
        else:
            counts[v] = counts.get(v, 0) + 1
    kept = sorted(counts, key=lambda k: (-counts[k], k))[:top]
    return {"kind": "categorical", "values": kept, "counts": [counts[k] for k in kept],
            "other": sum(counts.values()) - sum(counts[k] for k in kept), "missing": missing}


def slots_of(spec, values):
    """Slot counts of values for a profiled field: plain loops."""
    if spec["kind"] == "categorical":
        out = [0] * (len(spec["values"]) + 2)
        pos = {v: i for i, v in enumerate(spec["values"])}
        for v in values:
            out[-1 if v is None else pos.get(v, len(spec["values"]))] += 1
    else:
        out = [0] * (len(spec["edges"]) + 2)
        for v in values:
            out[-1 if v is None else bisect.bisect_right(spec["edges"], v)] += 1
    return out


def ref_slots(spec):
    return list(spec["counts"]) + ([spec["other"]] if spec["kind"] == "categorical" else []) + [spec["missing"]]


def psi_py(ref, n_ref, win, n_win):
    terms = []
    for r, w in zip(ref, win):
        if r == 0 and w == 0:
            continue
        e, a = max(r / n_ref, 0.0001), max(w / n_win, 0.0001)
        terms.append((a - e) * (math.log(a) - math.log(e)))
    return math.fsum(terms)


def entropy2(ps):
    return -math.fsum(p * math.log2(p) for p in ps if p > 0)


def js_py(ref, n_ref, win, n_win):
    e = [r / n_ref for r in ref]
    a = [w / n_win for w in win]
    m = [(x + y) / 2 for x, y in zip(a, e)]
    return math.sqrt(max(entropy2(m) - (entropy2(a) + entropy2(e)) / 2, 0.0))


def level(stat, v):
    warn, alert = (0.1, 0.2) if stat == "psi" else (0.05, 0.08)
    return "alert" if v >= alert else "warn" if v >= warn else "ok"


# ------------------------------------------------------------------ fixtures

def fake_probability(rec):
    """A fake model: the fraud probability from amount and new customers, as float32."""
    z = (rec.get("amount", 52.0) - 52.0) / 30.0 + (1.0 if rec.get("is_new_customer") else 0.0) - 1.5
    p1 = f32(1.0 / (1.0 + math.exp(-z)))
    return f32(1.0 - p1), p1


def build_case(tmp, window=1000, int_labels=False):
    """Writes reference.json, input.jsonl, output.jsonl, events.log under tmp; returns the paths
    and the expected rows (window, field, stat, value, level)."""
    ref_lines = data("--records", "4000", "--seed", "11", "--missing", "country:0.02").splitlines()
    ref_recs = [json.loads(l) for l in ref_lines]
    text = data("--records", "3500", "--seed", "12", "--missing", "country:0.03", "--shift-mean", "amount:1",
                "--move-share", "country:US:DE:10", "--move-share", "country:GB:XX:2", "--start", "1801")
    lines = text.splitlines()
    lines.insert(700, "")          # a blank line and one of spaces: not records, but lines
    lines.insert(1500, "   ")
    labels = [0, 1] if int_labels else ["legit", "fraud"]
    label_text = [str(l) for l in labels]

    def prediction(rec):
        p = fake_probability(rec)
        i = 0 if p[0] >= p[1] else 1
        return label_text[i], max(p), p, labels[i]

    fields = [("amount", "float", lambda r: r.get("amount")), ("hour", "int", lambda r: r.get("hour")),
              ("country", "string", lambda r: r.get("country")),
              ("is_new_customer", "bool", lambda r: None if r.get("is_new_customer") is None
               else ("true" if r["is_new_customer"] else "false"))]
    ref = {"profile": "pipeline drift reference", "version": 1, "records": len(ref_recs), "fields": []}
    for name, kind, get in fields:
        vals = [get(r) for r in ref_recs]
        spec = profile_categorical(vals) if kind in ("string", "bool") else \
            profile_numeric([None if v is None else float(v) for v in vals], 10)
        spec = dict({"name": name, "type": kind}, **spec)
        ref["fields"].append(spec)
    preds = [prediction(r) for r in ref_recs]
    label_spec = {"name": "label", "kind": "categorical", "values": label_text,
                  "counts": [sum(1 for p in preds if p[0] == t) for t in label_text], "other": 0, "missing": 0}
    score_spec = dict({"name": "score"}, **profile_numeric([p[1] for p in preds], 10))
    ref["predictions"] = [label_spec, score_spec]

    # Records with their line numbers; the output of the fake model.
    recs = [(i + 1, json.loads(l)) for i, l in enumerate(lines) if l.strip()]
    out_lines = []
    for k, (_, r) in enumerate(recs):
        t, s, p, lab = prediction(r)
        if int_labels:
            probs = {"0": p[0], "1": p[1]}
        else:
            probs = [p[0], p[1]]
        out_lines.append(json.dumps({"id": r["id"], "label": lab, "score": s, "probabilities": probs}))

    events = [json.dumps({"time": "2026-01-01T00:00:00Z", "uptime_s": 0.0, "event": "run_started"})]
    expected = []
    w = 0
    for start in range(0, len(recs), window):
        chunk = recs[start:start + window]
        w += 1
        items = []
        for name, kind, get in fields:
            spec = next(f for f in ref["fields"] if f["name"] == name)
            vals = [get(r) for _, r in chunk]
            if spec["kind"] == "numeric":
                vals = [None if v is None else float(v) for v in vals]
            items.append((name, spec, vals))
        chunk_preds = [prediction(r) for _, r in chunk]
        items.append(("prediction.label", label_spec, [p[0] for p in chunk_preds]))
        items.append(("prediction.score", score_spec, [p[1] for p in chunk_preds]))
        ev_fields = []
        for name, spec, vals in items:
            stat = "js" if spec["kind"] == "categorical" else "psi"
            compute = js_py if stat == "js" else psi_py
            value = compute(ref_slots(spec), ref["records"], slots_of(spec, vals), len(vals))
            ev_fields.append({"field": name, "statistic": stat, "value": value, "level": level(stat, value)})
            expected.append((w, name, stat, value, level(stat, value)))
        events.append(json.dumps({"time": "t", "uptime_s": 1.0, "event": "drift_window", "window": w,
                                  "first_line": chunk[0][0], "last_line": chunk[-1][0], "records": len(chunk),
                                  "fields": ev_fields}))
        for f in ev_fields:
            if f["level"] != "ok":
                events.append(json.dumps(dict({"time": "t", "uptime_s": 1.0, "event": "drift", "window": w}, **f)))
    events.append(json.dumps({"time": "t", "uptime_s": 2.0, "event": "run_finished", "exit_code": 0}))

    paths = {k: os.path.join(tmp, k) for k in ("reference.json", "input.jsonl", "output.jsonl", "events.log")}
    with open(paths["reference.json"], "w") as f:
        json.dump(ref, f)
    with open(paths["input.jsonl"], "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(paths["output.jsonl"], "w") as f:
        f.write("\n".join(out_lines) + "\n")
    with open(paths["events.log"], "w") as f:
        f.write("\n".join(events) + "\n")
    return paths, expected, events


def check(paths, events=None, extra=(), output=True):
    ev = paths["events.log"]
    if events is not None:
        ev = paths["events.log"] + ".changed"
        with open(ev, "w") as f:
            f.write("\n".join(events) + "\n")
    args = [os.path.join(HERE, "drift_check.py"), "--reference", paths["reference.json"], "--input",
            paths["input.jsonl"], "--events", ev] + (["--output", paths["output.jsonl"]] if output else []) + list(extra)
    return run(args)


def edit_event(events, window, change):
    out = []
    for line in events:
        ev = json.loads(line)
        if ev.get("event") == "drift_window" and ev["window"] == window:
            change(ev)
            line = json.dumps(ev)
        out.append(line)
    return out


# ------------------------------------------------------------------ tests

@test
def drift_data_is_deterministic_and_drifts_where_asked():
    a = data("--records", "3000", "--seed", "5")
    assert a == data("--records", "3000", "--seed", "5")
    assert a != data("--records", "3000", "--seed", "6")
    b = data("--records", "3000", "--seed", "5", "--shift-mean", "amount:0.5", "--move-share",
             "country:US:DE:10", "--start", "1001")
    la, lb = a.splitlines(), b.splitlines()
    assert la[:1000] == lb[:1000] and la[1000:] != lb[1000:]
    first = json.loads(la[0])
    assert list(first) == ["id", "amount", "hour", "country", "is_new_customer"] and first["id"] == 1
    assert la[0] == json.dumps(first, separators=(",", ":"))
    ra, rb = [json.loads(l) for l in la[1000:]], [json.loads(l) for l in lb[1000:]]
    shift = sum(y["amount"] - x["amount"] for x, y in zip(ra, rb)) / len(ra)
    assert abs(shift - 15.0) < 0.01, shift            # half of sd 30
    moved = [(x["country"], y["country"]) for x, y in zip(ra, rb) if x["country"] != y["country"]]
    assert moved and all(m == ("US", "DE") for m in moved)  # only the moved records change
    big = [json.loads(l) for l in data("--records", "40000", "--seed", "1", "--first-id", "7").splitlines()]
    assert big[0]["id"] == 7 and big[-1]["id"] == 40006
    share = sum(r["country"] == "US" for r in big) / len(big)
    assert abs(share - 0.5) < 0.01, share
    mean = sum(r["amount"] for r in big) / len(big)
    assert abs(mean - 52) < 0.5, mean
    assert all(0 <= r["hour"] <= 23 for r in big)
    assert run([os.path.join(HERE, "drift_data.py"), "--shift-mean", "nope:1"]).returncode == 2


@test
def drift_check_agrees_with_a_second_implementation():
    with tempfile.TemporaryDirectory() as tmp:
        paths, expected, events = build_case(tmp)
        levels = {l for *_, l in expected}
        assert {"ok", "alert"} <= levels, levels      # the case exercises the levels
        r = check(paths, extra=["--levels"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "4 windows checked, 24 values checked" in r.stdout, r.stdout
        # Largest difference between the two implementations: far below the tolerance.
        r = check(paths, extra=["--tolerance", "1e-12"])
        assert r.returncode == 0, r.stdout
        # Without --output, the prediction fields are not checked (and not a failure).
        r = check(paths, output=False)
        assert r.returncode == 0 and "16 values checked" in r.stdout, r.stdout


@test
def drift_check_reads_integer_labels_and_probability_objects():
    with tempfile.TemporaryDirectory() as tmp:
        paths, _, _ = build_case(tmp, window=700, int_labels=True)
        r = check(paths, extra=["--levels"])
        assert r.returncode == 0, r.stdout + r.stderr


@test
def drift_check_fails_on_a_value_off_by_1e_5():
    with tempfile.TemporaryDirectory() as tmp:
        paths, expected, events = build_case(tmp)
        for field in ("amount", "country", "prediction.score", "prediction.label"):
            def bump(ev, field=field):
                for f in ev["fields"]:
                    if f["field"] == field:
                        f["value"] += 1e-5
            r = check(paths, edit_event(events, 2, bump))
            assert r.returncode == 1, (field, r.stdout)
            assert "FAIL: window 2, %s" % field in r.stdout, r.stdout
            # ... and passes with a looser tolerance
            assert check(paths, edit_event(events, 2, bump), extra=["--tolerance", "2e-5"]).returncode == 0


@test
def drift_check_fails_on_missing_fields_counts_levels_and_drift_events():
    with tempfile.TemporaryDirectory() as tmp:
        paths, expected, events = build_case(tmp)

        def drop(ev):
            ev["fields"] = [f for f in ev["fields"] if f["field"] != "hour"]
        r = check(paths, edit_event(events, 1, drop))
        assert r.returncode == 1 and "field hour is not in the event" in r.stdout, r.stdout

        def extra(ev):
            ev["fields"].append({"field": "color", "statistic": "js", "value": 0.0, "level": "ok"})
        r = check(paths, edit_event(events, 1, extra))
        assert r.returncode == 1 and "color" in r.stdout, r.stdout

        def count(ev):
            ev["records"] += 1
        r = check(paths, edit_event(events, 3, count))
        assert r.returncode == 1 and "window 3: lines" in r.stdout, r.stdout

        def stat(ev):
            ev["fields"][0]["statistic"] = "js"
        assert check(paths, edit_event(events, 1, stat)).returncode == 1

        alert = next(e for e in expected if e[4] == "alert")

        def relevel(ev):
            for f in ev["fields"]:
                if f["field"] == alert[1]:
                    f["level"] = "warn"
        changed = edit_event(events, alert[0], relevel)
        assert check(paths, changed).returncode == 0            # levels are not checked without --levels
        assert check(paths, changed, extra=["--levels"]).returncode == 1
        no_drift = [l for l in events if json.loads(l).get("event") != "drift"]
        r = check(paths, no_drift, extra=["--levels"])
        assert r.returncode == 1 and "no drift event" in r.stdout, r.stdout
        assert check(paths, no_drift).returncode == 0

        with open(paths["output.jsonl"]) as f:
            out = f.read().splitlines()
        with open(paths["output.jsonl"], "w") as f:
            f.write("\n".join(out[:-1]) + "\n")
        r = check(paths)
        assert r.returncode == 2 and "assumes every record was accepted" in r.stderr, r.stderr


@test
def drift_evidently_agrees_when_fed_our_bins():
    """Needs a Python with evidently (0.7 needs pandas < 3): DRIFT_EVIDENTLY_PYTHON=/path/to/python."""
    python = os.environ.get("DRIFT_EVIDENTLY_PYTHON")
    if not python:
        raise Skip("set DRIFT_EVIDENTLY_PYTHON to a python with evidently installed")
    with tempfile.TemporaryDirectory() as tmp:
        paths, _, _ = build_case(tmp)
        r = subprocess.run([python, os.path.join(HERE, "drift_evidently.py"), "--reference", paths["reference.json"],
                            "--input", paths["input.jsonl"], "--events", paths["events.log"], "--output",
                            paths["output.jsonl"], "--quiet"], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "12 of 12 agree within 1e-9" in r.stdout, r.stdout
        js = [l for l in r.stdout.splitlines() if l.startswith("JS, ")][0]
        assert float(js.split("|evidently - ours| ")[1].split()[0]) < 1e-12, js


@test
def export_profile_edges_and_drift_table():
    try:
        import numpy as np
        import pandas as pd
        __import__("skl2onnx")   # export() converts with it
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
    except ImportError as e:
        raise Skip(str(e))
    sys.path.insert(0, HERE)
    from export_sklearn import export
    recs = [json.loads(l) for l in data("--records", "3001", "--seed", "4").splitlines()]
    df = pd.DataFrame.from_records(recs)
    df.loc[5, "amount"] = np.nan
    model = make_pipeline(ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), ["amount", "hour"]),
                                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["country"])]),
                          LogisticRegression()).fit(df, df["is_new_customer"])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        result = export(model, out_dir=out, check=False, columns={"hour": "int"}, profile_data=df, profile_bins=7)
        with open(result["reference"]) as f:
            ref = json.load(f)
        with open(result["config"]) as f:
            toml = f.read()
        assert toml.endswith('[drift]\nreference = "reference.json"\n'), toml[-200:]
        assert ref["records"] == 3001 and [f["name"] for f in ref["fields"]] == ["amount", "hour", "country"]
        amount = next(f for f in ref["fields"] if f["name"] == "amount")
        values = [None if r is None or (isinstance(r, float) and math.isnan(r)) else r for r in df["amount"].tolist()]
        assert amount["edges"] == lower_quantile_edges(values, 7), amount["edges"]
        assert amount["missing"] == 1 and amount["counts"] == profile_numeric(values, 7)["counts"]
        hour = next(f for f in ref["fields"] if f["name"] == "hour")
        assert hour["type"] == "int" and all(isinstance(e, int) for e in hour["edges"])
        country = next(f for f in ref["fields"] if f["name"] == "country")
        assert country["kind"] == "categorical" and country["values"][:2] == ["US", "DE"]
        for f in ref["fields"] + ref["predictions"]:
            assert sum(ref_slots(dict({"other": 0}, **f))) == 3001, f
        label, score = ref["predictions"]
        assert label["values"] == ["False", "True"], label      # bool classes: their text
        proba = model.predict_proba(df).astype(np.float32)
        assert label["counts"] == [int((proba[:, 0] >= proba[:, 1]).sum()), int((proba[:, 0] < proba[:, 1]).sum())]
        assert score["counts"] == profile_numeric([float(p) for p in proba.max(axis=1)], 7)["counts"]
        assert score["kind"] == "numeric" and len(score["counts"]) == len(score["edges"]) + 1
        # Without profile data: no reference, no [drift].
        out2 = os.path.join(tmp, "plain")
        result = export(model, out_dir=out2, check=False)
        assert result["reference"] is None and not os.path.exists(os.path.join(out2, "reference.json"))
        with open(result["config"]) as f:
            assert "[drift]" not in f.read()


def main():
    failed = skipped = 0
    for t in TESTS:
        try:
            t()
            print("ok   %s" % t.__name__)
        except Skip as e:
            skipped += 1
            print("skip %s: %s" % (t.__name__, e))
        except AssertionError as e:
            failed += 1
            print("FAIL %s: %s" % (t.__name__, str(e)[:2000]))
        except Exception:
            failed += 1
            print("FAIL %s:\n%s" % (t.__name__, traceback.format_exc()))
    print("%d passed, %d failed, %d skipped" % (len(TESTS) - failed - skipped, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
