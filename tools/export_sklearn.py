#!/usr/bin/env python3
"""Exports a fitted scikit-learn model to the pipeline: pipeline.toml + the estimator as ONNX.

A Pipeline of a ColumnTransformer (the preprocessing) and an estimator becomes
- `[[input.field]]`: one field per input column the preprocessing reads (and passthrough fields),
- `[[feature]]`: one feature per column and transformer, in the ColumnTransformer's output order,
  with the fitted parameters (means, scales, categories, bin edges, vocabularies, idf weights),
- `[model]`: the estimator alone, converted by skl2onnx (zipmap=False) to model.onnx,
- `[output]`: labels from `classes_` (classifiers: integer classes as TOML integers, so that the
  output writes them as JSON numbers, as the model has them; others as strings) or the
  prediction (regressors),
so that `pipeline up -f OUT_DIR/pipeline.toml` gives `pipeline.predict_proba` (within float32
rounding: the pipeline computes in float32 where scikit-learn uses float64).

The shorter shapes work the same way: make_pipeline(StandardScaler(), model) (any preprocessing
below that treats every column alike) is that preprocessing over each column of X;
make_pipeline(HashingVectorizer(), model) (or TfidfVectorizer, CountVectorizer) is one text field;
a bare estimator reads each column of X as it is (`identity`). Columns are named from the
DataFrame the model was fitted on, or `columns`, else x0, x1, … ("text" for a text field).

Before anything is written, `pipeline check` runs on the result (the binary: --pipeline, else
`pipeline` on PATH, else the repository's .build/release or .build/debug): a model the engine
cannot run (e.g. an SVC's SVMClassifier operator) is an error naming the operator, and no file
is left behind.

Library:
    from export_sklearn import export
    export(pipeline, columns={"text": "string", "amount": "float"}, out_dir="out")

Command line (a pickled pipeline):
    python3 tools/export_sklearn.py model.pkl --out-dir out --columns text:string,amount:float
    [--pipeline PATH | --no-check] [--verbose] [--profile-data train.csv|train.jsonl [--profile-bins 10]]

With training data (profile_data=DataFrame, --profile-data FILE), it also writes the drift
reference profile OUT_DIR/reference.json (the format `pipeline profile` writes: binned input
fields and predictions) and a `[drift] reference = "reference.json"` table in pipeline.toml.

Translated (inside the ColumnTransformer, alone or as a Pipeline of SimpleImputer then one of
them): StandardScaler, MinMaxScaler, SimpleImputer, FunctionTransformer(np.log1p) and
FunctionTransformer() / "passthrough", KBinsDiscretizer, OneHotEncoder, FeatureHasher
(input_type="string", one column), HashingVectorizer, TfidfVectorizer, CountVectorizer and
Pipeline(CountVectorizer, TfidfTransformer). Anything else is an ExportError naming it and saying
what is accepted; a converter failure is two lines (--verbose: skl2onnx's whole traceback).
"""
import argparse
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import numpy as np

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
MAX_HASH_COLUMNS = 1 << 24


class ExportError(Exception):
    """The pipeline cannot be translated; the message says which part and why, in a few lines.
    `details`, when set, holds what was cut (a converter's whole traceback)."""

    details = None


# ---------------------------------------------------------------------------------------------
# TOML writing

def toml_string(s):
    if not isinstance(s, str):
        raise ExportError("expected a string, got %r" % (s,))
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0xD800 <= o <= 0xDFFF:
            raise ExportError("the string %r holds a lone surrogate, which UTF-8 cannot carry" % (s,))
        elif o < 0x20 or o == 0x7F:
            out.append("\\u%04X" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_number(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)   # the shortest text that reads back to the same float64


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return toml_number(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, (list, tuple)):
        items = [toml_value(x) for x in v]
        if sum(len(i) + 2 for i in items) <= 80:
            return "[" + ", ".join(items) + "]"
        lines, line = [], ""
        for item in items:
            if line and len(line) + len(item) > 96:
                lines.append(line)
                line = ""
            line += item + ", "
        lines.append(line)
        return "[\n" + "\n".join("    " + l.rstrip() for l in lines) + "\n]"
    raise ExportError("cannot write %r to TOML" % (v,))


def class_labels(classes):
    """`classes_` as `[output] labels`: integer classes (y of 0 and 1: int64) stay integers, as
    skl2onnx's classlabels_ints and the output's JSON numbers have them; anything else (strings,
    booleans, floats) is written as its text."""
    classes = list(classes)
    if all(isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) for c in classes):
        return [int(c) for c in classes]
    return [str(c) for c in classes]


# ---------------------------------------------------------------------------------------------
# One output block of the ColumnTransformer: the features it becomes.

class Feature:
    """One [[feature]]: the field it reads, its kind and keys, its width and whether it
    handles a missing value the way scikit-learn does."""

    def __init__(self, field, kind, keys, width, field_type, handles_missing, comment=None):
        self.field, self.kind, self.keys, self.width = field, kind, keys, width
        self.field_type, self.handles_missing, self.comment = field_type, handles_missing, comment


def _type_name(obj):
    return type(obj).__name__


def _is_log1p(func):
    return func is np.log1p


def _check_text_vectorizer(v, where):
    if v.analyzer not in ("word", "char", "char_wb"):
        raise ExportError("%s: analyzer=%r: only \"word\", \"char\" and \"char_wb\" are supported" % (where, v.analyzer))
    for attr in ("preprocessor", "tokenizer"):
        if getattr(v, attr, None) is not None:
            raise ExportError("%s: a custom %s cannot be translated; leave it None" % (where, attr))
    if getattr(v, "strip_accents", None) is not None:
        raise ExportError("%s: strip_accents=%r is not supported; leave it None" % (where, v.strip_accents))
    if v.analyzer == "word" and v.token_pattern != DEFAULT_TOKEN_PATTERN:
        raise ExportError("%s: token_pattern=%r is not supported; only the default %r" %
                          (where, v.token_pattern, DEFAULT_TOKEN_PATTERN))
    if getattr(v, "input", "content") != "content":
        raise ExportError("%s: input=%r: only input=\"content\" (the text itself) is supported" % (where, v.input))
    min_n, max_n = v.ngram_range
    if not 1 <= min_n <= max_n <= 64:
        raise ExportError("%s: ngram_range=%r: need 1 <= min_n <= max_n <= 64" % (where, v.ngram_range))
    keys = {"analyzer": v.analyzer, "lowercase": bool(v.lowercase), "ngram_range": [int(min_n), int(max_n)]}
    if v.analyzer == "word":
        stop = v.get_stop_words()
        if stop:
            keys["stop_words"] = sorted(str(w) for w in stop)
    return keys


def _norm(v, where):
    if v.norm is None:
        return "none"
    if v.norm in ("l1", "l2"):
        return v.norm
    raise ExportError("%s: norm=%r: only \"l1\", \"l2\" or None are supported" % (where, v.norm))


def _vocabulary(v):
    terms = [None] * len(v.vocabulary_)
    for term, index in v.vocabulary_.items():
        terms[int(index)] = str(term)
    if any(t is None for t in terms):
        raise ExportError("the vocabulary's columns are not 0..n-1")
    return terms


def _categories_type(cats, where):
    """The field type a OneHotEncoder's fitted categories need, and their spelling."""
    values = list(cats)
    if any(c is None or (isinstance(c, float) and math.isnan(c)) for c in values):
        raise ExportError("%s: a missing value (None/NaN) is one of the categories; impute it first "
                          "(Pipeline(SimpleImputer(...), OneHotEncoder(...)))" % where)
    if all(isinstance(c, str) for c in values):
        return "string", [str(c) for c in values]
    if all(isinstance(c, (bool, np.bool_)) for c in values):
        raise ExportError("%s: bool categories are not supported; use an int or string column" % where)
    if all(isinstance(c, (int, np.integer)) for c in values):
        return "int", [str(int(c)) for c in values]
    if all(isinstance(c, (float, np.floating)) and float(c).is_integer() for c in values):
        return "int", [str(int(c)) for c in values]
    raise ExportError("%s: categories %r: only strings or integers are supported" % (where, values[:5]))


class Translator:
    """Turns one fitted transformer over some columns into features."""

    def __init__(self, names):
        self.names = names   # column index -> input name

    def translate(self, transformer, columns, one_d, where):
        if isinstance(transformer, str):
            if transformer == "drop":
                return []
            if transformer == "passthrough":
                return [Feature(self.names[c], "identity", {}, 1, "float", False) for c in columns]
            raise ExportError("%s: unknown transformer %r" % (where, transformer))
        from sklearn.pipeline import Pipeline
        if isinstance(transformer, Pipeline):
            return self.pipeline(transformer, columns, one_d, where)
        return self.single(transformer, columns, one_d, where, fills=None)

    def pipeline(self, pipe, columns, one_d, where):
        steps = [s for _, s in pipe.steps if s not in (None, "passthrough")]
        return self.chain(steps, columns, one_d, where)

    def chain(self, steps, columns, one_d, where, refused=None):
        """The features of fitted transformers applied one after the other to `columns`;
        `refused` ends the message when their sequence is not one that translates."""
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
        from sklearn.impute import SimpleImputer
        if len(steps) == 2 and isinstance(steps[0], CountVectorizer) and not isinstance(steps[0], TfidfVectorizer) \
                and isinstance(steps[1], TfidfTransformer):
            return [self.count_tfidf(steps[0], steps[1], columns, one_d, where)]
        if len(steps) == 1:
            return self.single(steps[0], columns, one_d, where + " > " + _type_name(steps[0]), fills=None)
        if len(steps) == 2 and isinstance(steps[0], SimpleImputer):
            fills = self.imputer_fills(steps[0], columns, where + " > SimpleImputer")
            return self.single(steps[1], columns, one_d, where + " > " + _type_name(steps[1]), fills=fills)
        raise ExportError("%s: a Pipeline of %s cannot be translated: supported are one transformer, "
                          "SimpleImputer followed by one transformer, or CountVectorizer followed by "
                          "TfidfTransformer%s" % (where, " → ".join(_type_name(s) for s in steps),
                                                  ". " + refused if refused else ""))

    def imputer_fills(self, imputer, columns, where):
        if imputer.add_indicator:
            raise ExportError("%s: add_indicator=True is not supported" % where)
        mv = imputer.missing_values
        if not (mv is None or (isinstance(mv, float) and math.isnan(mv))):
            raise ExportError("%s: missing_values=%r: only np.nan or None (a missing field) are supported"
                              % (where, mv))
        stats = list(imputer.statistics_)
        if len(stats) != len(columns):
            raise ExportError("%s: %d statistics for %d columns (all-missing columns dropped at fit?)"
                              % (where, len(stats), len(columns)))
        for s in stats:
            if s is None or (isinstance(s, (float, np.floating)) and math.isnan(s)):
                raise ExportError("%s: a column was all missing when fitted (no fill value)" % where)
        return stats

    def single(self, t, columns, one_d, where, fills):
        from sklearn.feature_extraction import FeatureHasher
        from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MinMaxScaler, OneHotEncoder,
                                           StandardScaler)
        names = [self.names[c] for c in columns]

        def numeric_fill(i):
            if fills is None:
                return {}
            value = fills[i]
            if isinstance(value, str):
                raise ExportError("%s: the imputer fills %r, a string, before a numeric transformer" % (where, value))
            return {"fill": float(value)}

        def text_only():
            if fills is not None:
                raise ExportError("%s: a SimpleImputer before a text vectorizer is not supported (a missing "
                                  "text is an empty document in the pipeline)" % where)
            if not one_d or len(columns) != 1:
                raise ExportError("%s: a text vectorizer must select one column as a 1-D column (a single "
                                  "name or index, not a list)" % where)

        if isinstance(t, StandardScaler):
            out = []
            for i, name in enumerate(names):
                mean = float(t.mean_[i]) if t.with_mean else 0.0
                std = float(t.scale_[i]) if t.with_std else 1.0
                keys = {"mean": mean, "std": std}
                keys.update(numeric_fill(i))
                out.append(Feature(name, "standardize", keys, 1, "float", "fill" in keys))
            return out
        if isinstance(t, MinMaxScaler):
            lo, hi = (float(v) for v in t.feature_range)
            out = []
            for i, name in enumerate(names):
                dmin, dmax = float(t.data_min_[i]), float(t.data_max_[i])
                # The pipeline recomputes scale_ and min_ from these: check it gets the same.
                rng = dmax - dmin
                scale = (hi - lo) / (1.0 if rng < 10 * np.finfo(np.float64).eps else rng)
                if scale != float(t.scale_[i]) or lo - dmin * scale != float(t.min_[i]):
                    raise ExportError("%s: scale_/min_ of column %r do not follow from data_min_/data_max_ "
                                      "(set by hand?)" % (where, name))
                keys = {"min": dmin, "max": dmax}
                if (lo, hi) != (0.0, 1.0):
                    keys["feature_range"] = [lo, hi]
                if t.clip:
                    keys["clip"] = True
                keys.update(numeric_fill(i))
                out.append(Feature(name, "minmax", keys, 1, "float", "fill" in keys))
            return out
        if isinstance(t, SimpleImputer):
            stats = self.imputer_fills(t, columns, where)
            out = []
            for name, value in zip(names, stats):
                if isinstance(value, str):
                    raise ExportError("%s: imputes the string %r for %r but nothing encodes it: follow it "
                                      "with a OneHotEncoder in a Pipeline" % (where, value, name))
                out.append(Feature(name, "impute", {"fill": float(value)}, 1, "float", True))
            return out
        if isinstance(t, FunctionTransformer):
            if t.kw_args:
                raise ExportError("%s: kw_args are not supported" % where)
            if t.func is None:
                kind = "identity"
            elif _is_log1p(t.func):
                kind = "log1p"
            else:
                raise ExportError("%s: FunctionTransformer(%r): only np.log1p or no function (identity) can "
                                  "be translated" % (where, t.func))
            out = []
            for i, name in enumerate(names):
                keys = numeric_fill(i)
                out.append(Feature(name, kind, keys, 1, "float", "fill" in keys))
            return out
        if isinstance(t, KBinsDiscretizer):
            if t.encode not in ("onehot", "onehot-dense", "ordinal"):
                raise ExportError("%s: encode=%r is not supported" % (where, t.encode))
            out = []
            for i, name in enumerate(names):
                edges = [float(e) for e in t.bin_edges_[i]]
                if len(edges) - 1 != int(t.n_bins_[i]):
                    raise ExportError("%s: bin_edges_ and n_bins_ disagree for %r" % (where, name))
                encode = "ordinal" if t.encode == "ordinal" else "onehot"
                keys = {"edges": edges, "encode": encode}
                keys.update(numeric_fill(i))
                width = 1 if encode == "ordinal" else len(edges) - 1
                out.append(Feature(name, "bucketize", keys, width, "float", "fill" in keys))
            return out
        if isinstance(t, OneHotEncoder):
            infrequent = getattr(t, "infrequent_categories_", None)
            if infrequent is not None and any(c is not None for c in infrequent):
                raise ExportError("%s: infrequent categories (min_frequency/max_categories) are not supported"
                                  % where)
            out = []
            drop_idx = getattr(t, "drop_idx_", None)
            for i, name in enumerate(names):
                ftype, cats = _categories_type(t.categories_[i], "%s, column %r" % (where, name))
                keys = {"categories": cats}
                if drop_idx is not None and drop_idx[i] is not None:
                    keys["drop"] = cats[int(drop_idx[i])]
                comment = None
                if t.handle_unknown == "error":
                    comment = ("handle_unknown=\"error\" in scikit-learn, which raises on an unknown category; "
                               "here it encodes as all zeros")
                if fills is not None:
                    value = fills[i]
                    if ftype == "int":
                        if isinstance(value, str) or not float(value).is_integer():
                            raise ExportError("%s: fill %r for the int column %r" % (where, value, name))
                        keys["fill"] = str(int(value))
                    else:
                        if not isinstance(value, str):
                            raise ExportError("%s: fill %r for the string column %r" % (where, value, name))
                        keys["fill"] = value
                width = len(cats) - (1 if "drop" in keys else 0)
                # A missing value is an unknown category to scikit-learn: all zeros with
                # handle_unknown="ignore", as in the pipeline; an error with "error", so the
                # pipeline requires the field instead.
                handles = "fill" in keys or t.handle_unknown != "error"
                out.append(Feature(name, "onehot", keys, width, ftype, handles, comment))
            return out
        if isinstance(t, FeatureHasher):
            if t.input_type != "string":
                raise ExportError("%s: input_type=%r: only \"string\" is supported" % (where, t.input_type))
            if one_d or len(columns) != 1:
                raise ExportError("%s: FeatureHasher(input_type=\"string\") must read exactly one column, "
                                  "selected as a list ([name]): several columns would hash into one space"
                                  % where)
            if not 1 <= t.n_features <= MAX_HASH_COLUMNS:
                raise ExportError("%s: n_features=%d: at most 2^24 are supported" % (where, t.n_features))
            keys = {"n_features": int(t.n_features), "alternate_sign": bool(t.alternate_sign)}
            if fills is not None:
                if not isinstance(fills[0], str):
                    raise ExportError("%s: fill %r for a string column" % (where, fills[0]))
                keys["fill"] = fills[0]
            return [Feature(names[0], "hash", keys, int(t.n_features), "string", fills is not None)]
        if isinstance(t, HashingVectorizer):
            text_only()
            if not 1 <= t.n_features <= MAX_HASH_COLUMNS:
                raise ExportError("%s: n_features=%d: at most 2^24 are supported" % (where, t.n_features))
            keys = {"n_features": int(t.n_features), "alternate_sign": bool(t.alternate_sign),
                    "norm": _norm(t, where), "binary": bool(t.binary)}
            keys.update(_check_text_vectorizer(t, where))
            return [Feature(names[0], "text_hash", keys, int(t.n_features), "string", False)]
        if isinstance(t, TfidfVectorizer):
            text_only()
            keys = {"vocabulary": _vocabulary(t)}
            if t.use_idf:
                keys["idf"] = [float(x) for x in t.idf_]
            keys.update({"sublinear_tf": bool(t.sublinear_tf), "norm": _norm(t, where), "binary": bool(t.binary)})
            keys.update(_check_text_vectorizer(t, where))
            return [Feature(names[0], "tfidf", keys, len(keys["vocabulary"]), "string", False)]
        if isinstance(t, CountVectorizer):
            text_only()
            keys = {"vocabulary": _vocabulary(t), "norm": "none", "binary": bool(t.binary)}
            keys.update(_check_text_vectorizer(t, where))
            return [Feature(names[0], "tfidf", keys, len(keys["vocabulary"]), "string", False,
                            "CountVectorizer: counts, as tfidf without idf weights or norm")]
        raise ExportError("%s: %s cannot be translated. Supported: StandardScaler, MinMaxScaler, SimpleImputer, "
                          "FunctionTransformer(np.log1p), KBinsDiscretizer, OneHotEncoder, FeatureHasher, "
                          "HashingVectorizer, TfidfVectorizer, CountVectorizer (alone or after a SimpleImputer "
                          "in a Pipeline)" % (where, _type_name(t)))

    def count_tfidf(self, counter, tfidf, columns, one_d, where):
        if not one_d or len(columns) != 1:
            raise ExportError("%s: a text vectorizer must select one column as a 1-D column" % where)
        keys = {"vocabulary": _vocabulary(counter)}
        if tfidf.use_idf:
            keys["idf"] = [float(x) for x in tfidf.idf_]
        keys.update({"sublinear_tf": bool(tfidf.sublinear_tf), "norm": _norm(tfidf, where),
                     "binary": bool(counter.binary)})
        keys.update(_check_text_vectorizer(counter, where))
        return Feature(self.names[columns[0]], "tfidf", keys, len(keys["vocabulary"]), "string", False)


# ---------------------------------------------------------------------------------------------
# The whole pipeline

# The shapes translate() accepts, ending every refusal of a model's overall shape.
ACCEPTED = ("Accepted: a fitted estimator alone (each column of X becomes an identity feature); "
            "make_pipeline(PREPROCESSING, estimator) where PREPROCESSING treats every column alike "
            "(StandardScaler, MinMaxScaler, SimpleImputer, FunctionTransformer(np.log1p), KBinsDiscretizer or "
            "OneHotEncoder, alone or after a SimpleImputer) or is one text vectorizer over a single column of "
            "texts (HashingVectorizer, TfidfVectorizer, CountVectorizer, or CountVectorizer then "
            "TfidfTransformer); and make_pipeline(ColumnTransformer([...]), estimator). Anything else: wrap its "
            "preprocessing as make_pipeline(ColumnTransformer([(name, transformer, columns), ...]), model) "
            "and fit it again")

# A bare estimator this wide was fitted on vectorized text or one-hot columns, not on X's columns.
MAX_BARE_COLUMNS = 10_000


def _describe(model):
    from sklearn.pipeline import Pipeline
    if isinstance(model, Pipeline):
        return " → ".join(_type_name(s) for _, s in model.steps)
    return _type_name(model)


def _names_and_types(columns):
    """The names, in order, and the types (name -> type) given as `columns`: a list or a dict."""
    if isinstance(columns, str):
        columns = [columns]
    if isinstance(columns, dict):
        names, types = [str(k) for k in columns], {str(k): v for k, v in columns.items() if v is not None}
    else:
        names, types = [str(c) for c in columns], {}
    for name, kind in types.items():
        if kind not in ("float", "int", "string", "bool"):
            raise ExportError("column %r: type %r: use float, int, string or bool" % (name, kind))
    return names, types


def _column_names(fitted, n, columns, notes=None):
    """X's column names in order, and the types `columns` gives for some of them.

    fitted: the column names the first step was fitted with (a DataFrame's), or None; n: X's width.
    With no names from either, the columns are named x0, x1, … and `notes` says so; without
    `notes`, that is an error (a ColumnTransformer's selections are read by name).
    """
    fitted_names = [str(c) for c in fitted] if fitted is not None else None
    if columns is None:
        if fitted_names is not None:
            return fitted_names, {}
        if notes is None:
            raise ExportError("the ColumnTransformer was fitted on an array without column names: pass "
                              "columns=[...] (one name per column of X, in order)")
        notes.append("X had no column names (an array): the input fields are x0 … x%d, in X's column order; "
                     "fit on a DataFrame or pass columns=[...] (--columns NAME:TYPE,...) to name them" % (n - 1))
        return ["x%d" % i for i in range(n)], {}
    names, types = _names_and_types(columns)
    if fitted_names is not None:
        unknown = [c for c in names if c not in fitted_names]
        if unknown:
            raise ExportError("columns %r are not among the fitted columns %r" % (unknown, fitted_names))
        return fitted_names, types
    if len(names) != n:
        raise ExportError("columns has %d names but X had %d columns when fitted" % (len(names), n))
    return names, types


def _text_name(columns, notes):
    """The field a lone text vectorizer reads (its X was a list of texts, no column name)."""
    if columns is None:
        notes.append("X was a list of texts: the input field is \"text\"; pass columns=[\"NAME\"] "
                     "(--columns NAME) to name it")
        return "text", {}
    names, types = _names_and_types(columns)
    if len(names) != 1:
        raise ExportError("the text vectorizer reads one column of texts, but columns names %d: give one name"
                          % len(names))
    return names[0], types


def _resolve(selection, names, n):
    """Column indices a ColumnTransformer selection picks, and whether it is 1-D."""
    if isinstance(selection, (str, int, np.integer)):
        return [_index(selection, names)], True
    if isinstance(selection, slice):
        return list(range(n))[selection], False
    arr = np.asarray(selection)
    if arr.dtype == bool:
        return [i for i, b in enumerate(arr) if b], False
    return [_index(c, names) for c in arr.tolist()], False


def _index(c, names):
    if isinstance(c, (int, np.integer)):
        return int(c)
    if c in names:
        return names.index(c)
    raise ExportError("the column %r is not among %r" % (c, names))


def _column_transformer(ct, columns):
    """The features of Pipeline(ColumnTransformer, estimator), in the ColumnTransformer's output order."""
    if not hasattr(ct, "transformers_"):
        raise ExportError("the pipeline is not fitted")
    if ct.transformer_weights:
        raise ExportError("ColumnTransformer(transformer_weights=...) is not supported")
    names, types = _column_names(getattr(ct, "feature_names_in_", None), ct.n_features_in_, columns)
    translator = Translator(names)
    features = []
    for name, transformer, selection in ct.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        cols, one_d = _resolve(selection, names, ct.n_features_in_)
        if not cols:
            continue
        where = "transformer %r (%s)" % (name, _type_name(transformer))
        made = translator.translate(transformer, cols, one_d, where)
        # The ColumnTransformer knows each block's width: check ours.
        block = ct.output_indices_[name]
        if sum(f.width for f in made) != block.stop - block.start:
            raise ExportError("%s: translated to %d columns but it outputs %d" %
                              (where, sum(f.width for f in made), block.stop - block.start))
        features += [(block.start, i, f) for i, f in enumerate(made)]
    return [f for _, _, f in sorted(features, key=lambda t: (t[0], t[1]))], names, types


def _preprocessing(steps, columns, notes):
    """The features of make_pipeline(*steps, estimator): steps that treat every column of X alike,
    or one text vectorizer whose X is a list of texts."""
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
    first = steps[0]
    where = "Pipeline"
    if isinstance(first, FeatureHasher):
        raise ExportError("%s > FeatureHasher: as a Pipeline step it hashes every column of X into one space; "
                          "select one string column: make_pipeline(ColumnTransformer([(\"h\", FeatureHasher("
                          "input_type=\"string\"), [\"COLUMN\"])]), model)" % where)
    if isinstance(first, (CountVectorizer, HashingVectorizer)):
        name, types = _text_name(columns, notes)
        names, cols, one_d = [name], [0], True
    else:
        n = getattr(first, "n_features_in_", None)
        if n is None:
            raise ExportError("%s: %s does not record how many columns X had (no n_features_in_). %s"
                              % (where, _type_name(first), ACCEPTED))
        names, types = _column_names(getattr(first, "feature_names_in_", None), n, columns, notes)
        cols, one_d = list(range(n)), False
    features = Translator(names).chain(steps, cols, one_d, where, refused=ACCEPTED)
    return features, names, types


def _bare(estimator, columns, notes):
    """The features of an estimator alone: each column of X as it is."""
    n = getattr(estimator, "n_features_in_", None)
    if n is None:
        raise ExportError("%s does not record how many columns X had (no n_features_in_). %s"
                          % (_type_name(estimator), ACCEPTED))
    if n > MAX_BARE_COLUMNS:
        raise ExportError("%s was fitted on %d columns, each of which would be an input field: if X was "
                          "vectorized text or one-hot columns, export the vectorizer with it, e.g. "
                          "make_pipeline(HashingVectorizer(...), %s()). %s"
                          % (_type_name(estimator), n, _type_name(estimator), ACCEPTED))
    names, types = _column_names(getattr(estimator, "feature_names_in_", None), n, columns, notes)
    return [Feature(name, "identity", {}, 1, "float", False) for name in names], names, types


def _check_fitted(estimator):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ExportError("the estimator %s is not fitted: fit the model first" % _type_name(estimator)) from None


def translate(model, columns=None, notes=None):
    """The input fields and features of a fitted model, and the estimator to convert.

    The model is one of: Pipeline(ColumnTransformer, estimator); Pipeline(preprocessing, estimator),
    the preprocessing treating every column alike or being one text vectorizer; an estimator alone.
    Returns (fields, features, estimator): fields is a list of (name, type, required) in input
    column order, features a list of Feature in model-input order. Guesses it had to make (column
    names) are appended to `notes`.
    """
    fields, features, estimator, _ = _translate(model, columns, notes)
    return fields, features, estimator


def _translate(model, columns=None, notes=None):
    """translate(), and X's column names in order (a lone text vectorizer's: its one field)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    notes = [] if notes is None else notes
    steps = [s for _, s in model.steps if s not in (None, "passthrough")] if isinstance(model, Pipeline) else [model]
    estimator = steps[-1] if steps else None
    if estimator is None or isinstance(estimator, (Pipeline, ColumnTransformer)) or not hasattr(estimator, "predict"):
        got = _describe(model) if steps else "an empty Pipeline"
        raise ExportError("expected a fitted estimator, or a Pipeline ending in one; got %s, which does not "
                          "predict: add the model after it (e.g. make_pipeline(%s, LogisticRegression())). %s"
                          % (got, ", ".join(_type_name(s) + "()" for s in steps), ACCEPTED))
    if any(isinstance(s, ColumnTransformer) for s in steps[1:-1]) or (
            isinstance(steps[0], ColumnTransformer) and len(steps) > 2):
        raise ExportError("Pipeline %s: a ColumnTransformer must be the only step before the estimator: move "
                          "the other steps into its transformers. %s" % (_describe(model), ACCEPTED))
    if isinstance(steps[0], ColumnTransformer):
        features, names, types = _column_transformer(steps[0], columns)
    elif len(steps) > 1:
        _check_fitted(estimator)
        features, names, types = _preprocessing(steps[:-1], columns, notes)
    else:
        _check_fitted(estimator)
        features, names, types = _bare(estimator, columns, notes)
    width = sum(f.width for f in features)
    expected = getattr(estimator, "n_features_in_", width)
    if width != expected:
        raise ExportError("the features make %d columns but the estimator takes %d" % (width, expected))
    return _fields(features, names, types), features, estimator, names


def _fields(features, names, types):
    """Each input field the features read, with its type and whether a record needs it."""
    field_types, required = {}, {}
    for f in features:
        given = types.get(f.field)
        kind = given or f.field_type
        if f.field_type == "float" and given in ("int", "bool"):
            kind = given
        if f.field_type != kind and not (f.field_type == "float" and kind in ("int", "bool")):
            raise ExportError("column %r: its type %r does not suit kind %r (needs %s)" %
                              (f.field, kind, f.kind, f.field_type))
        if f.field in field_types and field_types[f.field] != kind:
            raise ExportError("column %r is read as %s by one transformer and as %s by another" %
                              (f.field, field_types[f.field], kind))
        field_types[f.field] = kind
        required[f.field] = required.get(f.field, False) or not f.handles_missing
    return [(n, field_types[n], required[n]) for n in names if n in field_types]


def _run_name(name):
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name).lstrip(".")
    return cleaned or "sklearn"


def _to_onnx(estimator, width, path):
    from onnx import helper
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "classes_") else None
    try:
        with warnings.catch_warnings():
            # skl2onnx reads attributes scikit-learn has deprecated (an SVC's probA_): noise the user
            # cannot act on.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            model = convert_sklearn(estimator, initial_types=[("input", FloatTensorType([None, width]))],
                                    options=options, target_opset={"": 13, "ai.onnx.ml": 1})
    except Exception as e:  # skl2onnx raises many types, some with messages of pages: keep two lines
        lines = str(e).strip().splitlines()
        first = lines[0].strip() if lines else ""
        if len(first) > 240:
            first = first[:240] + "…"
        error = ExportError("skl2onnx cannot convert %s: %s%s\n"
                            "hint: skl2onnx has no converter for it or failed on its settings; the pipeline runs "
                            "linear models, MLPs, trees, forests and gradient boosting (README \"Models\"); "
                            "--verbose shows skl2onnx's whole message and traceback"
                            % (_type_name(estimator), type(e).__name__, ": " + first if first else ""))
        error.details = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        raise error from None
    # skl2onnx gathers opsets in a set (order varies with PYTHONHASHSEED): sort for stable bytes.
    opsets = sorted((o.domain, o.version) for o in model.opset_import)
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    float_outputs = [o.name for o in model.graph.output if o.type.tensor_type.elem_type == 1]
    if not float_outputs:
        raise ExportError("the ONNX model of %s has no float output" % _type_name(estimator))
    return float_outputs[0] if len(float_outputs) == 1 else (
        "probabilities" if "probabilities" in float_outputs else float_outputs[0])


# ---------------------------------------------------------------------------------------------
# The engine's check: `pipeline check` on the files before they are written

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_pipeline(path=None):
    """The `pipeline` binary to check exports with: `path`, else `pipeline` on PATH, else the
    newer of the repository's .build/release/pipeline and .build/debug/pipeline.

    Raises: ExportError saying how to build one when there is none.
    """
    if path:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        raise ExportError("--pipeline %s: no such executable. Build it with `swift build -c release` in %s "
                          "(it is then .build/release/pipeline), or pass --no-check to write the files without "
                          "checking that the engine runs them" % (path, REPOSITORY))
    found = shutil.which("pipeline")
    if found:
        return found
    built = [os.path.join(REPOSITORY, ".build", c, "pipeline") for c in ("release", "debug")]
    built = [p for p in built if os.path.isfile(p) and os.access(p, os.X_OK)]
    if built:
        return max(built, key=os.path.getmtime)
    raise ExportError("no `pipeline` binary to check the model with: none on PATH, none in %s/.build/release or "
                      ".build/debug. Build it with `swift build -c release` in %s, or pass --pipeline PATH; "
                      "--no-check writes the files without checking that the engine runs them"
                      % (REPOSITORY, REPOSITORY))


def _engine_check(binary, config_path, staging, estimator):
    """Runs `pipeline check -f config_path`; raises ExportError with the engine's reason if it fails."""
    try:
        run = subprocess.run([binary, "check", "-f", config_path], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, errors="replace", timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ExportError("cannot run `%s check`: %s" % (binary, e)) from None
    if run.returncode == 0:
        return
    text = (run.stderr.strip() or run.stdout.strip() or "exit status %d" % run.returncode).splitlines()[0]
    text = re.sub(r"^pipeline: error: ", "", text).split("; supported operators:")[0]
    node = re.search(r"node '.*", text)
    if node:   # "node 'SVMc' (SVMClassifier): operator SVMClassifier is not supported"
        raise ExportError("the engine cannot run the ONNX model skl2onnx made of %s: %s (`pipeline check`); "
                          "nothing was written. The pipeline runs linear models, MLPs, trees, forests and gradient "
                          "boosting (README \"Models\"): choose one of those, or pass --no-check to write the files "
                          "anyway" % (_type_name(estimator), node.group(0)))
    raise ExportError("`pipeline check` refused the exported files: %s; nothing was written (--no-check writes "
                      "them anyway)" % text.replace(staging + os.sep, ""))


# ---------------------------------------------------------------------------------------------
# The drift reference profile: OUT_DIR/reference.json (the format of `pipeline profile`), from the
# training data, for `[drift] reference`.

PROFILE_TOP_VALUES = 20
TEXT_KINDS = ("text_hash", "tfidf")


def _is_missing(v):
    """An absent value: None, NaN, pandas' NA or NaT."""
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(np.isnan(v))
    return type(v).__name__ in ("NAType", "NaTType")


def _numeric_profile(x, bins):
    """edges, counts and missing of float64 values x (NaN: missing): the edges are the quantiles
    j/bins, j = 1..bins-1, taken as actual values (np.quantile method="lower"), finite, strictly
    increasing (duplicates dropped); a value goes to the bin np.searchsorted(edges, v, side="right")."""
    x = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x)
    present = x[~nan]
    edges = np.empty(0)
    if present.size and bins > 1:
        q = np.array([j / bins for j in range(1, bins)], dtype=np.float64)
        edges = np.quantile(present, q, method="lower")
        edges = np.unique(edges[np.isfinite(edges)])   # sorted, each once
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
    return edges, counts, int(nan.sum())


def _edges_json(edges, integral):
    """Edges as JSON numbers: integers for int fields and byte lengths (as the spec shows them)."""
    return [int(e) if integral and float(e).is_integer() else float(e) for e in edges]


def _categorical_profile(texts, top=PROFILE_TOP_VALUES, values=None):
    """values, counts, other and missing of a list of texts (None: missing): the `top` most
    frequent values, ties broken by the value, unless `values` fixes them."""
    counts = {}
    missing = 0
    for t in texts:
        if t is None:
            missing += 1
        else:
            counts[t] = counts.get(t, 0) + 1
    if values is None:
        values = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    kept = [counts.get(v, 0) for v in values]
    other = sum(counts.values()) - sum(kept)
    return list(values), kept, other, missing


def _column(data, name):
    try:
        column = data[name]
    except (KeyError, IndexError, TypeError):
        raise ExportError("the profile data has no column %r: it needs a column for every input field the "
                          "features read" % name) from None
    return list(column.tolist() if hasattr(column, "tolist") else column)


def _texts(values, field_type, name):
    """The categorical text of each value: bool fields "false"/"true", others as strings."""
    out = []
    for v in values:
        if _is_missing(v):
            out.append(None)
        elif field_type == "bool":
            if isinstance(v, str) and v in ("false", "true"):
                out.append(v)
            elif isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer, float, np.floating))
                                                     and v in (0, 1)):
                out.append("true" if v else "false")
            else:
                raise ExportError("profile data, column %r (a bool field): %r is not a boolean" % (name, v))
        elif isinstance(v, (bool, np.bool_)):
            out.append("true" if v else "false")
        elif isinstance(v, (int, np.integer)):
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _field_profile(name, field_type, values, text, bins):
    if text:
        lengths = [np.nan if _is_missing(v) else float(len(str(v).encode("utf-8"))) for v in values]
        edges, counts, missing = _numeric_profile(lengths, bins)
        return {"name": name, "type": field_type, "kind": "text_length", "edges": _edges_json(edges, True),
                "counts": [int(c) for c in counts], "missing": missing}
    if field_type in ("float", "int"):
        try:
            x = np.array([np.nan if _is_missing(v) else float(v) for v in values], dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ExportError("profile data, column %r (a %s field): %s" % (name, field_type, e)) from None
        edges, counts, missing = _numeric_profile(x, bins)
        return {"name": name, "type": field_type, "kind": "numeric",
                "edges": _edges_json(edges, field_type == "int"), "counts": [int(c) for c in counts],
                "missing": missing}
    kept, counts, other, missing = _categorical_profile(_texts(values, field_type, name))
    return {"name": name, "type": field_type, "kind": "categorical", "values": kept, "counts": counts,
            "other": other, "missing": missing}


def _model_input(model, data, names):
    """X for the model's predict/predict_proba, from the profile data: the DataFrame's columns when
    the model was fitted on a DataFrame, a list of texts for a lone text vectorizer, else the
    columns as an array in X's order."""
    from sklearn.pipeline import Pipeline
    first = model.steps[0][1] if isinstance(model, Pipeline) else model
    fitted = getattr(first, "feature_names_in_", None)
    if fitted is not None and hasattr(data, "columns"):
        return data[[str(c) for c in fitted]]
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
    if isinstance(first, (CountVectorizer, HashingVectorizer)):
        return _column(data, names[0])
    columns = [_column(data, n) for n in names]
    try:
        return np.array(columns, dtype=np.float64).T
    except (TypeError, ValueError):
        array = np.empty((len(columns[0]) if columns else 0, len(columns)), dtype=object)
        for j, c in enumerate(columns):
            array[:, j] = [None if _is_missing(v) else v for v in c]
        return array


def _prediction_profile(model, estimator, X, bins, notes):
    """The `predictions` of the profile: label (classifiers: classes_[argmax] as text, every class
    in class order) and score (the largest probability as float32 widened to float64; regressors:
    the prediction)."""
    if hasattr(estimator, "classes_"):
        if not hasattr(model, "predict_proba"):
            notes.append("the profile has no predictions: %s has no predict_proba" % _type_name(estimator))
            return None
        proba = np.asarray(model.predict_proba(X), dtype=np.float64).astype(np.float32)
        index = np.argmax(proba, axis=1)
        score = proba[np.arange(len(proba)), index].astype(np.float64)
        labels = [str(c) for c in class_labels(estimator.classes_)]
        counts = np.bincount(index, minlength=len(labels))
        label = {"name": "label", "kind": "categorical", "values": labels, "counts": [int(c) for c in counts],
                 "other": 0, "missing": 0}
    else:
        prediction = np.asarray(model.predict(X), dtype=np.float64)
        if prediction.ndim > 1:
            prediction = prediction.reshape(len(prediction), -1)[:, 0]
        score = prediction.astype(np.float32).astype(np.float64)
        label = None
    edges, counts, missing = _numeric_profile(score, bins)
    score = {"name": "score", "kind": "numeric", "edges": _edges_json(edges, False),
             "counts": [int(c) for c in counts], "missing": missing}
    return [label, score] if label else [score]


def read_profile_data(path, fields):
    """A .csv (header line first) or .jsonl file of training records as a pandas DataFrame: string
    fields stay strings, an empty CSV cell of a number or bool field or an absent/null JSON value is
    missing; an empty CSV cell of a string field is the empty string, as the pipeline's CSV ingest
    reads it."""
    try:
        import pandas as pd
    except ImportError:
        raise ExportError("reading --profile-data needs pandas (pip install pandas)") from None
    lower = path.lower()
    try:
        if lower.endswith(".csv"):
            strings = {n: str for n, kind, _ in fields if kind == "string"}
            others = {n: [""] for n, kind, _ in fields if kind != "string"}
            return pd.read_csv(path, dtype=strings, keep_default_na=False, na_values=others)
        if lower.endswith((".jsonl", ".ndjson", ".json")):
            import json
            with open(path, "r", encoding="utf-8") as f:
                records = [json.loads(line) for line in f if line.strip()]
            return pd.DataFrame.from_records(records)
    except (OSError, ValueError) as e:
        raise ExportError("cannot read the profile data %s: %s" % (path, e)) from None
    raise ExportError("--profile-data %s: expected a .csv or .jsonl file" % path)


def make_profile(model, data, fields, features, estimator, names, bins=10, notes=None):
    """The drift reference profile (a dict, the spec's reference.json) of the training data
    `data` (a DataFrame with a column per input field): every field the features read, and the
    model's predictions on the same data."""
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 1:
        raise ExportError("profile_bins=%r: need an integer >= 1" % (bins,))
    notes = [] if notes is None else notes
    text_fields = {f.field for f in features if f.kind in TEXT_KINDS}
    columns = {n: _column(data, n) for n, _, _ in fields}
    records = len(next(iter(columns.values()))) if columns else len(data)
    if records == 0:
        raise ExportError("the profile data has no records")
    profile = {"profile": "pipeline drift reference", "version": 1, "records": records, "fields": []}
    for name, kind, _ in fields:
        profile["fields"].append(_field_profile(name, kind, columns[name], name in text_fields, bins))
    try:
        X = _model_input(model, data, names)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # "X has feature names, but … was fitted without"
            predictions = _prediction_profile(model, estimator, X, bins, notes)
    except ExportError:
        raise
    except Exception as e:
        raise ExportError("the model cannot predict on the profile data: %s: %s" % (type(e).__name__, e)) from None
    if predictions:
        profile["predictions"] = predictions
    return profile


def profile_json(profile):
    """The profile as text: one field per line, as readable as it is diffable."""
    import json
    head = {k: v for k, v in profile.items() if k not in ("fields", "predictions")}
    lines = ["{" + json.dumps(head)[1:-1] + ","]
    groups = [("fields", profile["fields"])] + ([("predictions", profile["predictions"])]
                                               if profile.get("predictions") else [])
    for g, (key, items) in enumerate(groups):
        lines.append('  "%s": [' % key)
        for i, item in enumerate(items):
            lines.append("    " + json.dumps(item, ensure_ascii=False) + ("," if i < len(items) - 1 else ""))
        lines.append("  ]" + ("," if g < len(groups) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Writing it out

def _config_text(model, fields, features, estimator, output_name, out_dir, name, passthrough, input_format,
                 output_format, model_file, config_file, notes, reference_file=None):
    width = sum(f.width for f in features)
    known = {n for n, _, _ in fields}
    lines = ["# Exported from scikit-learn by tools/export_sklearn.py: %s" % _describe(model),
             "# `pipeline up -f %s` reproduces pipeline.predict_proba (float32 here, float64 there)." % config_file]
    lines += ["# Note: " + n for n in notes]
    lines += ["", "[pipeline]",
              "name = %s" % toml_string(_run_name(name or os.path.basename(os.path.abspath(out_dir)))),
              "", "[input]", "format = %s" % toml_string(input_format), ""]
    for n, kind, required in fields:
        lines += ["[[input.field]]", "name = %s" % toml_string(n), "type = %s" % toml_string(kind),
                  "required = %s" % ("true" if required else "false"), ""]
    for n, kind in passthrough.items():
        if n in known:
            continue
        if kind not in ("float", "int", "string", "bool"):
            raise ExportError("passthrough field %r: type %r: use float, int, string or bool" % (n, kind))
        lines += ["[[input.field]]", "name = %s" % toml_string(n), "type = %s" % toml_string(kind),
                  "required = false", ""]
    lines.append("# The model input, in order: %d columns." % width)
    for f in features:
        lines.append("[[feature]]")
        if f.comment:
            lines.append("# " + f.comment)
        lines += ["field = %s" % toml_string(f.field), "kind = %s" % toml_string(f.kind)]
        lines += ["%s = %s" % (k, toml_value(v)) for k, v in f.keys.items()]
        lines.append("")
    lines += ["[model]", "path = %s" % toml_string(model_file), "output = %s" % toml_string(output_name), "",
              "[output]", "format = %s" % toml_string(output_format)]
    if passthrough:
        lines.append("passthrough = %s" % toml_value(list(passthrough)))
    if hasattr(estimator, "classes_"):
        lines.append("labels = %s" % toml_value(class_labels(estimator.classes_)))
        lines.append('fields = ["label", "score", "probabilities"]')
    else:
        lines.append('fields = ["prediction"]')
    if reference_file:
        lines += ["", "[drift]", "reference = %s" % toml_string(reference_file)]
    return "\n".join(lines) + "\n"


def export(pipeline, columns=None, out_dir=".", name=None, passthrough=None, input_format="jsonl",
           output_format="jsonl", model_file="model.onnx", config_file="pipeline.toml", check=True,
           pipeline_binary=None, profile_data=None, profile_bins=10, reference_file="reference.json"):
    """Writes OUT_DIR/pipeline.toml and OUT_DIR/model.onnx for a fitted model, once the engine
    (`pipeline check`) has accepted them.

    Parameters:
        pipeline: a fitted Pipeline(ColumnTransformer, estimator); a fitted Pipeline(preprocessing,
            estimator) whose preprocessing treats every column alike (e.g. StandardScaler) or is one
            text vectorizer (HashingVectorizer, TfidfVectorizer, CountVectorizer); or a fitted
            estimator alone (each column of X an `identity` feature).
        columns: the input columns, in X's order: a list of names, or a dict name -> type
            ("float", "int", "string", "bool"; None: inferred); may be omitted when the model was
            fitted on a DataFrame (its column names are used; types are inferred from the
            transformers). Without names, a lone text vectorizer's field is "text" and other
            columns are x0, x1, … (the result's notes say so); a ColumnTransformer needs names.
        out_dir: where to write (created if needed).
        name: `[pipeline] name` (default: the directory's name).
        passthrough: dict name -> type of input fields copied to each output record, first
            (e.g. {"id": "int"}); a field the features read can be named with its type too.
        input_format, output_format: "jsonl" or "csv".
        check: run `pipeline check` on the files first and write nothing if it fails.
        pipeline_binary: the `pipeline` to check with (default: see find_pipeline).
        profile_data: optional training data, a DataFrame with a column per input field (or the
            path of a .csv or .jsonl file of them): writes OUT_DIR/reference.json, the drift
            reference profile (`pipeline profile`'s format), and `[drift] reference` in the config.
            Numeric fields: edges at the quantiles j/profile_bins (j = 1..profile_bins-1) taken as
            data values (np.quantile method="lower"), duplicates dropped; string and bool fields: the
            20 most frequent values (ties by value), other, missing; text fields: the same as numeric
            over the UTF-8 byte length; predictions: the label (classes_[argmax], as text) and the
            score (the largest probability as float32) of predict_proba on the same data
            (regressors: the score, the prediction).
        profile_bins: how many quantile bins numeric fields get (default 10).
        reference_file: the profile's name inside out_dir (default reference.json).
    Returns: a dict with the paths written (reference: None without profile_data), the
        model-input width, the feature list, the notes (names it had to choose) and the binary
        that checked the files (None without check).
    Raises: ExportError naming the transformer or estimator that cannot be translated or converted,
        or the operator the engine does not run. Its message is a few lines; a converter failure
        keeps skl2onnx's whole traceback in its `details`.
    """
    notes = []
    fields, features, estimator, names = _translate(pipeline, columns, notes)
    width = sum(f.width for f in features)
    profile = None
    if profile_data is not None:
        if isinstance(profile_data, (str, os.PathLike)):
            profile_data = read_profile_data(os.fspath(profile_data), fields)
        profile = make_profile(pipeline, profile_data, fields, features, estimator, names, profile_bins, notes)
    for f in (model_file, config_file) + ((reference_file,) if profile else ()):
        if os.path.isabs(f) or os.path.normpath(f).startswith(".."):
            raise ExportError("%r: model_file, config_file and reference_file are paths inside out_dir" % f)
    binary = find_pipeline(pipeline_binary) if check else None
    # Everything is made in a scratch directory and moved to out_dir once checked, so that a model
    # the engine refuses leaves nothing behind.
    staging = tempfile.mkdtemp(prefix="export_sklearn-")
    try:
        staged_model, staged_config = os.path.join(staging, model_file), os.path.join(staging, config_file)
        for f in (staged_model, staged_config):
            os.makedirs(os.path.dirname(f), exist_ok=True)
        output_name = _to_onnx(estimator, width, staged_model)
        text = _config_text(pipeline, fields, features, estimator, output_name, out_dir, name,
                            dict(passthrough or {}), input_format, output_format, model_file, config_file, notes,
                            reference_file if profile else None)
        with open(staged_config, "w", encoding="utf-8") as out:
            out.write(text)
        moves = [(staged_model, os.path.join(out_dir, model_file)), (staged_config, os.path.join(out_dir, config_file))]
        reference_path = None
        if profile:
            staged_reference = os.path.join(staging, reference_file)
            os.makedirs(os.path.dirname(staged_reference), exist_ok=True)
            with open(staged_reference, "w", encoding="utf-8") as out:
                out.write(profile_json(profile))
            reference_path = os.path.join(out_dir, reference_file)
            moves.append((staged_reference, reference_path))
        if binary:
            _engine_check(binary, staged_config, staging, estimator)
        model_path, config_path = moves[0][1], moves[1][1]
        for staged, final in moves:
            os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
            shutil.move(staged, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"config": config_path, "model": model_path, "reference": reference_path, "width": width,
            "features": features, "notes": notes, "checked_with": binary}


def _parse_columns(text):
    """name:type,... as a dict; a name without a type maps to None (inferred)."""
    if not text:
        return None
    out = {}
    for item in text.split(","):
        name, _, kind = item.partition(":")
        out[name.strip()] = kind.strip() or None
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a pickled, fitted scikit-learn model (an estimator, "
                                            "make_pipeline(preprocessing, estimator) or Pipeline(ColumnTransformer, "
                                            "estimator)) to pipeline.toml + model.onnx, checked by `pipeline check`.")
    p.add_argument("pickle", help="the fitted model, pickled (pickle or joblib)")
    p.add_argument("--out-dir", default=".", help="where to write pipeline.toml and model.onnx")
    p.add_argument("--columns", help="X's columns in order, name[:type],... (types: float, int, string, bool; "
                                     "default: inferred); not needed for a model fitted on a DataFrame")
    p.add_argument("--passthrough", help="fields copied to the output, name:type,...")
    p.add_argument("--name", help="[pipeline] name (default: the output directory's name)")
    p.add_argument("--format", default="jsonl", choices=["jsonl", "csv"], help="input format")
    p.add_argument("--pipeline", metavar="PATH", help="the `pipeline` binary that checks the export (default: "
                                                      "`pipeline` on PATH, else the repository's newer of "
                                                      ".build/release/pipeline and .build/debug/pipeline)")
    p.add_argument("--no-check", action="store_true", help="write the files without `pipeline check`")
    p.add_argument("--profile-data", metavar="FILE", help="training records (.csv with a header, or .jsonl): also "
                                                          "write the drift reference profile OUT_DIR/reference.json "
                                                          "and `[drift] reference` in pipeline.toml")
    p.add_argument("--profile-bins", type=int, default=10, metavar="N",
                   help="quantile bins of the profile's numeric fields (default 10)")
    p.add_argument("--verbose", action="store_true", help="on a converter failure, print its whole traceback")
    args = p.parse_args(argv)
    try:
        with open(args.pickle, "rb") as f:
            pipeline = pickle.load(f)
    except Exception as e:
        try:
            import joblib
            pipeline = joblib.load(args.pickle)
        except Exception:
            print("export_sklearn: error: cannot load %s: %s" % (args.pickle, e), file=sys.stderr)
            return 2
    passthrough = _parse_columns(args.passthrough)
    untyped = [n for n, kind in (passthrough or {}).items() if kind is None]
    if untyped:
        print("export_sklearn: error: --passthrough %s: give each field a type (name:float, int, string or bool)"
              % ",".join(untyped), file=sys.stderr)
        return 2
    try:
        result = export(pipeline, columns=_parse_columns(args.columns), out_dir=args.out_dir, name=args.name,
                        passthrough=passthrough, input_format=args.format, check=not args.no_check,
                        pipeline_binary=args.pipeline, profile_data=args.profile_data,
                        profile_bins=args.profile_bins)
    except ExportError as e:
        print("export_sklearn: error: %s" % e, file=sys.stderr)
        if args.verbose and e.details:
            print(e.details, file=sys.stderr, end="")
        return 1
    for note in result["notes"]:
        print("export_sklearn: note: %s" % note, file=sys.stderr)
    checked = ("checked by %s check" % result["checked_with"]) if result["checked_with"] else "not checked (--no-check)"
    count = len(result["features"])
    print("wrote %s%s and %s (%d model-input columns, %d feature%s; %s)" %
          (result["config"], ", " + result["reference"] if result["reference"] else "", result["model"],
           result["width"], count, "" if count == 1 else "s", checked), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
