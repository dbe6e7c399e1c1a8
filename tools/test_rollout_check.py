#!/usr/bin/env python3
"""Self-test of tools/rollout_check.py, without the pipeline binary: python3 tools/test_rollout_check.py

A synthetic "pipeline output" of examples/transactions.jsonl under compose/pipeline.toml is built
here a second way (the demo features as tools/make_test_models.py builds them, onnxruntime run
directly, floats written as the shortest text of their float32): a cut-over at line 501, lines
< 501 scored by models/demo.onnx and the others by models/demo_v2.onnx, each record naming its
version by the model file's sha256 prefix. Then:
- it passes, with --line 501 and without (and with the ids left to their defaults);
- one flipped model_version fails (exit 1), with --line as a version mismatch, without as the
  values the named version does not give; one flipped label fails; a score off by 1e-4 fails,
  one off by 5e-6 passes; a wrong passthrough id, an unknown version, a missing or an extra
  output line, a line that is not JSON fail;
- a canary mix passes without --line and fails with it;
- input records the pipeline rejects (and blank lines) produce no output line, and --line counts
  physical input lines;
- the new version as a config with `[model] version` is named by it;
- a bad command line, unreadable files and two versions of one id exit 2 with one line.
Exits 1 when a check fails.
"""
import copy
import hashlib
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
LABELS = ["legit", "fraud"]
CUT = 501
TESTS = []


def test(f):
    TESTS.append(f)
    return f


def sha_prefix(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


ID_A, ID_B = sha_prefix(DEMO), sha_prefix(DEMO_V2)


def rollout_check(*args):
    return subprocess.run([sys.executable, os.path.join(HERE, "rollout_check.py")] + list(args),
                          capture_output=True, text=True)


def read_records(path=RECORDS):
    with open(path) as f:
        return [json.loads(line) for line in f]


_PROBABILITIES = {}


def probabilities(model):
    """onnxruntime's probabilities [1000, 2] (float32) of the demo records under `model`."""
    if model not in _PROBABILITIES:
        import onnxruntime as ort
        sys.path.insert(0, HERE)
        from make_test_models import demo_features

        records = read_records()
        x = demo_features(np.array([r["amount"] for r in records]), np.array([r["hour"] for r in records]),
                          np.array([r.get("country", "") for r in records]),
                          np.array([r["is_new_customer"] for r in records]))
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        _PROBABILITIES[model] = session.run(["probabilities"], {"features": x})[0]
    return _PROBABILITIES[model]


def f32(x):
    """A float32 as the pipeline writes it: the shortest text that reads back to it."""
    return float(str(np.float32(x)))


def output_record(record, p, version_id):
    best = int(np.argmax(p))
    return {"id": record["id"], "label": LABELS[best], "score": f32(p[best]),
            "probabilities": [f32(v) for v in p], "model_version": version_id}


def synthetic_output(new_from=lambda i: i + 1 >= CUT, ids=(ID_A, ID_B)):
    """The output records of the demo records: record i (input line i+1) by demo_v2 when new_from(i)."""
    p_a, p_b = probabilities(DEMO), probabilities(DEMO_V2)
    out = []
    for i, record in enumerate(read_records()):
        new = new_from(i)
        out.append(output_record(record, p_b[i] if new else p_a[i], ids[1] if new else ids[0]))
    return out


def write_lines(directory, name, lines):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line, separators=(",", ":"))) + "\n")
    return path


def check(output, *extra, records=RECORDS, new=DEMO_V2, ids=True):
    """rollout_check --json on `output` (a list of records or lines): (exit status, figures or None)."""
    with tempfile.TemporaryDirectory() as d:
        path = write_lines(d, "output.jsonl", output)
        args = ["--config", CONFIG, "--new", new, "--input", records, "--output", path]
        if ids:
            args += ["--old-version", ID_A, "--new-version", ID_B]
        r = rollout_check(*args, *extra, "--json")
    assert r.returncode in (0, 1), (r.returncode, r.stdout, r.stderr)
    figures = json.loads(r.stdout)
    assert figures["ok"] == (r.returncode == 0), (r.returncode, figures)
    return r.returncode, figures


def differing_record(below_cut=True, margin=1e-3):
    """The index of a record whose two versions' probabilities differ by more than `margin`."""
    diff = np.abs(probabilities(DEMO).astype(np.float64) - probabilities(DEMO_V2)).max(axis=1)
    candidates = [i for i in np.flatnonzero(diff > margin).tolist() if (i + 1 < CUT) == below_cut]
    assert candidates, "no record where demo and demo_v2 differ"
    return candidates[0]


@test
def cutover_output_passes():
    out = synthetic_output()
    for extra in (["--line", str(CUT)], []):
        status, got = check(out, *extra)
        assert status == 0, got
        assert got["records"] == 1000 and got["output_lines"] == 1000, got
        assert got["versions"] == {ID_A: 500, ID_B: 500}, got
        for key in ("label_mismatches", "version_mismatches", "value_mismatches", "passthrough_mismatches",
                    "malformed_lines"):
            assert got[key] == 0, (key, got)
        assert got["first_problem"] is None, got
        assert got["max_abs_difference"] is not None and got["max_abs_difference"] < 1e-6, got
    # The ids left to their defaults: the model files' sha256 prefixes.
    status, got = check(out, "--line", str(CUT), ids=False)
    assert status == 0 and got["versions"] == {ID_A: 500, ID_B: 500}, got


@test
def flipped_version_fails():
    i = differing_record(below_cut=True)
    out = synthetic_output()
    out[i]["model_version"] = ID_B
    status, got = check(out, "--line", str(CUT))
    assert status == 1, got
    assert got["version_mismatches"] == 1, got
    assert got["versions"] == {ID_A: 499, ID_B: 501}, got
    assert got["first_problem"].startswith("output line %d (input line %d): model_version" % (i + 1, i + 1)), got
    # Without --line any mix is allowed, but the record is checked against the version it names.
    status, got = check(out)
    assert status == 1 and got["version_mismatches"] == 0 and got["value_mismatches"] == 1, got
    # After the cut, an old version fails the same way.
    j = differing_record(below_cut=False)
    out = synthetic_output()
    out[j]["model_version"] = ID_A
    status, got = check(out, "--line", str(CUT))
    assert status == 1 and got["version_mismatches"] == 1, got


@test
def flipped_label_fails():
    for i in (3, 700):
        out = synthetic_output()
        out[i]["label"] = "fraud" if out[i]["label"] == "legit" else "legit"
        for extra in (["--line", str(CUT)], []):
            status, got = check(out, *extra)
            assert status == 1, got
            assert got["label_mismatches"] == 1 and got["version_mismatches"] == 0, got
            assert got["value_mismatches"] == 0, got
            assert got["first_problem"].startswith("output line %d (input line %d): label" % (i + 1, i + 1)), got


@test
def score_tolerance():
    out = synthetic_output()
    out[10]["score"] = out[10]["score"] + 1e-4
    status, got = check(out, "--line", str(CUT))
    assert status == 1 and got["value_mismatches"] == 1 and got["label_mismatches"] == 0, got
    assert abs(got["max_abs_difference"] - 1e-4) < 1e-6, got
    out = synthetic_output()
    out[10]["score"] = out[10]["score"] + 5e-6
    out[900]["probabilities"][1] = out[900]["probabilities"][1] - 5e-6
    status, got = check(out, "--line", str(CUT))
    assert status == 0, got
    out = synthetic_output()
    out[900]["probabilities"] = out[900]["probabilities"][:1]
    status, got = check(out, "--line", str(CUT))
    assert status == 1 and got["value_mismatches"] == 1, got
    # A null where onnxruntime gives a finite number.
    out = synthetic_output()
    out[5]["score"] = None
    status, got = check(out)
    assert status == 1 and got["value_mismatches"] == 1, got


@test
def other_output_faults_fail():
    base = synthetic_output()
    out = copy.deepcopy(base)
    out[20]["id"] = 99999
    status, got = check(out, "--line", str(CUT))
    assert status == 1 and got["passthrough_mismatches"] == 1, got
    out = copy.deepcopy(base)
    out[20]["model_version"] = "0123456789ab"
    for extra in (["--line", str(CUT)], []):
        status, got = check(out, *extra)
        assert status == 1 and got["version_mismatches"] == 1, got
    out = copy.deepcopy(base)
    del out[20]["model_version"]
    status, got = check(out)
    assert status == 1 and got["version_mismatches"] == 1, got
    status, got = check(base[:-1], "--line", str(CUT))
    assert status == 1 and got["output_lines"] == 999 and "999 lines for 1000" in got["first_problem"], got
    status, got = check(base + [base[-1]], "--line", str(CUT))
    assert status == 1 and got["output_lines"] == 1001, got
    # A missing line in the middle: the records after it are paired with the wrong output.
    status, got = check(base[:100] + base[101:], "--line", str(CUT))
    assert status == 1 and got["first_problem"].startswith("output line 101 (input line 101)"), got
    status, got = check(base[:50] + ["not json"] + base[51:])
    assert status == 1 and got["malformed_lines"] == 1, got


@test
def canary_mix():
    out = synthetic_output(new_from=lambda i: (i // 256) % 2 == 1)   # every other batch of 256
    status, got = check(out)
    assert status == 0 and got["versions"] == {ID_A: 512, ID_B: 488}, got
    status, got = check(out, "--line", str(CUT))
    assert status == 1 and got["version_mismatches"] > 0, got


@test
def rejected_records_have_no_output_line():
    with open(RECORDS) as f:
        lines = f.read().splitlines()
    bad = [
        '{"id":-1,"hour":20,"country":"DE","is_new_customer":false}',                 # no amount
        '',                                                                          # not a record
        '{"id":-2,"amount":"12","hour":7,"country":"US","is_new_customer":true}',    # wrong type
        'not json',
    ]
    out = synthetic_output()
    with tempfile.TemporaryDirectory() as d:
        records = write_lines(d, "records.jsonl", bad + lines[:600] + bad + lines[600:])
        # Input line 501 is now line 505: the cut-over, in physical lines, moved by 4.
        status, got = check(out, "--line", str(CUT + 4), records=records)
        assert status == 0, got
        assert (got["records"], got["skipped_missing_field"], got["skipped_invalid"]) == (1000, 2, 4), got
        status, got = check(out, "--line", str(CUT), records=records)
        assert status == 1 and got["version_mismatches"] == 4, got


@test
def new_version_as_config():
    with open(CONFIG) as f:
        text = f.read()
    old_path = 'path = "../models/demo.onnx"'
    assert old_path in text
    with tempfile.TemporaryDirectory() as d:
        new_config = os.path.join(d, "v2.toml")
        with open(new_config, "w") as f:
            f.write(text.replace(old_path, 'path = %s\nversion = "fraud-v2"' % json.dumps(DEMO_V2)))
        out = synthetic_output(ids=(ID_A, "fraud-v2"))
        status, got = check(out, "--line", str(CUT), new=new_config, ids=False)
        assert status == 0 and got["versions"] == {ID_A: 500, "fraud-v2": 500}, got


@test
def usage_errors_exit_2():
    with tempfile.TemporaryDirectory() as d:
        output = write_lines(d, "output.jsonl", synthetic_output())
        common = ["--config", CONFIG, "--new", DEMO_V2, "--input", RECORDS]
        cases = [
            (common + ["--output", output, "--old-version", "x", "--new-version", "x"], "both named"),
            (common + ["--output", output, "--line", "0"], "--line"),
            (common + ["--output", os.path.join(d, "missing.jsonl")], "cannot read"),
            (["--config", CONFIG, "--new", DEMO_V2, "--input", os.path.join(d, "missing.jsonl"), "--output", output],
             "cannot read"),
            (["--config", CONFIG, "--new", os.path.join(d, "missing.onnx"), "--input", RECORDS, "--output", output],
             "cannot"),
            (common, "--output"),
            (common + ["--output", output, "--line", "x"], "--line"),
        ]
        for args, needle in cases:
            r = rollout_check(*args, "--json")
            assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
            assert r.stdout == "", (args, r.stdout)
            message = r.stderr.strip()
            assert "\n" not in message and message.startswith("rollout_check: error:"), message
            assert needle in message, (needle, message)


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
