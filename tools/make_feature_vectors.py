#!/usr/bin/env python3
"""Writes the scikit-learn reference vectors the featurize tests compare against.

    python3 tools/make_feature_vectors.py [OUT_DIR]      # default: Tests/FeaturizeTests

- SklearnVectors.swift: numeric kinds, hash and onehot; expected floats as float32 bit patterns,
  compared bit for bit.
- SklearnTextVectors.swift: text_hash (HashingVectorizer) and tfidf (TfidfVectorizer) over an
  awkward corpus (Unicode letters and digits, underscores, punctuation only, emoji, empty and
  white-space-only documents, a very long document), as CSR arrays; values as float64 bit patterns.
- PythonUnicodeTables.swift: this Python's `\w`, assigned code points, `str.lower()` and
  Final_Sigma context classes for every code point, to measure the Swift side against.

The inputs are fixed (seeded), so re-running the script gives the same files.
"""
import json
import os
import re
import struct
import sys
import unicodedata
import warnings

import numpy as np
import sklearn
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MinMaxScaler, OneHotEncoder,
                                   StandardScaler)
from sklearn.utils import murmurhash3_32

rng = np.random.default_rng(20261)


def f32bits(x):
    return "0x%08X" % struct.unpack("<I", struct.pack("<f", np.float32(x)))[0]


def f64(x):
    # repr() of a Python float reads back to the same float64 in Swift too.
    if np.isnan(x):
        return ".nan"
    if np.isinf(x):
        return "-.infinity" if x < 0 else ".infinity"
    if x != 0 and abs(x) < 2.2250738585072014e-308:
        return float(x).hex()  # a subnormal: Swift warns that its decimal literal "underflows"
    return repr(float(x))


def swift_string(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            out.append("\\u{%X}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def awkward_inputs():
    xs = [float("nan"), 0.0, -0.0, 1.0, -1.0, 52.0, 1e-300, -1e300, 1e300, 123456.789, 0.1, 3.3e38, 3.5e38, -3.5e38]
    xs += list(rng.normal(50, 30, 8)) + list(rng.uniform(-1e6, 1e6, 4)) + list(rng.uniform(-1e-6, 1e-6, 3))
    return xs


def standardize_cases():
    # (mean, std) pairs; std 0 is treated as 1 exactly as StandardScaler's _handle_zeros_in_scale does.
    params = [(52.0, 30.0), (0.0, 1.0), (-3.25, 0.1), (1e6, 1e-3), (0.3, 0.0), (123.456, 7.89e5)]
    cases = []
    for mean, std in params:
        scaler = StandardScaler()
        scaler.mean_ = np.array([mean])
        scaler.scale_ = np.array([std if std != 0 else 1.0])
        scaler.var_ = scaler.scale_ ** 2
        scaler.n_features_in_ = 1
        scaler.n_samples_seen_ = 2
        xs = awkward_inputs()
        ys = scaler.transform(np.array(xs, dtype=np.float64).reshape(-1, 1)).ravel().astype(np.float32)
        cases.append((mean, std, xs, ys))
    return cases


def minmax_cases():
    # (min, max): fitted on exactly those two values, so scale_ and min_ are sklearn's own.
    params = [(0.0, 1.0), (-5.0, 5.0), (52.0, 300.0), (0.1, 0.7), (7.0, 7.0), (1.0, 1.0 + 1e-15), (-1e6, 3e6)]
    cases = []
    for lo, hi in params:
        scaler = MinMaxScaler().fit(np.array([[lo], [hi]], dtype=np.float64))
        xs = awkward_inputs()
        ys = scaler.transform(np.array(xs, dtype=np.float64).reshape(-1, 1)).ravel().astype(np.float32)
        cases.append((lo, hi, xs, ys))
    return cases


def int32_min_key():
    """An ASCII string whose signed MurmurHash3 is Int32.min, found by inverting the hash."""
    M = 0xFFFFFFFF
    c1, c2 = 0xCC9E2D51, 0x1B873593

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & M

    def rotr(x, r):
        return ((x >> r) | (x << (32 - r))) & M

    def inv(a):
        return pow(a, -1, 1 << 32)

    def unxorshift(x, s):
        y = x
        for _ in range(32 // s + 1):
            y = x ^ (y >> s)
        return y & M

    def unfmix(h):
        h = unxorshift(h, 16)
        h = (h * inv(0xC2B2AE35)) & M
        h = unxorshift(h, 13)
        h = (h * inv(0x85EBCA6B)) & M
        return unxorshift(h, 16)

    def block(h, k):
        k = (k * c1) & M
        k = rotl(k, 15)
        k = (k * c2) & M
        h ^= k
        h = rotl(h, 13)
        return (h * 5 + 0xE6546B64) & M

    target = unfmix(0x80000000) ^ 8  # state after both blocks, before the length and fmix
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    for n in range(1, 10**7):
        first = bytes(alphabet[(n // 36**i) % 36] for i in range(4))
        h1 = block(0, struct.unpack("<I", first)[0])
        mixed = rotr(((target - 0xE6546B64) * inv(5)) & M, 13) ^ h1
        k = (rotr((mixed * inv(c2)) & M, 15) * inv(c1)) & M
        second = struct.pack("<I", k)
        if all(0x21 <= b <= 0x7E and b not in b'"\\' for b in second):
            key = (first + second).decode("ascii")
            assert murmurhash3_32(key, seed=0, positive=False) == -(2**31)
            return key
    raise SystemExit("no Int32.min key found")


def hash_cases():
    strings = ["US", "DE", "fraud", "a", "ab", "abc", "abcd", "abcde", "Zürich", "日本語", "emoji 🎉", "x" * 100,
               "with space", "\t\n", "é", "e\u0301", int32_min_key()]
    strings += ["user-%d" % i for i in range(8)]
    cases = []
    for buckets in [1, 7, 1024, 1 << 20, 2**31 - 1]:
        hasher = FeatureHasher(n_features=buckets, input_type="string", alternate_sign=True)
        X = hasher.transform([[s] for s in strings]).tocsr()
        for row, s in enumerate(strings):
            lo, hi = X.indptr[row], X.indptr[row + 1]
            assert hi - lo == 1, (s, buckets)
            cases.append((s, buckets, int(X.indices[lo]), float(X.data[lo]),
                          murmurhash3_32(s, seed=0, positive=False)))
    # What scikit-learn does with an empty string (the stage emits nothing for it: see FeatureHasher.swift).
    empty = FeatureHasher(n_features=16, input_type="string").transform([[""]]).tocsr()
    return cases, (int(empty.indices[0]), float(empty.data[0]))


def onehot_cases():
    cats = ["US", "DE", "FR", "Zürich", "7"]
    values = ["US", "FR", "XX", "", "Zürich", "zürich", "7", "DE"]
    enc = OneHotEncoder(categories=[cats], handle_unknown="ignore").fit(np.array([[c] for c in cats], dtype=object))
    rows = enc.transform(np.array([[v] for v in values], dtype=object)).toarray()
    return cats, list(zip(values, [list(map(int, r)) for r in rows]))


# ---------------------------------------------------------------------------------------------
# Kinds added with scikit-learn's parameter names (a second generator, so the vectors above
# stay byte-identical when re-run).

rng2 = np.random.default_rng(20262)


def edge_inputs():
    xs = [0.0, -0.0, 1.0, -1.0, -2.0, -1.5, 0.5, 1e-300, -1e-300, 1e300, -1e300, 3.5e38, 2.5, 7.0, 52.0, 1e6]
    return xs + list(rng2.normal(10, 20, 8))


def minmax_range_cases():
    # (min, max, feature_range, clip)
    params = [(0.0, 10.0, (-1.0, 1.0), False), (0.0, 10.0, (-1.0, 1.0), True), (-5.0, 5.0, (2.0, 3.0), True),
              (3.0, 3.0, (-1.0, 1.0), False), (0.1, 0.7, (0.0, 100.0), True), (-1e6, 3e6, (-0.5, 0.25), False)]
    cases = []
    for lo, hi, frange, clip in params:
        scaler = MinMaxScaler(feature_range=frange, clip=clip).fit(np.array([[lo], [hi]]))
        xs = [float("nan")] + edge_inputs()
        ys = scaler.transform(np.array(xs).reshape(-1, 1)).ravel().astype(np.float32)
        cases.append((lo, hi, frange, clip, xs, ys))
    return cases


def impute_cases():
    """(fill, mean, std or None for impute alone, inputs, outputs): SimpleImputer then StandardScaler."""
    cases = []
    for fill, mean, std in [(0.0, None, None), (-7.25, None, None), (3.5, 52.0, 30.0), (0.0, 1.0, 0.0)]:
        xs = [float("nan"), float("nan")] + edge_inputs()
        imputer = SimpleImputer(strategy="constant", fill_value=fill)
        if std is None:
            model = imputer.fit(np.array([[1.0]]))
        else:
            scaler = StandardScaler()
            scaler.mean_, scaler.scale_ = np.array([mean]), np.array([std if std != 0 else 1.0])
            scaler.var_, scaler.n_features_in_, scaler.n_samples_seen_ = scaler.scale_ ** 2, 1, 2
            imputer.fit(np.array([[1.0]]))
            model = make_pipeline(imputer, scaler)
        ys = model.transform(np.array(xs).reshape(-1, 1)).ravel().astype(np.float32)
        cases.append((fill, mean, std, xs, ys))
    # A fitted mean strategy: the fill is statistics_, whatever the data.
    data = np.array([[1.0], [np.nan], [2.5], [10.0]])
    imputer = SimpleImputer(strategy="mean").fit(data)
    xs = [float("nan"), 1.0, 2.0]
    cases.append((float(imputer.statistics_[0]), None, None, xs,
                  imputer.transform(np.array(xs).reshape(-1, 1)).ravel().astype(np.float32)))
    return cases


def log1p_cases():
    xs = [float("nan"), 0.0, -0.0, -1.0, -2.0, -0.5, -1e-20, 1e-20, 1e-10, 0.5, 1.0, 2.718281828459045, 1e6, 1e300,
          3.5e38, -0.9999999999]
    xs += list(rng2.uniform(-1, 100, 12)) + list(rng2.lognormal(0, 5, 8))
    ys = FunctionTransformer(np.log1p).transform(np.array(xs).reshape(-1, 1)).ravel().astype(np.float32)
    return xs, ys


def bucketize_cases():
    """(edges, inputs, ordinal bins): KBinsDiscretizer fitted several ways, applied to its own
    edges (values on edges), values between and beyond them. NaN is refused by scikit-learn."""
    warnings.simplefilter("ignore")
    train = np.concatenate([rng2.normal(0, 10, 200), [-50.0, 75.0]]).reshape(-1, 1)
    cases = []
    for n_bins, strategy in [(4, "uniform"), (5, "quantile"), (3, "kmeans"), (2, "uniform")]:
        kb = KBinsDiscretizer(n_bins=n_bins, strategy=strategy, encode="ordinal").fit(train)
        cases.append(kb.bin_edges_[0])
    constant = KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="uniform").fit(np.array([[2.0], [2.0]]))
    cases.append(constant.bin_edges_[0])   # [-inf, inf]: one bin
    cases.append(np.array([0.0, 1.0, 1.0, 2.0]))  # a repeated inner edge (searchsorted still defines it)
    out = []
    for edges in cases:
        xs = list(edges[np.isfinite(edges)]) + [np.nextafter(e, -np.inf) for e in edges if np.isfinite(e)]
        xs += [np.nextafter(e, np.inf) for e in edges if np.isfinite(e)] + [-1e300, 1e300, 0.0, -0.0]
        xs += list(rng2.normal(0, 20, 6))
        # A fitted discretizer whose edges are replaced (n_bins >= 2 to fit; the edges decide).
        kb = KBinsDiscretizer(n_bins=2, encode="ordinal", strategy="uniform").fit(np.array([[0.0], [1.0]]))
        kb.bin_edges_ = np.empty(1, dtype=object)
        kb.bin_edges_[0] = np.asarray(edges, dtype=np.float64)
        kb.n_bins_ = np.array([len(edges) - 1])
        ordinal = kb.transform(np.array(xs).reshape(-1, 1)).ravel()
        kb_hot = KBinsDiscretizer(n_bins=2, encode="onehot-dense", strategy="uniform").fit(
            np.array([[0.0], [1.0]]))
        kb_hot.bin_edges_ = kb.bin_edges_
        kb_hot.n_bins_ = kb.n_bins_
        kb_hot._encoder = OneHotEncoder(categories=[np.arange(len(edges) - 1)], sparse_output=False,
                                        dtype=np.float64).fit(np.arange(len(edges) - 1).reshape(-1, 1))
        hot = kb_hot.transform(np.array(xs).reshape(-1, 1))
        assert (hot.argmax(axis=1) == ordinal).all() and (hot.sum(axis=1) == 1).all()
        out.append((list(edges), [float(x) for x in xs], [int(b) for b in ordinal]))
    return out


def onehot_drop_cases():
    cats = ["US", "DE", "FR", "Zürich", "7", ""]
    values = ["US", "FR", "XX", "", "Zürich", "zürich", "7", "DE"]
    cases = []
    for drop in ["US", "FR", "", "7"]:
        enc = OneHotEncoder(categories=[cats], drop=[drop], handle_unknown="ignore").fit(
            np.array([[c] for c in cats], dtype=object))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = enc.transform(np.array([[v] for v in values], dtype=object)).toarray()
        cases.append((drop, list(zip(values, [list(map(int, r)) for r in rows]))))
    first = OneHotEncoder(categories=[cats], drop="first", handle_unknown="ignore").fit(
        np.array([[c] for c in cats], dtype=object))
    assert list(first.drop_idx_) == [0]
    return cats, values, cases


def hash_more_cases():
    """FeatureHasher(alternate_sign=False) and the empty string, which it hashes like any other."""
    strings = ["US", "ab", "", "Zürich", "emoji 🎉", "user-3"]
    cases = []
    for buckets, alt in [(7, False), (1 << 20, False), (16, True), (1, True)]:
        X = FeatureHasher(n_features=buckets, input_type="string", alternate_sign=alt).transform(
            [[s] for s in strings]).tocsr()
        for row, s in enumerate(strings):
            lo = X.indptr[row]
            cases.append((s, buckets, alt, int(X.indices[lo]), float(X.data[lo])))
    return cases


# ---------------------------------------------------------------------------------------------
# Text: HashingVectorizer and TfidfVectorizer.

def text_corpus():
    long_words = "the quick brown fox jumps over the lazy dog while naïve Zürich cafés serve crème brûlée".split()
    long_doc = " ".join(long_words[i % len(long_words)] for i in range(4000)) + " ΤΈΛΟΣ"
    return [
        "",
        "   \t\n  ",
        "!!! ... ??? -- ,;: ()[]{} \"'` @#$%^&*",
        "a b c d e f",
        "Hello, World! Hello again: world-wide WORLD.",
        "snake_case_words and __dunder__ and _x_ and x_",
        "Zürich naïve café CAFÉ Straße STRASSE",
        "e\u0301cole école ÉCOLE",  # NFD: U+0301 is a mark, not \\w, so the NFD word splits
        "日本語のテキスト 中文文本 한국어 텍스트",
        "ΟΔΟΣ ΟΔΟΣ. Σ ΣΑΣ ΌΣΟΣ σίγμα ΑΣ'Σ",
        "İstanbul DİYARBAKIR ıi Iı",
        "ǅemal ǈubljana ǋ",
        "Ꭰ Ꭱ Ꭲ ᏣᎳᎩ cherokee",
        "digits ٣٤٥ ２０２６ ² ³ ½ Ⅻ ⅻ 𝟙𝟚 ๑๒",
        "3.14 1,000 42 007 x2 2x",
        "emoji 🎉🎉 party 👍🏽 👨‍👩‍👧 ❤️ ok",
        "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2028line\u3000ideographic",
        "sep\u001cfile\u001dgroup\u001erecord\u001funit",
        "zero\u200bwidth\u200djoiner soft\u00adhyphen",
        "mixed CASE Words with MiXeD case",
        "repeat repeat repeat repeat repeat",
        "URL https://example.com/a_b?c=d&e=f mail@example.org",
        "it's don't we're l'été",
        "a",
        "ab",
        "\u2028\u2029",
        "  leading and trailing  ",
        "x" * 300,
        long_doc,
    ]


def training_corpus():
    words = ("fraud refund chargeback delivery late broken wonderful terrible service support account "
             "payment card bank transfer zürich café naïve straße 日本語 ΟΔΟΣ party emoji").split()
    docs = []
    for i in range(300):
        n = int(rng2.integers(3, 15))
        docs.append(" ".join(words[int(j)] for j in rng2.integers(0, len(words), n)))
    return docs + text_corpus()


def hex64(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def csr_record(X):
    X = X.tocsr()
    assert X.has_sorted_indices
    return {"indptr": [int(v) for v in X.indptr], "indices": [int(v) for v in X.indices],
            "data": [hex64(v) for v in X.data]}


def text_params(v):
    """The pipeline.toml keys (scikit-learn's names) of a fitted vectorizer."""
    out = {"analyzer": v.analyzer, "lowercase": v.lowercase, "ngram_range": list(v.ngram_range),
           "norm": v.norm if v.norm is not None else "none", "binary": v.binary}
    if v.stop_words is not None:
        out["stop_words"] = sorted(v.get_stop_words())
    return out


def text_hash_cases(docs):
    configs = [
        ("default", {}),
        ("16 columns, no norm: collisions and cancelling signs", dict(n_features=16, norm=None)),
        ("1000 columns (dense rows), l1, no sign, binary", dict(n_features=1000, norm="l1", alternate_sign=False,
                                                                binary=True)),
        ("binary with signs: cancelled columns become 1", dict(n_features=8, binary=True, norm=None)),
        ("word 1-3 grams", dict(n_features=1 << 18, ngram_range=(1, 3))),
        ("word bigrams, case kept", dict(ngram_range=(2, 2), lowercase=False)),
        ("stop words", dict(stop_words=["and", "the", "world", "café"], ngram_range=(1, 2))),
        ("char 1-3", dict(analyzer="char", ngram_range=(1, 3))),
        ("char 2-5, 2^16", dict(analyzer="char", ngram_range=(2, 5), n_features=1 << 16)),
        ("char_wb 1-4", dict(analyzer="char_wb", ngram_range=(1, 4))),
        ("char_wb 3-3, case kept, no norm", dict(analyzer="char_wb", ngram_range=(3, 3), lowercase=False,
                                                norm=None)),
        ("char_wb 5-7, long n", dict(analyzer="char_wb", ngram_range=(5, 7), n_features=1 << 12)),
    ]
    cases = []
    for name, kwargs in configs:
        v = HashingVectorizer(**kwargs)
        params = text_params(v)
        params.update(n_features=v.n_features, alternate_sign=v.alternate_sign)
        case = {"kind": "text_hash", "name": name, "params": params}
        case.update(csr_record(v.transform(docs)))
        cases.append(case)
    return cases


def tfidf_cases(docs):
    train = training_corpus()
    configs = [
        ("default", {}),
        ("sublinear, l1, word 1-2 grams", dict(sublinear_tf=True, norm="l1", ngram_range=(1, 2))),
        ("no idf, no norm, binary", dict(use_idf=False, norm=None, binary=True)),
        ("raw idf (smooth_idf=False), case kept", dict(smooth_idf=False, lowercase=False)),
        ("english stop words, 1-2 grams", dict(stop_words="english", ngram_range=(1, 2), max_features=400)),
        ("char_wb 2-4, sublinear", dict(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                       max_features=600)),
        ("char 1-3, case kept", dict(analyzer="char", ngram_range=(1, 3), lowercase=False, max_features=600)),
    ]
    cases = []
    for name, kwargs in configs:
        v = TfidfVectorizer(**kwargs).fit(train)
        params = text_params(v)
        params.update(sublinear_tf=v.sublinear_tf, vocabulary=[str(t) for t in v.get_feature_names_out()])
        if v.use_idf:
            params["idf"] = [hex64(x) for x in v.idf_]
        case = {"kind": "tfidf", "name": name, "params": params}
        case.update(csr_record(v.transform(docs)))
        cases.append(case)
    return cases


# ---------------------------------------------------------------------------------------------
# Python's Unicode behaviour, per code point.

def ranges(predicate):
    out, start = [], None
    for cp in range(0x110000):
        if predicate(cp):
            if start is None:
                start = cp
        elif start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, 0x10FFFF])
    return out


def unicode_tables():
    word = re.compile(r"\w")
    space = re.compile(r"\s")

    def ok(cp):
        return not 0xD800 <= cp <= 0xDFFF

    lower = {}
    for cp in range(0x110000):
        if ok(cp):
            low = chr(cp).lower()
            if low != chr(cp):
                lower[cp] = [ord(c) for c in low]

    def sigma_after(cp):   # "A" + c + "Σ": final iff c is case-ignorable or cased
        return ok(cp) and ("A" + chr(cp) + "Σ").lower()[-1] == "ς"

    def sigma_before(cp):  # "AΣ" + c: final iff c is case-ignorable or not cased
        return ok(cp) and ("AΣ" + chr(cp)).lower()[1] == "ς"

    return {
        "python": sys.version.split()[0], "unicode": unicodedata.unidata_version,
        "word": ranges(lambda cp: ok(cp) and word.match(chr(cp)) is not None),
        "space": ranges(lambda cp: ok(cp) and space.match(chr(cp)) is not None),
        "assigned": ranges(lambda cp: ok(cp) and unicodedata.category(chr(cp)) != "Cn"),
        "lower": [[cp] + mapped for cp, mapped in sorted(lower.items())],
        "ignorable": ranges(lambda cp: sigma_after(cp) and sigma_before(cp)),
        "cased": ranges(lambda cp: sigma_after(cp) and not sigma_before(cp)),
    }


# ---------------------------------------------------------------------------------------------
# Output.

def header():
    return ("// Generated by tools/make_feature_vectors.py with Python %s, scikit-learn %s, numpy %s. Do not edit.\n"
            % (sys.version.split()[0], sklearn.__version__, np.__version__))


def numeric_vectors():
    out = []
    w = out.append
    w(header().replace("with Python %s, " % sys.version.split()[0], "with "))
    w("// Expected floats are float32 bit patterns: compared bit for bit.\n\n")
    w("enum SklearnVectors {\n")
    w("    /// (mean, std, inputs, expected StandardScaler outputs as float32 bits)\n")
    w("    static let standardize: [(Double, Double, [Double], [UInt32])] = [\n")
    for mean, std, xs, ys in standardize_cases():
        w("        (%s, %s, [%s],\n         [%s]),\n" % (f64(mean), f64(std), ", ".join(map(f64, xs)),
                                                    ", ".join(map(f32bits, ys))))
    w("    ]\n\n")
    w("    /// (min, max, inputs, expected MinMaxScaler outputs as float32 bits)\n")
    w("    static let minmax: [(Double, Double, [Double], [UInt32])] = [\n")
    for lo, hi, xs, ys in minmax_cases():
        w("        (%s, %s, [%s],\n         [%s]),\n" % (f64(lo), f64(hi), ", ".join(map(f64, xs)),
                                                    ", ".join(map(f32bits, ys))))
    w("    ]\n\n")
    cases, empty = hash_cases()
    w("    /// (string, buckets, FeatureHasher column, value, murmurhash3_32 signed)\n")
    w("    static let hash: [(String, Int, Int, Float, Int32)] = [\n")
    for s, buckets, col, val, h in cases:
        w("        (%s, %d, %d, %s, %d),\n" % (swift_string(s), buckets, col, f64(val), h))
    w("    ]\n\n")
    w("    /// FeatureHasher(n_features=16) on [\"\"]: (column, value); the stage hashes \"\" the same way.\n")
    w("    static let sklearnEmptyString: (Int, Float) = (%d, %s)\n\n" % (empty[0], f64(empty[1])))
    cats, rows = onehot_cases()
    w("    /// OneHotEncoder(categories=[categories], handle_unknown=\"ignore\")\n")
    w("    static let onehotCategories: [String] = [%s]\n" % ", ".join(map(swift_string, cats)))
    w("    static let onehot: [(String, [Float])] = [\n")
    for v, r in rows:
        w("        (%s, [%s]),\n" % (swift_string(v), ", ".join(map(str, r))))
    w("    ]\n\n")

    # New kinds.
    w("    /// (min, max, feature_range low, high, clip, inputs, expected MinMaxScaler outputs as float32 bits)\n")
    w("    static let minmaxRange: [(Double, Double, Double, Double, Bool, [Double], [UInt32])] = [\n")
    for lo, hi, (a, b), clip, xs, ys in minmax_range_cases():
        w("        (%s, %s, %s, %s, %s, [%s],\n         [%s]),\n" % (
            f64(lo), f64(hi), f64(a), f64(b), "true" if clip else "false", ", ".join(map(f64, xs)),
            ", ".join(map(f32bits, ys))))
    w("    ]\n\n")
    w("    /// (fill, StandardScaler mean, std (nil: SimpleImputer alone), inputs, expected outputs as float32 bits)\n")
    w("    static let impute: [(Double, Double?, Double?, [Double], [UInt32])] = [\n")
    for fill, mean, std, xs, ys in impute_cases():
        w("        (%s, %s, %s, [%s],\n         [%s]),\n" % (
            f64(fill), "nil" if mean is None else f64(mean), "nil" if std is None else f64(std),
            ", ".join(map(f64, xs)), ", ".join(map(f32bits, ys))))
    w("    ]\n\n")
    xs, ys = log1p_cases()
    w("    /// FunctionTransformer(np.log1p): inputs and expected outputs as float32 bits\n")
    w("    static let log1p: ([Double], [UInt32]) = ([%s],\n        [%s])\n\n" % (
        ", ".join(map(f64, xs)), ", ".join(map(f32bits, ys))))
    w("    /// KBinsDiscretizer: (bin_edges_, inputs, expected ordinal bins); one-hot puts 1 in that column\n")
    w("    static let bucketize: [([Double], [Double], [Int])] = [\n")
    for edges, xs, bins in bucketize_cases():
        w("        ([%s],\n         [%s],\n         [%s]),\n" % (", ".join(map(f64, edges)), ", ".join(map(f64, xs)),
                                                          ", ".join(map(str, bins))))
    w("    ]\n\n")
    cats, values, cases = onehot_drop_cases()
    w("    /// OneHotEncoder(categories=[onehotDropCategories], drop=[drop], handle_unknown=\"ignore\"): (drop, [(value, row)])\n")
    w("    static let onehotDropCategories: [String] = [%s]\n" % ", ".join(map(swift_string, cats)))
    w("    static let onehotDrop: [(String, [(String, [Float])])] = [\n")
    for drop, rows in cases:
        w("        (%s, [%s]),\n" % (swift_string(drop), ", ".join(
            "(%s, [%s])" % (swift_string(v), ", ".join(map(str, r))) for v, r in rows)))
    w("    ]\n\n")
    w("    /// FeatureHasher(n_features, input_type=\"string\", alternate_sign): (string, n_features, alternate_sign, column, value)\n")
    w("    static let hashMore: [(String, Int, Bool, Int, Float)] = [\n")
    for s, buckets, alt, col, val in hash_more_cases():
        w("        (%s, %d, %s, %d, %s),\n" % (swift_string(s), buckets, "true" if alt else "false", col, f64(val)))
    w("    ]\n")
    w("}\n")
    return "".join(out)


def dump_wrapped(value, width=120):
    """JSON with newlines only between tokens: long arrays are wrapped after a comma."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump_wrapped(v, width) for k, v in value.items()) + "}"
    if isinstance(value, list):
        out, line = [], 0
        for i, item in enumerate(value):
            text = dump_wrapped(item, width)
            if i:
                out.append(",")
                line += 1
                if line + len(text) > width:
                    out.append("\n")
                    line = 0
            out.append(text)
            line += len(text) if "\n" not in text else len(text) - text.rindex("\n")
        return "[" + "".join(out) + "]"
    return json.dumps(value, ensure_ascii=True)


def raw_string_file(name, doc, payload):
    body = dump_wrapped(payload)
    assert '"###' not in body
    json.loads(body)
    return (header() + "\n/// " + doc + "\nenum %s {\n    static let json = ###\"\"\"\n%s\n\"\"\"###\n}\n" % (name, body))


def main():
    np.seterr(over="ignore", invalid="ignore", divide="ignore")  # inf/NaN results are meant
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests",
                                                                    "FeaturizeTests")
    files = {"SklearnVectors.swift": numeric_vectors()}
    docs = text_corpus()
    files["SklearnTextVectors.swift"] = raw_string_file(
        "SklearnTextVectors",
        "HashingVectorizer and TfidfVectorizer outputs: {docs, cases: [{kind, name, params, indptr, indices, data}]};\n"
        "/// floats as float64 bit patterns in hex.",
        {"docs": docs, "cases": text_hash_cases(docs) + tfidf_cases(docs)})
    files["PythonUnicodeTables.swift"] = raw_string_file(
        "PythonUnicodeTables",
        "Python's `\\w`, `\\s`, assigned code points (inclusive ranges), `str.lower()` of each code point that\n"
        "/// changes ([code point, lowered...]) and the Final_Sigma context classes (inclusive ranges).",
        unicode_tables())
    for name, text in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
        print("wrote %s (%d bytes)" % (name, len(text)), file=sys.stderr)


if __name__ == "__main__":
    main()
