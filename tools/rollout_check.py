#!/usr/bin/env python3
"""Checks a model rollout's output independently: recomputes, with numpy and onnxruntime, what
each output record should say under the version it names, and whether that version was the
right one for its input line.

    python3 tools/rollout_check.py --config OLD.toml --new NEW.toml|MODEL.onnx \\
        --input records.jsonl --output pipeline_output.jsonl \\
        [--old-version IDA] [--new-version IDB] [--line N] [--tolerance T] [--json]

The versions are read as tools/shadow_check.py reads them (its feature and model code is used
here; see its docstring): `--config` is the old version, the running config; `--new` the version
rolled out, another config (of which `[[feature]]`, `[model]` and `[output]` are used, with the
old config's input schema) or, for a path ending in .onnx, the old config with only `[model] path`
replaced. `--old-version` and `--new-version` are the ids the output's "model_version" field
writes; each defaults to what the pipeline names the version by: `[model] version`, else the
first 12 hex digits of the model file's sha256 (a .onnx `--new` has no `[model] version`).

The pairing. `--input` is read as shadow_check reads it (JSON lines; a record the pipeline
rejects — a missing required field, a wrong type, not a JSON object — and a blank line produce no
output). The output's physical lines are paired in order with the accepted records; their
numbers must be equal. Every output line must be a JSON object.

The checks, per record:
- version: "model_version" must be IDA or IDB. With `--line N` (a cut-over at input line N,
  1-based physical lines), records on input lines < N must name IDA, the others IDB; without it
  any mix is allowed (a canary). A record is then checked against the version it names (a record
  naming neither is checked, with --line, against the one its line should have);
- `label`: the argmax of that version's probabilities (the first of equal maxima; NaN counts as
  the maximum, as in numpy and the pipeline) as `[output] labels` of that version's config, else
  the class index; strings and integers are different labels (the model's own class names are not
  read: a config without `labels` whose model names its classes is noted on stderr);
- `score` (the probability of that label), each of `probabilities`, and `prediction` (the first
  column): within the tolerance (1e-5 absolute by default) of onnxruntime's float32 values; a
  non-finite value must be written null;
- the passthrough fields (that version's `[output] passthrough` present in the record): equal to
  the input's values (a missing one is null).
Only fields present in a record are checked.

The summary (`--json`: one JSON object): records (accepted input records), output_lines, versions
(records naming IDA and IDB), label_mismatches, version_mismatches (a record naming the wrong
version for its line, another id, or none), value_mismatches (score, probabilities, prediction),
passthrough_mismatches, malformed_lines (output lines that are not a JSON object),
label_near_ties (label mismatches where the written label's probability is within the tolerance
of the maximum), max_abs_difference (over every number compared; null when none was),
skipped_missing_field, skipped_invalid, first_problem (the first failing record, or a line count
mismatch, described; null when everything matches) and ok.

Exit status: 0 when every check passed; 1 when one failed; 2 for a bad command line or an
unusable config, model, input or output file (one line on stderr: `rollout_check: error: ...`).
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shadow_check as sc  # noqa: E402 - the tools directory is put on the path just above

UsageError = sc.UsageError
TOOL = "rollout_check"
PREDICTION_FIELDS = ("label", "score", "probabilities", "prediction")
DEFAULT_FIELDS = ["label", "score"]


class RolloutVersion:
    """A version as the output names it: its id, features and model, and its `[output]`."""

    def __init__(self, vid, version, output, schema_names, config_path):
        self.id = vid
        self.version = version
        fields = output.get("fields", DEFAULT_FIELDS)
        passthrough = output.get("passthrough", [])
        if not isinstance(fields, list) or not isinstance(passthrough, list):
            raise UsageError("%s: [output] fields and passthrough must be lists" % config_path)
        self.fields = set(fields)
        # Passthrough fields are input fields; a name also in `fields` is a config error in the
        # pipeline, so a prediction field wins here.
        self.passthrough = [f for f in passthrough if f in schema_names and f not in self.fields]


def model_version_id(model_section, model_path, config_path):
    """`[model] version`, else the model file's sha256 prefix (12 hex digits)."""
    name = model_section.get("version")
    if name is not None:
        if not isinstance(name, str) or not name:
            raise UsageError("%s: [model] version must be a non-empty string" % config_path)
        return name
    digest = hashlib.sha256()
    try:
        with open(model_path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        raise UsageError("cannot read %s to name its version: %s" % (model_path, e.strerror or e)) from None
    return digest.hexdigest()[:12]


def note_model_classes(version):
    """A note when a config without labels serves a model that names its classes: the pipeline
    writes those names, this check the class indices."""
    if version.labels is not None:
        return
    import onnx
    try:
        proto = onnx.load(version.model_path, load_external_data=False)
    except Exception:  # noqa: BLE001 - open_model reports an unloadable model
        return
    for node in proto.graph.node:
        if any(a.name in ("classlabels_strings", "classlabels_ints") for a in node.attribute):
            print("%s: note: %s has no [output] labels and its model names its classes (%s); the pipeline "
                  "writes those, this check expects class indices" % (TOOL, version.description, node.op_type),
                  file=sys.stderr)
            return


# ---------------------------------------------------------------------------------------------
# Comparing values

def same_label(got, want):
    """Labels as values: a string equals only a string, an integer only an integer (not a bool)."""
    if isinstance(want, str):
        return isinstance(got, str) and got == want
    return isinstance(got, int) and not isinstance(got, bool) and got == want


def number_problem(got, want, tolerance, check):
    """None when the written number `got` fits `want` (a float32 value); else why not. Feeds
    check.track with each difference computed."""
    if not math.isfinite(want):
        return None if got is None else "%s, expected null (%r)" % (json.dumps(got), want)
    if not sc._is_number(got):
        return "%s, expected %.9g" % (json.dumps(got), want)
    try:
        difference = abs(float(got) - want)
    except OverflowError:
        difference = math.inf
    if not math.isfinite(difference):
        return "%s, expected %.9g" % (json.dumps(got), want)
    check.track(difference)
    if difference <= tolerance:
        return None
    return "%s, expected %.9g (off by %.3g)" % (json.dumps(got), want, difference)


def same_value(got, want, ftype):
    """A passthrough value against the input's (None: missing, written null)."""
    if want is None:
        return got is None
    if ftype == "bool" or isinstance(got, bool):
        return got is want
    if ftype == "string":
        return isinstance(got, str) and got == want
    return sc._is_number(got) and got == want


def short(values):
    return "[%s]" % ", ".join("%.7g" % v for v in values)


# ---------------------------------------------------------------------------------------------
# The check

class RolloutCheck:
    def __init__(self, old, new, schema, line, tolerance):
        self.old, self.new, self.schema, self.line, self.tolerance = old, new, schema, line, tolerance
        self.by_id = {old.id: old, new.id: new}
        self.types = {name: ftype for name, ftype, _ in schema}
        self.counts = {"skipped_missing_field": 0, "skipped_invalid": 0}
        self.records = 0
        self.output_lines = 0
        self.versions = {old.id: 0, new.id: 0}
        self.label_mismatches = 0
        self.label_near_ties = 0
        self.version_mismatches = 0
        self.value_mismatches = 0
        self.passthrough_mismatches = 0
        self.malformed_lines = 0
        self.max_difference = None
        self.first_problem = None

    def track(self, difference):
        if self.max_difference is None or difference > self.max_difference:
            self.max_difference = difference

    def expected_version(self, input_line):
        if self.line is None:
            return None
        return self.old if input_line < self.line else self.new

    def run(self, input_path, output_path):
        try:
            out = open(output_path, "rb")
        except OSError as e:
            raise UsageError("cannot read %s: %s" % (output_path, e.strerror or e)) from None
        with out:
            for numbers, chunk in sc.read_numbered_chunks(input_path, self.schema, 0, self.counts):
                self.records += len(chunk)
                lines = []
                for _ in chunk:
                    raw = out.readline()
                    if not raw:
                        break
                    self.output_lines += 1
                    lines.append((self.output_lines, raw))
                self.check_chunk(numbers[:len(lines)], chunk[:len(lines)], lines)
            while out.readline():
                self.output_lines += 1
        if self.output_lines != self.records and self.first_problem is None:
            self.first_problem = ("the output has %d lines for %d accepted input records"
                                  % (self.output_lines, self.records))

    def check_chunk(self, numbers, chunk, lines):
        parsed, versions = [], []
        for (_, raw), number in zip(lines, numbers):
            record = self.parse_output(raw)
            parsed.append(record)
            named = record.get("model_version") if isinstance(record, dict) else None
            version = self.by_id.get(named) if isinstance(named, str) else None
            versions.append(version or self.expected_version(number))
        probabilities = {}
        for v in (self.old, self.new):
            rows = [i for i, version in enumerate(versions) if version is v]
            if rows:
                columns = sc.columns_of([chunk[i] for i in rows], self.schema)
                p = sc.probabilities(v.version, sc.model_input(v.version, columns))
                probabilities[v.id] = dict(zip(rows, p))
        for i, ((output_line, _), number, record) in enumerate(zip(lines, numbers, parsed)):
            version = versions[i]
            p = probabilities[version.id][i] if version is not None else None
            problems = self.check_record(record, chunk[i], number, version, p)
            if problems and self.first_problem is None:
                self.first_problem = "output line %d (input line %d): %s" % (output_line, number, "; ".join(problems))

    @staticmethod
    def parse_output(raw):
        try:
            record = json.loads(raw.decode("utf-8"), parse_constant=sc._no_constants)
        except (UnicodeDecodeError, ValueError) as e:
            return "not JSON (%s)" % e
        return record if isinstance(record, dict) else "not a JSON object"

    def check_record(self, record, values, number, version, p):
        """The problems of one output record (empty: it is right); counts them."""
        if not isinstance(record, dict):
            self.malformed_lines += 1
            return [record]
        problems = []
        named = record.get("model_version")
        expected = self.expected_version(number)
        if isinstance(named, str) and named in self.by_id:
            self.versions[named] += 1
            if expected is not None and named != expected.id:
                self.version_mismatches += 1
                problems.append("model_version %s, expected %s (the cut-over is at line %d)" % (
                    json.dumps(named), expected.id, self.line))
        else:
            self.version_mismatches += 1
            what = "no model_version" if "model_version" not in record else "model_version %s" % json.dumps(named)
            problems.append("%s; expected %s" % (what, expected.id if expected is not None
                                                 else "%s or %s" % (self.old.id, self.new.id)))
        if version is None:
            return problems
        problems += self.check_prediction(record, version, p)
        for name in version.passthrough:
            if name in record and not same_value(record[name], values[name], self.types[name]):
                self.passthrough_mismatches += 1
                problems.append("%s %s, but the input has %s" % (name, json.dumps(record[name]), json.dumps(values[name])))
        return problems

    def check_prediction(self, record, version, p):
        problems = []
        p64 = [float(x) for x in p]
        labels = sc.class_labels(version.version, len(p64))
        best = int(np.argmax(p))   # the first of equal maxima; a NaN is the maximum
        against = " (%s: %s)" % (version.id, short(p64))
        if "label" in version.fields and "label" in record:
            got = record["label"]
            if not same_label(got, labels[best]):
                self.label_mismatches += 1
                tie = ""
                written = next((j for j, label in enumerate(labels) if same_label(got, label)), None)
                if written is not None and abs(p64[written] - p64[best]) <= self.tolerance:
                    self.label_near_ties += 1
                    tie = ", a near-tie within the tolerance"
                problems.append("label %s, expected %s%s%s" % (json.dumps(got), json.dumps(labels[best]), tie, against))
        value_problems = []
        if "score" in version.fields and "score" in record:
            why = number_problem(record["score"], p64[best], self.tolerance, self)
            if why:
                value_problems.append("score " + why)
        if "probabilities" in version.fields and "probabilities" in record:
            got = record["probabilities"]
            if not isinstance(got, list) or len(got) != len(p64):
                value_problems.append("probabilities %s, expected %d values" % (json.dumps(got), len(p64)))
            else:
                for j, (g, w) in enumerate(zip(got, p64)):
                    why = number_problem(g, w, self.tolerance, self)
                    if why:
                        value_problems.append("probabilities[%d] %s" % (j, why))
        if "prediction" in version.fields and "prediction" in record:
            why = number_problem(record["prediction"], p64[0], self.tolerance, self)
            if why:
                value_problems.append("prediction " + why)
        if value_problems:
            self.value_mismatches += 1
            if not problems:
                value_problems[-1] += against
        return problems + value_problems

    def figures(self):
        failed = (self.label_mismatches or self.version_mismatches or self.value_mismatches or
                  self.passthrough_mismatches or self.malformed_lines or self.output_lines != self.records)
        return {
            "records": self.records,
            "output_lines": self.output_lines,
            "versions": dict(self.versions),
            "label_mismatches": self.label_mismatches,
            "version_mismatches": self.version_mismatches,
            "value_mismatches": self.value_mismatches,
            "passthrough_mismatches": self.passthrough_mismatches,
            "malformed_lines": self.malformed_lines,
            "label_near_ties": self.label_near_ties,
            "max_abs_difference": self.max_difference,
            "skipped_missing_field": self.counts["skipped_missing_field"],
            "skipped_invalid": self.counts["skipped_invalid"],
            "first_problem": self.first_problem,
            "ok": not failed,
        }


def summary(f, old, new, line, tolerance):
    lines = [
        "old: %s = %s" % (old.id, old.version.description),
        "new: %s = %s" % (new.id, new.version.description),
        "%s: %d accepted input records (skipped: %d missing a required field, %d invalid), %d output lines"
        % ("cut-over at input line %d" % line if line is not None else "any mix (canary)",
           f["records"], f["skipped_missing_field"], f["skipped_invalid"], f["output_lines"]),
        "versions: %s" % ", ".join("%s %d" % kv for kv in f["versions"].items()),
        "version mismatches: %d; label mismatches: %d (near-ties: %d); value mismatches: %d; "
        "passthrough mismatches: %d; malformed lines: %d"
        % (f["version_mismatches"], f["label_mismatches"], f["label_near_ties"], f["value_mismatches"],
           f["passthrough_mismatches"], f["malformed_lines"]),
        "max |written - onnxruntime|: %s (tolerance %g)"
        % ("n/a" if f["max_abs_difference"] is None else "%.3g" % f["max_abs_difference"], tolerance),
        "first problem: %s" % (f["first_problem"] or "none"),
        "OK" if f["ok"] else "FAILED",
    ]
    return "\n".join(lines)


class Arguments(argparse.ArgumentParser):
    def error(self, message):
        """A bad command line: one line on stderr, exit 2."""
        print("%s: error: %s" % (TOOL, message), file=sys.stderr)
        raise SystemExit(2)


def main(argv=None):
    p = Arguments(description="Check a model rollout's output: each record's model_version, "
                                            "label and scores against onnxruntime.")
    p.add_argument("--config", required=True, help="the pipeline config of the old version")
    p.add_argument("--new", required=True, help="the new version: another config (.toml) or a model (.onnx)")
    p.add_argument("--input", required=True, help="the input records, JSON lines")
    p.add_argument("--output", required=True, help="the pipeline's output, JSON lines")
    p.add_argument("--old-version", metavar="IDA",
                   help="the old version's model_version (default: [model] version, else the model's sha256 prefix)")
    p.add_argument("--new-version", metavar="IDB", help="the new version's model_version (default: likewise)")
    p.add_argument("--line", type=int, metavar="N",
                   help="a cut-over at input line N: lines < N old, lines >= N new (default: any mix)")
    p.add_argument("--tolerance", type=float, default=1e-5, metavar="T",
                   help="largest absolute difference allowed for score, probabilities, prediction (default 1e-5)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:   # --help: 0; a bad command line (said by Arguments.error): 2
        return e.code
    try:
        if args.line is not None and args.line < 1:
            raise UsageError("--line must be >= 1")
        if not (math.isfinite(args.tolerance) and args.tolerance >= 0):
            raise UsageError("--tolerance must be a finite number >= 0")
        config = sc.load_toml(args.config)
        schema = sc.load_schema(config, args.config)
        old = sc.version_from(config, args.config, schema)
        new, new_config = sc.new_version_from(config, args.config, schema, args.new)
        old_id = args.old_version or model_version_id(config.get("model", {}), old.model_path, args.config)
        new_model_section = {} if new_config is config else new_config.get("model", {})
        new_id = args.new_version or model_version_id(new_model_section, new.model_path, args.new)
        if old_id == new_id:
            raise UsageError("the old and new versions are both named %s: the output cannot tell them apart" % old_id)
        names = {name for name, _, _ in schema}
        old_v = RolloutVersion(old_id, old, config.get("output", {}), names, args.config)
        new_v = RolloutVersion(new_id, new, new_config.get("output", {}), names, args.new)
        sc.open_models((old, new), TOOL)
        for v in (old, new):
            note_model_classes(v)
        check = RolloutCheck(old_v, new_v, schema, args.line, args.tolerance)
        check.run(args.input, args.output)
    except UsageError as e:
        print("%s: error: %s" % (TOOL, e), file=sys.stderr)
        return 2
    figures = check.figures()
    if args.json:
        print(json.dumps(figures))
    else:
        print(summary(figures, old_v, new_v, args.line, args.tolerance))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
