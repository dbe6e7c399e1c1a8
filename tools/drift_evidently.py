#!/usr/bin/env python3
"""The pipeline's drift statistics beside Evidently's, for the same windows.

    python3 tools/drift_evidently.py --reference reference.json --input records.jsonl \\
        --events events.log [--output output.jsonl] [--reference-data reference.jsonl
        [--reference-output reference-output.jsonl]] [--windows N] [--quiet]

Same inputs as tools/drift_check.py. For each drift_window event and each profiled field it prints
- ours: PSI / JS distance computed as the spec says (drift_check.py's numpy code);
- evidently, fed our bins: Evidently's own stat tests (`psi_stat_test`, `jensenshannon_stat_test`
  of evidently.legacy.calculations.stattests, what `Report([ValueDrift(column, method="psi")])`
  runs) on our slots: the reference as the slot of each profiled record (np.repeat of the
  reference counts), the window as the slot of each record, the missing slot included, given as
  a categorical column so that Evidently keeps one bin per slot. For JS also the same function
  with base=2 (`_jensenshannon(..., base=2)`), which Evidently's StatTest call does not pass;
- evidently, its own binning (with --reference-data, the raw records the profile was made from;
  predictions with --reference-output, the pipeline's output on them): the stat test on the raw
  values, cleaned as Evidently's get_one_column_drift cleans them, numeric and text-length fields
  as numerical columns, string and bool fields (bool as "false"/"true") as categorical ones.
The first window is also run through the public API (Report + ValueDrift) to show that it gives
the stat-test functions' values.

Evidently used: 0.7.23 (pip install evidently; it needs pandas < 3: with pandas 3.0.1 it fails at
import, `cannot import name 'infer_dtype_from_object' from 'pandas.core.dtypes.common'`, so it was
installed in a virtual environment with pandas 2.3.3: python3 -m venv --system-site-packages
/tmp/evvenv && /tmp/evvenv/bin/pip install evidently "pandas<3"; about 600 MB with its
dependencies). nannyml was not needed.

Why the values differ (evidently 0.7.23, evidently/legacy/calculations/):
With our bins, Evidently's PSI equals ours exactly whenever no share is below 0.0001 (every slot
share is 0 or at least 0.0001 on both sides, and a side with an empty slot has no nonzero share
of 0.0001 or less): stattests/psi.py `_psi` (lines 37-56) sums (ref - cur) * ln(ref / cur), the
same terms as ours, over the shares from stattests/utils.py `get_binned_data` (lines 16-60),
which for a categorical column counts every value seen in either sample (lines 38-42; a slot
empty on both sides is left out, as it contributes 0 in ours). The shares differ only in the
smoothing: `get_binned_data` with feel_zeroes=True (lines 44-58) replaces only the zero shares,
by 0.0001, or by (smallest nonzero share)/10**6 when that sample's smallest nonzero share is
<= 0.0001, and leaves small nonzero shares as they are; we floor every share at 0.0001
(max(share, 0.0001)). So a slot holding a single record of a 10,000-record window (share
exactly 0.0001) beside an empty slot makes Evidently use 1e-10 for the empty one, a term ours
caps at 0.0001 (reference shares .5/.3/.198/.001/.001, window counts 5000/3000/1999/1/0: ours
0.00416, Evidently 0.0182). Evidently's JS distance with our bins is ours times sqrt(ln 2) = 0.8326:
stattests/jensenshannon.py `_jensenshannon` (lines 38-60) takes unsmoothed shares
(feel_zeroes=False, line 58), as we do, and calls scipy.spatial.distance.jensenshannon with
base=None (line 44, and the StatTest call passes none), i.e. natural logarithms, where the spec
says base 2; called with base=2 it equals ours. With its own binning the numbers differ more:
for a numerical column with more than 20 distinct reference values (utils.py lines 29-31),
`get_binned_data` cuts equal-width bins over the range of the reference and the current window
together, as many as numpy's Sturges rule gives (np.histogram_bin_edges(..., bins="sturges"),
line 33: log2(n) + 1, about 18 for 100,000 + 10,000 values), recomputed for every window, where
we use fixed reference quantile bins (deciles: about 10% of the reference each); equal-width bins
put little mass in the tails, so the same shift gives other shares and another PSI. With 20
distinct values or fewer, and for categorical columns, every value is its own bin (no top-20 and
"other" grouping as in our profile). And calculations/data_drift.py `get_one_column_drift`
(lines 102-174) drops missing and infinite values from both samples first (lines 140 and 149),
so there is no missing slot and the shares are over the present values only.
"""
import argparse
import math
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drift_check as dc  # noqa: E402


def _evidently():
    try:
        import evidently
        import pandas as pd
        from evidently.legacy.calculations.stattests import jensenshannon_stat_test, psi_stat_test
        from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
        from evidently.legacy.core import ColumnType
    except Exception as e:   # ImportError, or evidently failing at import (pandas 3)
        raise dc.InputError("cannot import evidently (%s: %s). Install it: pip install evidently; evidently 0.7 "
                            "needs pandas < 3, e.g. in a virtual environment: python3 -m venv "
                            "--system-site-packages /tmp/evvenv && /tmp/evvenv/bin/pip install evidently "
                            "'pandas<3', then run this script with /tmp/evvenv/bin/python"
                            % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")) from None
    return evidently, pd, psi_stat_test, jensenshannon_stat_test, _jensenshannon, ColumnType


def raw_values(f, values):
    """A profiled field's raw values as Evidently gets them: floats (NaN when missing) for numeric
    fields, UTF-8 byte lengths for text_length ones, "false"/"true" and strings (None) otherwise."""
    if f["kind"] == "numeric":
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64), "num"
    if f["kind"] == "text_length":
        return np.array([np.nan if v is None else float(len(v.encode("utf-8"))) for v in values],
                        dtype=np.float64), "num"
    out = []
    for v in values:
        if v is None:
            out.append(None)
        elif isinstance(v, bool):
            out.append("true" if v else "false")
        else:
            out.append(str(v))
    return np.array(out, dtype=object), "cat"


def clean(pd, values):
    """As get_one_column_drift (legacy/calculations/data_drift.py lines 140, 149): inf -> NaN, dropna."""
    s = pd.Series(values)
    return s.replace([-np.inf, np.inf], np.nan).dropna().reset_index(drop=True)


def main(argv=None):
    p = argparse.ArgumentParser(description="Print the pipeline's drift statistics beside Evidently's.")
    p.add_argument("--reference", required=True, help="the reference profile (JSON)")
    p.add_argument("--input", required=True, help="the run's input, JSON lines")
    p.add_argument("--events", required=True, help="the run's event log")
    p.add_argument("--output", help="the run's output (prediction fields)")
    p.add_argument("--reference-data", help="the raw records the profile was made from (JSON lines): adds "
                                            "Evidently's values with its own binning")
    p.add_argument("--reference-output", help="the pipeline's output on --reference-data: the same for the "
                                              "prediction fields")
    p.add_argument("--windows", type=int, help="only the first N windows")
    p.add_argument("--quiet", action="store_true", help="only the summary")
    args = p.parse_args(argv)
    try:
        evidently, pd, psi_test, js_test, js_func, ColumnType = _evidently()
        ref, lines, slots, notes = dc.prepare(args.reference, args.input, args.output)
        windows, _, _ = dc.read_events(args.events)
        specs = [(f["name"], f) for f in ref["fields"]]
        specs += [("prediction." + q["name"], q) for q in (ref.get("predictions") or [])
                  if "prediction." + q["name"] in slots]
        raw = own_ref = None
        if args.reference_data:
            names = [f["name"] for f in ref["fields"]]
            _, cols = dc.read_jsonl_columns(args.input, names, "input")
            _, ref_cols = dc.read_jsonl_columns(args.reference_data, names, "reference data")
            raw = {f["name"]: raw_values(f, cols[f["name"]]) for f in ref["fields"]}
            own_ref = {f["name"]: raw_values(f, ref_cols[f["name"]]) for f in ref["fields"]}
            if args.output and args.reference_output and ref.get("predictions"):
                wanted = ["label", "probabilities", "score", "prediction"]
                _, out_cols = dc.read_jsonl_columns(args.output, wanted, "output")
                _, ref_out = dc.read_jsonl_columns(args.reference_output, wanted, "reference output")
                label_values = next((q["values"] for q in ref["predictions"] if q["name"] == "label"), None)
                for cols_, target in ((out_cols, raw), (ref_out, own_ref)):
                    labels, scores, _ = dc.prediction_values(cols_, label_values)
                    target["prediction.label"] = (np.array(labels, dtype=object), "cat")
                    target["prediction.score"] = (np.array([np.nan if s is None else s for s in scores]), "num")
            n_ref = len(next(iter(own_ref.values()))[0]) if own_ref else 0
            if n_ref != ref["records"]:
                notes.append("--reference-data holds %d records, the profile %d: is it the profile's data?"
                             % (n_ref, ref["records"]))
    except dc.InputError as e:
        print("drift_evidently: error: %s" % e, file=sys.stderr)
        return 2
    windows = windows[:args.windows] if args.windows else windows
    if not windows:
        print("drift_evidently: error: no drift_window event in %s" % args.events, file=sys.stderr)
        return 1

    # The reference as Evidently gets our bins: the slot of each profiled record.
    fed_ref = {name: pd.Series(np.repeat(np.arange(len(dc.ref_slots(f))), dc.ref_slots(f))) for name, f in specs}
    own_ref_series = {name: (clean(pd, v), kind) for name, (v, kind) in (own_ref or {}).items()}

    rows = []
    fed_psi_diff, fed_js_diff, fed_js_ratio = [], [], []
    psi_disagree = []
    api_check = []
    warnings.simplefilter("ignore")
    for ev in windows:
        w, first, last = ev.get("window"), ev.get("first_line"), ev.get("last_line")
        lo, hi = np.searchsorted(lines, first, side="left"), np.searchsorted(lines, last, side="right")
        if hi - lo != ev.get("records"):
            print("note: window %s: %d records on lines %s..%s, the event says %s: skipped"
                  % (w, hi - lo, first, last, ev.get("records")))
            continue
        for name, f in specs:
            stat = dc.statistic_of(f)
            win = slots[name][lo:hi]
            ours = dc.statistic(f, ref["records"], np.bincount(win, minlength=len(dc.ref_slots(f))), int(hi - lo))
            cur = pd.Series(win)
            if stat == "psi":
                fed = float(psi_test(fed_ref[name], cur, ColumnType.Categorical, 0.1).drift_score)
                fed2 = None
                fed_psi_diff.append(abs(fed - ours))
                if abs(fed - ours) > 1e-9:
                    psi_disagree.append((w, name))
            else:
                fed = float(js_test(fed_ref[name], cur, ColumnType.Categorical, 0.1).drift_score)
                fed2 = float(js_func(fed_ref[name], cur, ColumnType.Categorical, 0.1, base=2)[0])
                fed_js_diff.append(abs(fed2 - ours))
                if ours > 0:
                    fed_js_ratio.append(fed / ours)
            own = None
            if name in own_ref_series:
                ref_s, kind = own_ref_series[name]
                cur_s = clean(pd, raw[name][0][lo:hi])
                ctype = ColumnType.Numerical if kind == "num" else ColumnType.Categorical
                test = psi_test if stat == "psi" else js_test
                own = float(test(ref_s, cur_s, ctype, 0.1).drift_score)
                if len(api_check) < len(specs) and w == windows[0].get("window") and not name.startswith("prediction."):
                    api_check.append((name, stat, kind, own, ref_s, cur_s))
            rows.append((w, name, stat, ours, fed, fed2, own))

    if not args.quiet:
        head = ("window", "field", "stat", "ours", "ev(our bins)", "ev base 2", "ev(own bins)", "")
        text = []
        for w, name, stat, ours, fed, fed2, own in rows:
            mark = ""
            if stat == "psi" and abs(fed - ours) > 1e-9:
                mark = "smoothing differs"
            text.append((str(w), name, stat, "%.6g" % ours, "%.6g" % fed, "-" if fed2 is None else "%.6g" % fed2,
                         "-" if own is None else "%.6g" % own, mark))
        widths = [max(len(head[i]), *(len(t[i]) for t in text)) for i in range(7)]
        print("  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i]) for i, h in enumerate(head[:7])))
        for t in text:
            cells = [t[i].ljust(widths[i]) if i < 2 else t[i].rjust(widths[i]) for i in range(7)]
            print(("  ".join(cells) + "  " + t[7]).rstrip())

    # The public API on the first window gives the stat-test functions' values.
    if api_check:
        from evidently import DataDefinition, Dataset, Report
        from evidently.metrics import ValueDrift
        ref_df = pd.DataFrame({n: s for n, _, _, _, s, _ in api_check})
        cur_df = pd.DataFrame({n: s for n, _, _, _, _, s in api_check})
        definition = DataDefinition(numerical_columns=[n for n, _, k, _, _, _ in api_check if k == "num"],
                                    categorical_columns=[n for n, _, k, _, _, _ in api_check if k == "cat"])
        metrics = [ValueDrift(column=n, method="psi" if s == "psi" else "jensenshannon") for n, s, *_ in api_check]
        try:
            snapshot = Report(metrics).run(Dataset.from_pandas(cur_df, data_definition=definition),
                                           Dataset.from_pandas(ref_df, data_definition=definition))
            values = [m["value"] for m in snapshot.dict()["metrics"]]
            same = all(abs(v - c[3]) <= 1e-12 for v, c in zip(values, api_check))
            print("Report([ValueDrift ...]) on window %s: %s -> %s" % (
                windows[0].get("window"), ", ".join("%s %.6g" % (c[0], v) for v, c in zip(values, api_check)),
                "the same as the stat-test calls" if same else "DIFFERENT from the stat-test calls"))
        except Exception as e:   # columns of unequal lengths after dropna, API changes: say so, go on
            print("note: the Report API check did not run: %s: %s" % (type(e).__name__, e))

    for n in notes:
        print("note: " + n)
    print("evidently %s; %d windows, %d values" % (evidently.__version__, len({r[0] for r in rows}), len(rows)))
    if fed_psi_diff:
        print("PSI, Evidently fed our bins: largest |evidently - ours| %.3g; %d of %d agree within 1e-9%s"
              % (max(fed_psi_diff), len(fed_psi_diff) - len(psi_disagree), len(fed_psi_diff),
                 "" if not psi_disagree else " (the others: its zero-share smoothing, e.g. window %s %s)"
                 % psi_disagree[0]))
    if fed_js_diff:
        print("JS, Evidently fed our bins with base=2: largest |evidently - ours| %.3g over %d values; its default "
              "(natural log) is ours x %.6f (sqrt(ln 2) = %.6f)"
              % (max(fed_js_diff), len(fed_js_diff), float(np.median(fed_js_ratio)) if fed_js_ratio else float("nan"),
                 math.sqrt(math.log(2))))
    owns = [(r[1], r[2], r[3], r[6]) for r in rows if r[6] is not None]
    if owns:
        for name in dict.fromkeys(n for n, *_ in owns):
            vals = [(o, e) for n, s, o, e in owns if n == name]
            print("%s, Evidently's own binning: ours max %.4g, evidently max %.4g, largest |difference| %.3g"
                  % (name, max(o for o, _ in vals), max(e for _, e in vals), max(abs(o - e) for o, e in vals)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
