#!/usr/bin/env python3
"""Self-test of tools/shadow_check.py, without the pipeline binary: python3 tools/test_shadow_check.py

On examples/transactions.jsonl with compose/pipeline.toml:
- against models/demo_v2.onnx: between 2% and 15% of the labels differ and the probabilities
  clearly do, and the figures equal a second computation made here (the demo features as
  tools/make_test_models.py builds them, onnxruntime run directly);
- against models/demo.onnx itself: 0 disagreements, 0.0 differences;
- the new version given as a config (the demo config pointing at demo_v2.onnx) gives the same
  figures as the .onnx form; --skip-lines compares only the later lines;
- records the pipeline would reject (a missing required field, a wrong type, bad JSON) are
  counted apart, a blank line is no record, a missing optional country is compared;
- a config with a feature kind it does not implement (hash) exits 2 with one line naming it.
Exits 1 when a check fails.
"""
import json
import os
import subprocess
import sys
import tempfile
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONFIG = os.path.join(ROOT, "compose", "pipeline.toml")
RECORDS = os.path.join(ROOT, "examples", "transactions.jsonl")
DEMO = os.path.join(ROOT, "models", "demo.onnx")
DEMO_V2 = os.path.join(ROOT, "models", "demo_v2.onnx")
TESTS = []


def test(f):
    TESTS.append(f)
    return f


def shadow_check(*args):
    return subprocess.run([sys.executable, os.path.join(HERE, "shadow_check.py")] + list(args),
                          capture_output=True, text=True)


def figures(*args):
    r = shadow_check(*args, "--json")
    assert r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr)
    return json.loads(r.stdout)


def demo_config(directory, model=DEMO, replace=None):
    """The demo config written into `directory` with an absolute model path (and `replace`d text)."""
    with open(CONFIG) as f:
        text = f.read()
    old_path = 'path = "../models/demo.onnx"'
    assert old_path in text
    text = text.replace(old_path, "path = %s" % json.dumps(model))
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = os.path.join(directory, "pipeline.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def expected(model_old, model_new, lines=None):
    """The figures computed a second way: make_test_models.demo_features and onnxruntime."""
    import onnxruntime as ort
    sys.path.insert(0, HERE)
    from make_test_models import demo_features

    with open(RECORDS) as f:
        records = [json.loads(line) for line in f][slice(*lines) if lines else slice(None)]
    x = demo_features(np.array([r["amount"] for r in records]), np.array([r["hour"] for r in records]),
                      np.array([r.get("country", "") for r in records]),
                      np.array([r["is_new_customer"] for r in records]))
    run = lambda path: ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
        ["probabilities"], {"features": x})[0].astype(np.float64)
    p_old, p_new = run(model_old), run(model_new)
    diff = np.abs(p_old - p_new).max(axis=1)
    return {"records": len(records), "label_disagreements": int((p_old.argmax(1) != p_new.argmax(1)).sum()),
            "max_probability_difference": float(diff.max()), "mean_max_probability_difference": float(diff.mean())}


def close(a, b, tol=1e-6):
    return abs(a - b) <= tol


@test
def demo_v2_differs_as_intended():
    got = figures("--config", CONFIG, "--new", DEMO_V2, "--input", RECORDS)
    want = expected(DEMO, DEMO_V2)
    assert got["records"] == 1000, got
    assert got["label_disagreements"] == want["label_disagreements"], (got, want)
    assert got["disagreement_share"] == got["label_disagreements"] / got["records"], got
    assert 0.02 <= got["disagreement_share"] <= 0.15, got
    assert close(got["max_probability_difference"], want["max_probability_difference"]), (got, want)
    assert close(got["mean_max_probability_difference"], want["mean_max_probability_difference"]), (got, want)
    assert got["max_probability_difference"] > 0.05 and got["mean_max_probability_difference"] > 0.005, got
    assert got["classes_compared"] == ["legit", "fraud"], got
    assert sum(c["records"] for c in got["label_changes"]) == got["label_disagreements"], got
    assert got["skipped_missing_field"] == 0 and got["skipped_invalid"] == 0, got
    print("    demo_v2 vs demo: %d of %d labels differ (%.1f%%), max |dp| %.4f, mean of record max %.4f"
          % (got["label_disagreements"], got["records"], 100 * got["disagreement_share"],
             got["max_probability_difference"], got["mean_max_probability_difference"]))


@test
def same_model_agrees_exactly():
    got = figures("--config", CONFIG, "--new", DEMO, "--input", RECORDS)
    assert got["records"] == 1000, got
    assert got["label_disagreements"] == 0 and got["disagreement_share"] == 0.0, got
    assert got["max_probability_difference"] == 0.0 and got["mean_max_probability_difference"] == 0.0, got


@test
def new_config_equals_new_model():
    with tempfile.TemporaryDirectory() as d:
        new_config = demo_config(d, model=DEMO_V2)
        by_config = figures("--config", CONFIG, "--new", new_config, "--input", RECORDS)
    by_model = figures("--config", CONFIG, "--new", DEMO_V2, "--input", RECORDS)
    assert by_config == by_model, (by_config, by_model)


@test
def skip_lines():
    got = figures("--config", CONFIG, "--new", DEMO_V2, "--input", RECORDS, "--skip-lines", "900")
    want = expected(DEMO, DEMO_V2, lines=(900, None))
    assert got["records"] == 100, got
    assert got["label_disagreements"] == want["label_disagreements"], (got, want)
    assert close(got["max_probability_difference"], want["max_probability_difference"]), (got, want)


@test
def rejected_records_are_counted_apart():
    lines = [
        '{"id":1,"amount":46.26,"hour":23,"country":"FR","is_new_customer":false}',
        '{"id":2,"hour":20,"country":"DE","is_new_customer":false}',                  # no amount
        '{"id":3,"amount":null,"hour":7,"country":"US","is_new_customer":true}',      # null amount
        '   ',                                                                         # not a record
        '{"id":4,"amount":"12","hour":7,"country":"US","is_new_customer":true}',      # wrong type
        '{"id":5,"amount":12.5,"hour":7.5,"country":"US","is_new_customer":true}',    # hour not integral
        'not json',
        '{"id":6,"amount":300.0,"hour":3,"is_new_customer":true}',                    # no country: optional
        '{"id":7,"amount":12.5,"hour":7.0,"country":"GB","is_new_customer":false}',   # 7.0 is an integer
    ]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "records.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        got = figures("--config", CONFIG, "--new", DEMO, "--input", path)
        assert (got["records"], got["skipped_missing_field"], got["skipped_invalid"]) == (3, 2, 3), got
        got = figures("--config", CONFIG, "--new", DEMO, "--input", path, "--skip-lines", "4")
        assert (got["records"], got["skipped_missing_field"], got["skipped_invalid"]) == (2, 0, 3), got


@test
def unsupported_kind_exits_2():
    with tempfile.TemporaryDirectory() as d:
        config = demo_config(d, replace={'kind = "onehot"\ncategories = ["US", "DE", "FR", "GB"]':
                                         'kind = "hash"\nn_features = 4'})
        for new in (DEMO_V2, config):
            r = shadow_check("--config", config, "--new", new, "--input", RECORDS, "--json")
            assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
            assert r.stdout == "", r.stdout
            message = r.stderr.strip()
            assert "\n" not in message and message.startswith("shadow_check: error:"), message
            assert "'hash'" in message and "not supported" in message, message
        # Only the new version unsupported: refused too.
        r = shadow_check("--config", CONFIG, "--new", config, "--input", RECORDS)
        assert r.returncode == 2 and "'hash'" in r.stderr, (r.returncode, r.stderr)


@test
def bad_command_lines_exit_2():
    r = shadow_check("--config", CONFIG, "--new", DEMO, "--input", "/nonexistent/records.jsonl")
    assert r.returncode == 2 and "cannot read" in r.stderr, r.stderr
    r = shadow_check("--config", CONFIG, "--new", "/nonexistent/model.onnx", "--input", RECORDS)
    assert r.returncode == 2 and "cannot load the model" in r.stderr, r.stderr
    r = shadow_check("--config", CONFIG, "--input", RECORDS)
    assert r.returncode == 2, r.stderr


def main():
    failed = 0
    for t in TESTS:
        try:
            t()
            print("ok   %s" % t.__name__)
        except Exception:  # noqa: BLE001 - report every failure, then exit 1
            failed += 1
            print("FAIL %s" % t.__name__)
            traceback.print_exc()
    print("%d of %d passed" % (len(TESTS) - failed, len(TESTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
