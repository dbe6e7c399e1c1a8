#!/usr/bin/env python3
"""Checks the pipeline's shadow disagreement figures independently: scores the same records with
two versions of the model part of a config, in numpy and onnxruntime, and compares them.

    python3 tools/shadow_check.py --config OLD.toml --new NEW.toml|MODEL.onnx \\
        --input records.jsonl [--skip-lines N] [--json]

The versions.
- The old one is the config as it is: its `[[input.field]]` schema, `[[feature]]`s, `[model]` and
  `[output]`. Relative paths in a config are relative to its directory.
- `--new NEW.toml`: another config, of which only `[[feature]]`, `[model]` and `[output]` are
  used; the records are read with the old config's schema (as the pipeline's shadow version
  shares the run's `[input]`), so its features must read fields of that schema.
- `--new MODEL.onnx` (a path ending in .onnx, relative to the current directory): the old config
  with only `[model] path` replaced.

The records. `--input` is read as JSON lines whatever `[input] format` says (a CSV config is
refused). Lines are numbered from 1, physical lines; a line holding only white space is not a
record. A record the pipeline would reject is not compared: one missing a required field
(absent or null) is counted in `skipped_missing_field`; one that is not a JSON object, or has a
field of the wrong type (float: a finite number; int: an integral number within 64 bits; bool:
true or false; string: a string), in `skipped_invalid` (wrong types win over missing fields, as
in the pipeline). Limits the pipeline also enforces (line length, nesting depth) are not checked.
`--skip-lines N` compares only the records from line N+1 on.

The features (README "Configuration"), computed in float64 and rounded once to float32 as the
pipeline does: `identity`, `impute`, `standardize`, `minmax`, `log1p`, `bucketize` (numbers; bools
as 0/1; an absent or null optional field is NaN, then `fill` replaces NaN) and `onehot` (strings;
int fields as decimal text; absent or null: `fill`, else all zeros; `drop`'s column left out).
`hash`, `text_hash` and `tfidf` are not implemented: such a config is refused (exit 2).

The models run in onnxruntime (CPUExecutionProvider, float32; a `[model] precision` of int8 or
bf16 is not emulated, and a note says so). The graph input is `[model] input`, else the first;
the probabilities are `[model] output`, else the first float output, else the input of a ZipMap
node. A record's label is the argmax of its probabilities (the first of equal maxima) mapped to
`[output] labels`, or, without them, the class index (the model's own class names are not
read). Labels are compared as values (TOML integers 0, 1 equal the indices 0, 1; strings do not).

The figures (`--json` prints them as one JSON object, otherwise a summary):
- records: records compared;
- label_disagreements: records whose old and new labels differ; disagreement_share: that over
  records (null when no record was compared);
- max_probability_difference: the largest |p_old - p_new| over the records and the classes both
  versions have, matched by label when both configs give `labels`, else by column index (null
  when there is no record or no class in common); mean_max_probability_difference: the mean over
  records of each record's largest difference;
- also: skipped_missing_field, skipped_invalid, classes_compared, label_changes (old label, new
  label and how many records moved so).

Exit status: 0 when the figures were computed; 2 for a bad command line or an unusable config,
model or input file (one line on stderr: `shadow_check: error: ...`).

tools/rollout_check.py imports this module (version_from, new_version_from, open_models,
read_numbered_chunks, columns_of, model_input, probabilities, class_labels).
"""
import argparse
import json
import math
import os
import sys
import tomllib

import numpy as np

CHUNK_RECORDS = 8192
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
FIELD_TYPES = ("float", "int", "string", "bool")
NUMERIC_KINDS = ("identity", "impute", "standardize", "minmax", "log1p", "bucketize")
UNSUPPORTED_KINDS = ("hash", "text_hash", "tfidf")
JSON_WHITESPACE = b" \t\r\n"


class UsageError(Exception):
    """Something the check cannot work with: exit 2 with this message."""


# ---------------------------------------------------------------------------------------------
# Configs

def load_toml(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e)) from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError("%s: not valid TOML: %s" % (path, e)) from None


def load_schema(config, path):
    """The `[[input.field]]` list as [(name, type, required)], checked."""
    section = config.get("input", {})
    if section.get("format", "jsonl") != "jsonl":
        raise UsageError("%s: [input] format is %r; shadow_check reads JSON lines only"
                         % (path, section.get("format")))
    fields = section.get("field")
    if not isinstance(fields, list) or not fields:
        raise UsageError("%s: no [[input.field]] schema" % path)
    schema, seen = [], set()
    for i, f in enumerate(fields):
        name, ftype = f.get("name"), f.get("type")
        if not isinstance(name, str) or ftype not in FIELD_TYPES:
            raise UsageError("%s: input.field[%d] needs a name and a type among %s" % (path, i, ", ".join(FIELD_TYPES)))
        if name in seen:
            raise UsageError("%s: input field %r is declared twice" % (path, name))
        seen.add(name)
        schema.append((name, ftype, bool(f.get("required", True))))
    return schema


class Version:
    """One version of the model part of a config: features, model and labels."""

    def __init__(self, description, features, model_path, model_input, model_output, precision, labels):
        self.description = description
        self.features = features          # [Feature]
        self.model_path = model_path
        self.model_input = model_input    # None: the graph's first input
        self.model_output = model_output  # None: the first float output
        self.precision = precision
        self.labels = labels              # None: class indices
        self.session = None
        self.input_name = None
        self.output_name = None

    @property
    def width(self):
        return sum(f.width for f in self.features)


def version_from(config, config_path, schema, model_path=None):
    """The version a config describes; `model_path` (relative to the current directory) replaces
    its `[model] path`."""
    base = os.path.dirname(os.path.abspath(config_path))
    types = {name: ftype for name, ftype, _ in schema}
    tables = config.get("feature")
    if not isinstance(tables, list) or not tables:
        raise UsageError("%s: no [[feature]]" % config_path)
    features = [Feature.parse(t, i, types, config_path) for i, t in enumerate(tables)]
    model = config.get("model", {})
    if model_path is None:
        if not isinstance(model.get("path"), str):
            raise UsageError("%s: [model] path is missing" % config_path)
        model_path = os.path.join(base, model["path"])
        description = "%s (model %s)" % (config_path, os.path.relpath(model_path))
    else:
        description = "%s with model %s" % (config_path, model_path)
    labels = config.get("output", {}).get("labels")
    if labels is not None:
        ok = isinstance(labels, list) and labels and (all(isinstance(x, str) for x in labels) or
                                                      all(isinstance(x, int) and not isinstance(x, bool) for x in labels))
        if not ok or len(set(labels)) != len(labels):
            raise UsageError("%s: [output] labels must be distinct strings or distinct integers" % config_path)
    return Version(description, features, model_path, model.get("input"), model.get("output"),
                   model.get("precision", "float32"), labels)


def new_version_from(config, config_path, schema, new):
    """The version `--new` names, and the config it comes from: a path ending in .onnx is the
    old config with only its `[model] path` replaced (the config returned is the old one), else
    another config read with the old config's schema."""
    if new.lower().endswith(".onnx"):
        return version_from(config, config_path, schema, model_path=new), config
    new_config = load_toml(new)
    return version_from(new_config, new, schema), new_config


def open_models(versions, tool):
    """Loads each version's model (a note on stderr for a precision that is not emulated)."""
    for version in versions:
        if version.precision not in (None, "float32"):
            print("%s: note: %s: [model] precision %r is not emulated; onnxruntime computes in float32"
                  % (tool, version.description, version.precision), file=sys.stderr)
        open_model(version)


# ---------------------------------------------------------------------------------------------
# Features: each turns one field's column of values into model-input columns (float64)

class Feature:
    """One `[[feature]]`: `field`, `kind`, the kind's keys, and its width in columns."""

    def __init__(self, field, field_type, kind, keys, where):
        self.field, self.field_type, self.kind, self.keys, self.where = field, field_type, kind, keys, where
        self.fill = keys.get("fill")
        if kind == "onehot":
            self.categories = keys.get("categories")
            if not isinstance(self.categories, list) or not self.categories or \
                    not all(isinstance(c, str) for c in self.categories):
                raise UsageError("%s: onehot needs `categories`, a non-empty list of strings" % where)
            drop = keys.get("drop")
            self.columns = [c for c in self.categories if c != drop]
            if self.fill is not None:
                self.fill = str(self.fill)   # an int field's fill may be written as an integer
            self.width = len(self.columns)
        else:
            if self.fill is not None and not _is_number(self.fill):
                raise UsageError("%s: `fill` must be a number" % where)
            if kind == "impute" and self.fill is None:
                raise UsageError("%s: impute needs `fill`" % where)
            self.width = 1
            if kind == "bucketize":
                edges = keys.get("edges")
                if not isinstance(edges, list) or len(edges) < 2 or not all(_is_number(e) for e in edges):
                    raise UsageError("%s: bucketize needs `edges`, at least two numbers" % where)
                self.inner = np.asarray(edges[1:-1], dtype=np.float64)   # only the inner edges decide
                self.encode = keys.get("encode", "onehot")
                if self.encode not in ("onehot", "onehot-dense", "ordinal"):
                    raise UsageError("%s: bucketize encode %r is not onehot or ordinal" % (where, self.encode))
                self.width = 1 if self.encode == "ordinal" else len(edges) - 1

    @staticmethod
    def parse(table, index, types, config_path):
        kind, field = table.get("kind"), table.get("field")
        where = "%s: feature[%d] (field %r, kind %r)" % (config_path, index, field, kind)
        if kind in UNSUPPORTED_KINDS:
            raise UsageError("%s: feature kind %r is not supported by shadow_check" % (where, kind))
        if kind not in NUMERIC_KINDS and kind != "onehot":
            raise UsageError("%s: unknown feature kind %r" % (where, kind))
        if field not in types:
            raise UsageError("%s: field %r is not in the input schema" % (where, field))
        wanted = ("string", "int") if kind == "onehot" else ("float", "int", "bool")
        if types[field] not in wanted:
            raise UsageError("%s: a %s field, but the kind needs %s" % (where, types[field], " or ".join(wanted)))
        keys = {k: v for k, v in table.items() if k not in ("field", "kind")}
        return Feature(field, types[field], kind, keys, where)

    def columns_of(self, values):
        """Model-input columns [n, width] (float64) for this field's values (None: missing)."""
        if self.kind == "onehot":
            return self._onehot(values)
        x = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        if self.fill is not None:
            x = np.where(np.isnan(x), float(self.fill), x)   # SimpleImputer in front of the kind
        k = self.keys
        with np.errstate(all="ignore"):
            if self.kind in ("identity", "impute"):
                y = x
            elif self.kind == "standardize":
                std = float(k.get("std", 1.0))
                y = (x - float(k.get("mean", 0.0))) / (std if std != 0 else 1.0)
            elif self.kind == "minmax":
                low, high = (float(b) for b in k.get("feature_range", [0.0, 1.0]))
                data_range = float(k["max"]) - float(k["min"])
                scale = (high - low) / (data_range if data_range >= 10 * np.finfo(np.float64).eps else 1.0)
                y = x * scale + (low - float(k["min"]) * scale)
                if k.get("clip", False):
                    y = np.clip(y, low, high)
            elif self.kind == "log1p":
                y = np.log1p(x)
            else:  # bucketize
                bins = np.searchsorted(self.inner, x, side="right")
                nan = np.isnan(x)
                if self.encode == "ordinal":
                    return np.where(nan, np.nan, bins.astype(np.float64))[:, None]
                out = np.zeros((len(x), self.width), dtype=np.float64)
                rows = np.flatnonzero(~nan)
                out[rows, bins[rows]] = 1.0
                return out
        return y[:, None]

    def _onehot(self, values):
        index = {c: j for j, c in enumerate(self.columns)}
        out = np.zeros((len(values), self.width), dtype=np.float64)
        for i, v in enumerate(values):
            if v is None:
                v = self.fill
            elif not isinstance(v, str):
                v = str(v)   # an int field's value, compared as decimal text
            j = index.get(v)
            if j is not None:
                out[i, j] = 1.0
        return out


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def model_input(version, columns):
    """The float32 model input of `version` for a chunk of records (`columns`: field -> values)."""
    blocks = [f.columns_of(columns[f.field]) for f in version.features]
    return np.concatenate(blocks, axis=1).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Records

def _no_constants(name):
    raise ValueError("%s is not JSON" % name)


def parse_record(line, schema):
    """('ok', {field: value or None}), ('missing', field) or ('invalid', why) for one line."""
    try:
        obj = json.loads(line.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as e:
        return "invalid", str(e)
    if not isinstance(obj, dict):
        return "invalid", "not a JSON object"
    values, missing = {}, None
    for name, ftype, required in schema:
        v = obj.get(name)
        if v is None:
            if required and missing is None:
                missing = name
            values[name] = None
            continue
        if ftype == "float":
            if not _is_number(v):
                return "invalid", "%s: not a number" % name
            try:
                v = float(v)
            except OverflowError:
                return "invalid", "%s: out of the float64 range" % name
            if not math.isfinite(v):
                return "invalid", "%s: out of the float64 range" % name
        elif ftype == "int":
            if isinstance(v, float) and math.isfinite(v) and v.is_integer():
                v = int(v)
            if not (isinstance(v, int) and not isinstance(v, bool)) or not INT64_MIN <= v <= INT64_MAX:
                return "invalid", "%s: not a 64-bit integer" % name
        elif ftype == "bool":
            if not isinstance(v, bool):
                return "invalid", "%s: not true or false" % name
        elif not isinstance(v, str):
            return "invalid", "%s: not a string" % name
        values[name] = v
    if missing is not None:
        return "missing", missing
    return "ok", values


def read_numbered_chunks(path, schema, skip_lines, counts):
    """Yields (line numbers, accepted records) pairs, lists of equal length, from line
    skip_lines+1 on; counts the skipped records in `counts`."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e)) from None
    numbers, chunk = [], []
    with f:
        for number, line in enumerate(f, start=1):
            if number <= skip_lines:
                continue
            line = line.strip(JSON_WHITESPACE)
            if not line:
                continue
            status, value = parse_record(line, schema)
            if status == "ok":
                numbers.append(number)
                chunk.append(value)
                if len(chunk) == CHUNK_RECORDS:
                    yield numbers, chunk
                    numbers, chunk = [], []
            else:
                counts["skipped_missing_field" if status == "missing" else "skipped_invalid"] += 1
    if chunk:
        yield numbers, chunk


def read_chunks(path, schema, skip_lines, counts):
    """Yields lists of accepted records (dicts) from line skip_lines+1 on; counts skipped ones."""
    for _, chunk in read_numbered_chunks(path, schema, skip_lines, counts):
        yield chunk


def columns_of(records, schema):
    """A chunk of records as columns: field -> [value or None]."""
    return {name: [r[name] for r in records] for name, _, _ in schema}


# ---------------------------------------------------------------------------------------------
# Models

def open_model(version):
    """Loads the version's model into onnxruntime and settles which tensors it feeds and reads."""
    import onnx
    import onnxruntime as ort

    try:
        proto = onnx.load(version.model_path)
    except Exception as e:  # noqa: BLE001 - any load failure is an unusable model
        raise UsageError("cannot load the model %s: %s" % (version.model_path, e)) from None
    initializers = {t.name for t in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in initializers]
    if not inputs:
        raise UsageError("%s: the graph has no input" % version.model_path)
    if version.model_input is None:
        feed = inputs[0]
    else:
        feed = next((i for i in inputs if i.name == version.model_input), None)
        if feed is None:
            raise UsageError("%s: [model] input %r is not a graph input" % (version.model_path, version.model_input))
    dims = feed.type.tensor_type.shape.dim
    if len(dims) == 2 and dims[1].HasField("dim_value") and dims[1].dim_value != version.width:
        raise UsageError("%s: the features give %d columns, but the model input %r takes %d"
                         % (version.description, version.width, feed.name, dims[1].dim_value))

    output = version.model_output
    outputs = {o.name: o for o in proto.graph.output}
    if output is None:
        output = next((o.name for o in proto.graph.output
                       if o.type.tensor_type.elem_type == onnx.TensorProto.FLOAT), None)
    if output is None:  # a classifier ending in ZipMap: the probabilities are its input
        output = next((n.input[0] for n in proto.graph.node if n.op_type == "ZipMap"), None)
    if output is None:
        raise UsageError("%s: no float output to read probabilities from" % version.model_path)
    if output not in outputs:  # an inner tensor: expose it as a graph output
        proto.graph.output.append(onnx.helper.make_empty_tensor_value_info(output))

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    try:
        version.session = ort.InferenceSession(proto.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001
        raise UsageError("onnxruntime cannot run %s: %s" % (version.model_path, e)) from None
    version.input_name, version.output_name = feed.name, output


def probabilities(version, x):
    """The version's probabilities [n, classes] (float32) for model input x."""
    try:
        p = version.session.run([version.output_name], {version.input_name: x})[0]
    except Exception as e:  # noqa: BLE001
        raise UsageError("onnxruntime failed on %s: %s" % (version.model_path, e)) from None
    p = np.asarray(p)
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2 or p.shape[0] != x.shape[0]:
        raise UsageError("%s: output %r has shape %s, expected [records, classes]"
                         % (version.model_path, version.output_name, list(p.shape)))
    if version.labels is not None and len(version.labels) != p.shape[1]:
        raise UsageError("%s: %d labels for %d output columns" % (version.description, len(version.labels), p.shape[1]))
    return p


def class_labels(version, classes):
    return list(version.labels) if version.labels is not None else list(range(classes))


# ---------------------------------------------------------------------------------------------
# The comparison

class Comparison:
    """Accumulates the figures over chunks of records."""

    def __init__(self):
        self.records = 0
        self.disagreements = 0
        self.max_difference = None
        self.sum_record_max = 0.0
        self.changes = {}              # (old label, new label) -> records
        self.classes = None            # [(label or column, old column, new column)]

    def matched_columns(self, old, new, old_classes, new_classes):
        if old.labels is not None and new.labels is not None:
            position = {label: j for j, label in enumerate(new.labels)}
            return [(label, i, position[label]) for i, label in enumerate(old.labels) if label in position]
        return [(i, i, i) for i in range(min(old_classes, new_classes))]

    def add(self, old, new, p_old, p_new):
        if self.classes is None:
            self.classes = self.matched_columns(old, new, p_old.shape[1], p_new.shape[1])
        old_labels = class_labels(old, p_old.shape[1])
        new_labels = class_labels(new, p_new.shape[1])
        a, b = np.argmax(p_old, axis=1), np.argmax(p_new, axis=1)   # the first of equal maxima
        for i, j in zip(a.tolist(), b.tolist()):
            if old_labels[i] != new_labels[j]:
                self.disagreements += 1
                key = (old_labels[i], new_labels[j])
                self.changes[key] = self.changes.get(key, 0) + 1
        self.records += len(a)
        if self.classes:
            cols_old = [c[1] for c in self.classes]
            cols_new = [c[2] for c in self.classes]
            diff = np.abs(p_old[:, cols_old].astype(np.float64) - p_new[:, cols_new].astype(np.float64))
            record_max = diff.max(axis=1)
            chunk_max = float(record_max.max())
            self.max_difference = chunk_max if self.max_difference is None else max(self.max_difference, chunk_max)
            self.sum_record_max += float(record_max.sum())

    def figures(self, counts):
        n = self.records
        return {
            "records": n,
            "label_disagreements": self.disagreements,
            "disagreement_share": self.disagreements / n if n else None,
            "max_probability_difference": self.max_difference,
            "mean_max_probability_difference": self.sum_record_max / n if n and self.classes else None,
            "skipped_missing_field": counts["skipped_missing_field"],
            "skipped_invalid": counts["skipped_invalid"],
            "classes_compared": [c[0] for c in self.classes] if self.classes else [],
            "label_changes": [{"old": o, "new": w, "records": r}
                              for (o, w), r in sorted(self.changes.items(), key=lambda kv: (-kv[1], str(kv[0])))],
        }


def compare(old, new, schema, input_path, skip_lines):
    counts = {"skipped_missing_field": 0, "skipped_invalid": 0}
    result = Comparison()
    for chunk in read_chunks(input_path, schema, skip_lines, counts):
        columns = columns_of(chunk, schema)
        p_old = probabilities(old, model_input(old, columns))
        p_new = probabilities(new, model_input(new, columns))
        result.add(old, new, p_old, p_new)
    return result.figures(counts)


def summary(figures, old, new, input_path, skip_lines):
    def fmt(v):
        return "n/a" if v is None else "%.6g" % v

    n = figures["records"]
    lines = [
        "old: %s" % old.description,
        "new: %s" % new.description,
        "input: %s%s: %d records compared; skipped: %d missing a required field, %d invalid"
        % (input_path, " from line %d" % (skip_lines + 1) if skip_lines else "", n,
           figures["skipped_missing_field"], figures["skipped_invalid"]),
        "label disagreements: %d of %d (%s)" % (
            figures["label_disagreements"], n,
            "n/a" if figures["disagreement_share"] is None else "%.2f%%" % (100 * figures["disagreement_share"])),
    ]
    for change in figures["label_changes"]:
        lines.append("  %s -> %s: %d" % (change["old"], change["new"], change["records"]))
    classes = ", ".join(str(c) for c in figures["classes_compared"]) or "none in common"
    lines.append("max |p_old - p_new|: %s (classes: %s)" % (fmt(figures["max_probability_difference"]), classes))
    lines.append("mean of each record's max difference: %s" % fmt(figures["mean_max_probability_difference"]))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description="Compare two versions of a pipeline config's model on the same "
                                            "records (an independent check of the shadow figures).")
    p.add_argument("--config", required=True, help="the pipeline config of the current (old) version")
    p.add_argument("--new", required=True, help="the new version: another config (.toml) or a model (.onnx)")
    p.add_argument("--input", required=True, help="the records, JSON lines")
    p.add_argument("--skip-lines", type=int, default=0, metavar="N",
                   help="compare only the records from input line N+1 on")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args(argv)
    try:
        if args.skip_lines < 0:
            raise UsageError("--skip-lines must be >= 0")
        config = load_toml(args.config)
        schema = load_schema(config, args.config)
        old = version_from(config, args.config, schema)
        new, _ = new_version_from(config, args.config, schema, args.new)
        open_models((old, new), "shadow_check")
        figures = compare(old, new, schema, args.input, args.skip_lines)
    except UsageError as e:
        print("shadow_check: error: %s" % e, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures))
    else:
        print(summary(figures, old, new, args.input, args.skip_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
