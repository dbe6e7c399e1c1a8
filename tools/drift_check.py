#!/usr/bin/env python3
"""Checks the pipeline's drift statistics independently, from the run's own input and output.

    python3 tools/drift_check.py --reference reference.json --input records.jsonl \\
        --events events.log [--output output.jsonl] [--tolerance 1e-6] [--levels] [--quiet]

For every `drift_window` event of the event log (other events are ignored), the input records on
lines first_line..last_line (1-based line numbers of the JSON-lines input; blank lines are not
records) are binned as the reference profile says (see the drift spec): numeric and text_length
fields with np.searchsorted(edges, v, side="right") on float64 (missing or NaN: the missing slot),
categorical fields by exact string (bool as "false"/"true"; other values: the other slot;
absent or null: missing). Each field's PSI (shares floored at 0.0001) or Jensen-Shannon distance
(base 2, unsmoothed) is computed with numpy and compared with the event's value.

Predictions (only when the reference has "predictions" and --output is given): the output holds
one record per accepted input record, in input order; every record is assumed accepted (the
count is checked). prediction.label is the output's "label" as text (numbers: 0 -> "0"; without
a "label" field, the reference label at the argmax of "probabilities"); prediction.score is the
largest of "probabilities" (a list, or an object label -> probability), else "score", else
"prediction", as float32 widened to float64 (null: missing).

--levels also recomputes each level (PSI warn 0.1, alert 0.2; JS warn 0.05, alert 0.08, a value
at a threshold counting as reaching it; --psi-warn etc. change them) and checks the event's
"level", and that the `drift` events are exactly the fields at warn or alert with the same
value and level. A level that differs only because the value is within --tolerance of a
threshold is reported as a boundary case, not a failure.

Exit status: 0 when every value agrees within the tolerance; 1 when a value differs, a field is
missing on either side, a window's record count differs from the event's, or (--levels) a level
or drift event is wrong; 2 for unusable inputs (a file that cannot be read, a malformed
reference, an output whose record count is not the input's).
"""
import argparse
import json
import math
import sys

import numpy as np

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is optional
    _loads = json.loads

PSI_FLOOR = 0.0001
DEFAULT_THRESHOLDS = {"psi": (0.1, 0.2), "js": (0.05, 0.08)}


class InputError(Exception):
    """An input that cannot be used: exit 2."""


# ---------------------------------------------------------------------------------------------
# The reference profile

def _check_field(f, where):
    kind = f.get("kind")
    counts = f.get("counts")
    if kind not in ("numeric", "categorical", "text_length"):
        raise InputError("%s: kind %r: expected numeric, categorical or text_length" % (where, kind))
    if not isinstance(counts, list) or not all(isinstance(c, int) and c >= 0 for c in counts):
        raise InputError("%s: counts must be a list of non-negative integers" % where)
    if not isinstance(f.get("missing", 0), int) or f.get("missing", 0) < 0:
        raise InputError("%s: missing must be a non-negative integer" % where)
    if kind in ("numeric", "text_length"):
        edges = f.get("edges")
        if not isinstance(edges, list) or not all(isinstance(e, (int, float)) and not isinstance(e, bool)
                                                  for e in edges):
            raise InputError("%s: edges must be a list of numbers" % where)
        e = np.asarray(edges, dtype=np.float64)
        if not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise InputError("%s: edges must be finite and strictly increasing" % where)
        if len(counts) != len(edges) + 1:
            raise InputError("%s: %d counts for %d edges (need len(edges)+1)" % (where, len(counts), len(edges)))
    else:
        values = f.get("values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError("%s: values must be a list of strings" % where)
        if len(set(values)) != len(values):
            raise InputError("%s: a value is listed twice" % where)
        if len(counts) != len(values):
            raise InputError("%s: %d counts for %d values" % (where, len(counts), len(values)))
        if not isinstance(f.get("other", 0), int) or f.get("other", 0) < 0:
            raise InputError("%s: other must be a non-negative integer" % where)


def load_reference(path):
    """The reference profile, checked: a dict with "records", "fields" and maybe "predictions"."""
    try:
        with open(path, "rb") as f:
            ref = json.loads(f.read())
    except (OSError, ValueError) as e:
        raise InputError("cannot read the reference %s: %s" % (path, e)) from None
    if not isinstance(ref, dict) or not isinstance(ref.get("fields"), list):
        raise InputError("%s: not a drift reference profile (no \"fields\" list)" % path)
    records = ref.get("records")
    if not isinstance(records, int) or records <= 0:
        raise InputError("%s: \"records\" must be a positive integer" % path)
    groups = [("fields", ref["fields"])]
    if ref.get("predictions") is not None:
        if not isinstance(ref["predictions"], list):
            raise InputError("%s: \"predictions\" must be a list" % path)
        groups.append(("predictions", ref["predictions"]))
    for group, fields in groups:
        names = set()
        for i, f in enumerate(fields):
            where = "%s: %s[%d] (%s)" % (path, group, i, f.get("name") if isinstance(f, dict) else "?")
            if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                raise InputError("%s: each entry needs a name" % where)
            if f["name"] in names:
                raise InputError("%s: the name is used twice" % where)
            names.add(f["name"])
            _check_field(f, where)
            total = ref_slots(f).sum()
            if total != records:
                raise InputError("%s: sum(counts) + other + missing = %d, but records = %d" % (where, total, records))
    return ref


def ref_slots(f):
    """A profiled field's slot counts, in slot order: bins (or values, then other), then missing."""
    counts = list(f["counts"])
    if f["kind"] == "categorical":
        counts.append(f.get("other", 0))
    counts.append(f.get("missing", 0))
    return np.asarray(counts, dtype=np.int64)


def statistic_of(f):
    return "js" if f["kind"] == "categorical" else "psi"


# ---------------------------------------------------------------------------------------------
# Binning: a slot index per record

def _value_error(name, line, value, need):
    return InputError("input line %d: field %r is %s, not %s: the pipeline would have rejected the record, "
                      "but drift_check assumes every record was accepted" % (line, name, json.dumps(value), need))


def bin_values(f, values, lines=None, type_name=None):
    """The slot index of each value (None = absent or null) for profiled field f.

    numeric: np.searchsorted(edges, float64(v), side="right"); NaN or missing: the last slot.
    text_length: the same over len(v.encode("utf-8")).
    categorical: the index of the exact string in values; other: len(values); missing: len+1.
    `type_name` is the input field's type ("bool" values are "false"/"true"); `lines` the line
    number of each value, for error messages.
    """
    n = len(values)
    kind = f["kind"]
    if kind in ("numeric", "text_length"):
        edges = np.asarray(f["edges"], dtype=np.float64)
        x = np.empty(n, dtype=np.float64)
        for i, v in enumerate(values):
            if v is None:
                x[i] = np.nan
            elif kind == "numeric":
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise _value_error(f["name"], lines[i] if lines is not None else i + 1, v, "a number")
                x[i] = float(v)
            else:
                if not isinstance(v, str):
                    raise _value_error(f["name"], lines[i] if lines is not None else i + 1, v, "a string")
                x[i] = len(v.encode("utf-8"))
        slots = np.searchsorted(edges, x, side="right")
        slots[np.isnan(x)] = len(edges) + 1
        return slots.astype(np.int64)
    index = {v: i for i, v in enumerate(f["values"])}
    other, missing = len(f["values"]), len(f["values"]) + 1
    slots = np.empty(n, dtype=np.int64)
    for i, v in enumerate(values):
        if v is None:
            slots[i] = missing
            continue
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, str):
            text = v
        elif isinstance(v, int) and type_name == "int":
            text = str(v)
        else:
            need = "true or false" if type_name == "bool" else "a string"
            raise _value_error(f["name"], lines[i] if lines is not None else i + 1, v, need)
        slots[i] = index.get(text, other)
    return slots


# ---------------------------------------------------------------------------------------------
# The statistics, exactly as the spec has them

def shares(counts, total):
    return np.asarray(counts, dtype=np.float64) / float(total)


def psi(ref_counts, ref_total, win_counts, win_total):
    """PSI with each share floored at 0.0001 (no renormalisation); a slot empty on both sides adds 0."""
    ref_counts, win_counts = np.asarray(ref_counts), np.asarray(win_counts)
    e = np.maximum(shares(ref_counts, ref_total), PSI_FLOOR)
    a = np.maximum(shares(win_counts, win_total), PSI_FLOOR)
    terms = (a - e) * np.log(a / e)
    terms[(ref_counts == 0) & (win_counts == 0)] = 0.0
    return float(np.sum(terms))


def js(ref_counts, ref_total, win_counts, win_total):
    """Jensen-Shannon distance, base 2, on the unsmoothed shares (0 log 0 = 0)."""
    e = shares(ref_counts, ref_total)
    a = shares(win_counts, win_total)
    m = (a + e) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = np.where(a > 0, a * np.log2(np.where(a > 0, a, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        te = np.where(e > 0, e * np.log2(np.where(e > 0, e, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    jsd = 0.5 * float(np.sum(ta)) + 0.5 * float(np.sum(te))
    return math.sqrt(max(jsd, 0.0))


def statistic(f, ref_records, win_counts, win_total):
    compute = js if statistic_of(f) == "js" else psi
    return compute(ref_slots(f), ref_records, win_counts, win_total)


def level_of(stat, value, thresholds):
    warn, alert = thresholds[stat]
    if value >= alert:
        return "alert"
    if value >= warn:
        return "warn"
    return "ok"


# ---------------------------------------------------------------------------------------------
# Reading the run's files

def read_jsonl_columns(path, names, what):
    """Line numbers (1-based, blank lines skipped) and, per name, the values (None when absent or
    null) of the JSON-lines file at path."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError("cannot read the %s %s: %s" % (what, path, e)) from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    cols = {n: [] for n in names}
    appenders = [(n, cols[n].append) for n in names]
    numbers = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = _loads(line)
        except ValueError as e:
            raise InputError("%s %s, line %d: not JSON (%s): the pipeline would have rejected it, but "
                             "drift_check assumes every record was accepted" % (what, path, number, e)) from None
        if not isinstance(obj, dict):
            raise InputError("%s %s, line %d: not a JSON object" % (what, path, number))
        numbers.append(number)
        get = obj.get
        for n, append in appenders:
            append(get(n))
    return np.asarray(numbers, dtype=np.int64), cols


def read_events(path):
    """The event log's drift_window and drift events (other events and unreadable lines skipped)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError("cannot read the event log %s: %s" % (path, e)) from None
    windows, drifts, bad = [], [], []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            ev = _loads(line)
        except ValueError:
            bad.append(number)
            continue
        if not isinstance(ev, dict):
            continue
        if ev.get("event") == "drift_window":
            windows.append(ev)
        elif ev.get("event") == "drift":
            drifts.append(ev)
    return windows, drifts, bad


def _label_text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _as_float32(v):
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(np.float32(v))


def prediction_values(out_cols, label_values):
    """The prediction.label texts and prediction.score floats of each output record, and how
    many labels came from the argmax of probabilities (no "label" field)."""
    labels, scores, from_argmax = [], [], 0
    for label, probs, score, pred in zip(out_cols["label"], out_cols["probabilities"], out_cols["score"],
                                         out_cols["prediction"]):
        best = None
        keys = None
        if isinstance(probs, dict):
            keys, vals = list(probs.keys()), list(probs.values())
        elif isinstance(probs, list):
            vals = probs
        else:
            vals = None
        if vals:
            if any(p is None for p in vals):
                best = None   # a NaN probability: the score is missing
            else:
                best = max(_as_float32(p) for p in vals)
        elif score is not None:
            best = _as_float32(score)
        elif pred is not None:
            best = _as_float32(pred)
        scores.append(best)
        if label is None and vals and not any(p is None for p in vals):
            i = int(np.argmax(np.asarray(vals, dtype=np.float64)))
            label = keys[i] if keys is not None else (label_values[i] if label_values and i < len(label_values)
                                                      else str(i))
            from_argmax += 1
        labels.append(_label_text(label))
    return labels, scores, from_argmax


# ---------------------------------------------------------------------------------------------
# The check

def fmt(v):
    return "-" if v is None else "%.10g" % v


class Result:
    def __init__(self):
        self.rows = []         # (window, field, statistic, pipeline, python, diff, note)
        self.failures = []
        self.notes = []
        self.values = 0
        self.levels = 0
        self.windows = 0
        self.largest = (0.0, None, None)


def prepare(args_reference, args_input, args_output):
    """The reference, and the slot index of every input (and output) record for each profiled field."""
    ref = load_reference(args_reference)
    names = [f["name"] for f in ref["fields"]]
    lines, cols = read_jsonl_columns(args_input, names, "input")
    slots = {}
    for f in ref["fields"]:
        slots[f["name"]] = bin_values(f, cols[f["name"]], lines, f.get("type"))
    notes = []
    if ref.get("predictions") and args_output:
        _, out_cols = read_jsonl_columns(args_output, ["label", "probabilities", "score", "prediction"], "output")
        if len(out_cols["label"]) != len(lines):
            raise InputError("the output %s holds %d records but the input %d: drift_check assumes every record "
                             "was accepted (one output record per input record, in order)"
                             % (args_output, len(out_cols["label"]), len(lines)))
        preds = {p["name"]: p for p in ref["predictions"]}
        label_ref = preds.get("label")
        labels, scores, from_argmax = prediction_values(out_cols, label_ref["values"] if label_ref else None)
        if from_argmax:
            notes.append("%d output records have no \"label\": prediction.label is the reference label at the "
                         "argmax of their probabilities" % from_argmax)
        for p in ref["predictions"]:
            values = labels if p["name"] == "label" else scores if p["name"] == "score" else None
            if values is None:
                notes.append("reference prediction %r is neither label nor score: not checked" % p["name"])
                continue
            slots["prediction." + p["name"]] = bin_values(p, values, lines, None)
    return ref, lines, slots, notes


def check(ref, lines, slots, windows, drifts, tolerance, levels=False, thresholds=DEFAULT_THRESHOLDS,
          predictions_given=True):
    res = Result()
    specs = [(f["name"], f) for f in ref["fields"]]
    specs += [("prediction." + p["name"], p) for p in (ref.get("predictions") or []) if "prediction." + p["name"] in slots]
    expected_names = {n for n, _ in specs}
    seen_windows = set()
    level_of_field = {}
    for ev in windows:
        w = ev.get("window")
        first, last, records = ev.get("first_line"), ev.get("last_line"), ev.get("records")
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (first, last, records)):
            res.failures.append("window %s: first_line, last_line and records must be integers" % w)
            continue
        if w in seen_windows:
            res.notes.append("window %s appears more than once in the event log (several runs?)" % w)
        seen_windows.add(w)
        lo, hi = np.searchsorted(lines, first, side="left"), np.searchsorted(lines, last, side="right")
        count = int(hi - lo)
        if count != records:
            res.failures.append("window %s: lines %d..%d hold %d records in the input, the event says %d "
                                "(a rejected record, or a different input?)" % (w, first, last, count, records))
            continue
        if count == 0:
            res.failures.append("window %s: no records" % w)
            continue
        res.windows += 1
        fields = ev.get("fields") if isinstance(ev.get("fields"), list) else []
        by_name = {}
        for item in fields:
            if isinstance(item, dict) and isinstance(item.get("field"), str):
                if item["field"] in by_name:
                    res.failures.append("window %s: field %s is in the event twice" % (w, item["field"]))
                by_name[item["field"]] = item
        for name, f in specs:
            stat = statistic_of(f)
            item = by_name.get(name)
            win_counts = np.bincount(slots[name][lo:hi], minlength=len(ref_slots(f)))
            ours = statistic(f, ref["records"], win_counts, count)
            if item is None:
                res.rows.append((w, name, stat, None, ours, None, "MISSING in the event"))
                res.failures.append("window %s: field %s is not in the event" % (w, name))
                continue
            theirs = item.get("value")
            note = ""
            if item.get("statistic") != stat:
                note = "statistic %r, expected %r" % (item.get("statistic"), stat)
                res.failures.append("window %s, %s: %s" % (w, name, note))
            if isinstance(theirs, bool) or not isinstance(theirs, (int, float)):
                res.rows.append((w, name, stat, None, ours, None, "no numeric value in the event"))
                res.failures.append("window %s, %s: the event's value is %r" % (w, name, theirs))
                continue
            diff = abs(float(theirs) - ours)
            res.values += 1
            if diff > res.largest[0] or res.largest[1] is None:
                res.largest = (diff, w, name)
            if not diff <= tolerance:
                note = (note + "; " if note else "") + "DIFFERS"
                res.failures.append("window %s, %s: pipeline %s, python %s, |diff| %.3g > %g"
                                    % (w, name, fmt(theirs), fmt(ours), diff, tolerance))
            if levels:
                res.levels += 1
                want = level_of(stat, ours, thresholds)
                got = item.get("level")
                level_of_field[(w, name)] = (got, float(theirs), stat)
                if got != want:
                    near = any(abs(ours - t) <= tolerance for t in thresholds[stat])
                    if near and got in ("ok", "warn", "alert"):
                        note = (note + "; " if note else "") + "level %s vs %s at a threshold" % (got, want)
                        res.notes.append("window %s, %s: level %s, python %s: the value is within the tolerance of a "
                                         "threshold" % (w, name, got, want))
                    else:
                        note = (note + "; " if note else "") + "LEVEL %s, expected %s" % (got, want)
                        res.failures.append("window %s, %s: level %r, expected %r (value %s)"
                                            % (w, name, got, want, fmt(ours)))
                else:
                    note = (note + "; " if note else "") + "level " + got
            res.rows.append((w, name, stat, float(theirs), ours, diff, note))
        for name in by_name:
            if name not in expected_names:
                if name.startswith("prediction.") and not predictions_given:
                    continue
                res.rows.append((w, name, by_name[name].get("statistic"), by_name[name].get("value"), None, None,
                                 "MISSING in the reference"))
                res.failures.append("window %s: the event has field %s, which the reference does not profile"
                                    % (w, name))
    if levels:
        found = set()
        for d in drifts:
            key = (d.get("window"), d.get("field"))
            if key not in level_of_field:
                if key[1] and str(key[1]).startswith("prediction.") and not predictions_given:
                    continue
                res.failures.append("drift event for window %s, field %s: no such field in a checked drift_window"
                                    % key)
                continue
            found.add(key)
            got, value, stat = level_of_field[key]
            if d.get("level") != got or d.get("statistic") != stat or not isinstance(d.get("value"), (int, float)) \
                    or abs(float(d["value"]) - value) > tolerance:
                res.failures.append("drift event for window %s, field %s (%s %s, level %s) does not match its "
                                    "drift_window entry (%s %s, level %s)"
                                    % (key[0], key[1], d.get("statistic"), d.get("value"), d.get("level"), stat,
                                       fmt(value), got))
        for key, (got, value, stat) in sorted(level_of_field.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            if got in ("warn", "alert") and key not in found:
                res.failures.append("window %s, field %s is at %s but there is no drift event for it" % (key[0], key[1], got))
            if got == "ok" and key in found:
                res.failures.append("window %s, field %s is ok but has a drift event" % key)
    return res


def print_table(res, out, quiet=False):
    header = ("window", "field", "stat", "pipeline", "python", "|diff|", "")
    rows = [r for r in res.rows if not quiet or (r[6] and ("DIFF" in r[6] or "MISSING" in r[6] or "LEVEL" in r[6]
                                                         or "statistic" in r[6] or "no numeric" in r[6]))]
    text = [(str(r[0]), r[1], str(r[2]), fmt(r[3]), fmt(r[4]), "-" if r[5] is None else "%.2e" % r[5], r[6])
            for r in rows]
    if not text:
        return
    widths = [max(len(header[i]), *(len(t[i]) for t in text)) for i in range(6)]
    line = "  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i]) for i, h in enumerate(header[:6]))
    print(line, file=out)
    for t in text:
        cells = [t[i].ljust(widths[i]) if i < 2 else t[i].rjust(widths[i]) for i in range(6)]
        print(("  ".join(cells) + ("  " + t[6] if t[6] else "")).rstrip(), file=out)


def main(argv=None):
    p = argparse.ArgumentParser(description="Recompute the pipeline's drift statistics from its input (and output) "
                                            "and compare them with the drift_window events.")
    p.add_argument("--reference", required=True, help="the reference profile (JSON)")
    p.add_argument("--input", required=True, help="the run's input, JSON lines")
    p.add_argument("--events", required=True, help="the run's event log (JSON lines)")
    p.add_argument("--output", help="the run's output, JSON lines (checks prediction.label/score)")
    p.add_argument("--tolerance", type=float, default=1e-6, help="largest |pipeline - python| allowed (default 1e-6)")
    p.add_argument("--levels", action="store_true", help="also check each level and the drift events")
    p.add_argument("--psi-warn", type=float, default=DEFAULT_THRESHOLDS["psi"][0])
    p.add_argument("--psi-alert", type=float, default=DEFAULT_THRESHOLDS["psi"][1])
    p.add_argument("--js-warn", type=float, default=DEFAULT_THRESHOLDS["js"][0])
    p.add_argument("--js-alert", type=float, default=DEFAULT_THRESHOLDS["js"][1])
    p.add_argument("--quiet", action="store_true", help="print only the rows that fail, and the summary")
    args = p.parse_args(argv)
    thresholds = {"psi": (args.psi_warn, args.psi_alert), "js": (args.js_warn, args.js_alert)}
    try:
        ref, lines, slots, notes = prepare(args.reference, args.input, args.output)
        windows, drifts, bad = read_events(args.events)
    except InputError as e:
        print("drift_check: error: %s" % e, file=sys.stderr)
        return 2
    if bad:
        notes.append("event log lines %s are not JSON: skipped" % ", ".join(map(str, bad[:5])))
    if ref.get("predictions") and not args.output:
        notes.append("the reference profiles predictions but no --output was given: prediction fields not checked")
    if not windows:
        print("drift_check: error: the event log %s has no drift_window event" % args.events, file=sys.stderr)
        return 1
    res = check(ref, lines, slots, windows, drifts, args.tolerance, args.levels, thresholds,
                predictions_given=bool(args.output and ref.get("predictions")))
    print_table(res, sys.stdout, args.quiet)
    covered = sum(int(w.get("records", 0)) for w in windows if isinstance(w.get("records"), int))
    if covered != len(lines):
        notes.append("the windows hold %d records, the input %d" % (covered, len(lines)))
    for n in notes + res.notes:
        print("note: " + n)
    for f in res.failures:
        print("FAIL: " + f)
    diff, w, name = res.largest
    print("drift_check: %d windows checked, %d values checked%s, largest |diff| %.3g%s (tolerance %g): %s"
          % (res.windows, res.values, ", %d levels" % res.levels if args.levels else "", diff,
             " (window %s, %s)" % (w, name) if name else "", args.tolerance,
             "OK" if not res.failures else "FAILED (%d)" % len(res.failures)))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
