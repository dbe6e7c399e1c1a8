#!/usr/bin/env python3
"""Prints Tests/FeaturizeTests/SklearnVectors.swift: expected featurize outputs computed by scikit-learn.

    python3 tools/make_feature_vectors.py > Tests/FeaturizeTests/SklearnVectors.swift

Every expected float is printed as its float32 bit pattern, so the Swift tests compare bit for bit.
The inputs are fixed (seeded), so re-running the script gives the same file.
"""
import struct

import numpy as np
import sklearn
from sklearn.feature_extraction import FeatureHasher
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
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


def main():
    np.seterr(over="ignore")  # float32 casts of values beyond its range are meant to give inf
    print("// Generated by tools/make_feature_vectors.py with scikit-learn %s, numpy %s. Do not edit."
          % (sklearn.__version__, np.__version__))
    print("// Expected floats are float32 bit patterns: compared bit for bit.")
    print()
    print("enum SklearnVectors {")
    print("    /// (mean, std, inputs, expected StandardScaler outputs as float32 bits)")
    print("    static let standardize: [(Double, Double, [Double], [UInt32])] = [")
    for mean, std, xs, ys in standardize_cases():
        print("        (%s, %s, [%s],\n         [%s])," % (f64(mean), f64(std), ", ".join(map(f64, xs)),
                                                   ", ".join(map(f32bits, ys))))
    print("    ]")
    print()
    print("    /// (min, max, inputs, expected MinMaxScaler outputs as float32 bits)")
    print("    static let minmax: [(Double, Double, [Double], [UInt32])] = [")
    for lo, hi, xs, ys in minmax_cases():
        print("        (%s, %s, [%s],\n         [%s])," % (f64(lo), f64(hi), ", ".join(map(f64, xs)),
                                                   ", ".join(map(f32bits, ys))))
    print("    ]")
    print()
    cases, empty = hash_cases()
    print("    /// (string, buckets, FeatureHasher column, value, murmurhash3_32 signed)")
    print("    static let hash: [(String, Int, Int, Float, Int32)] = [")
    for s, buckets, col, val, h in cases:
        print("        (%s, %d, %d, %s, %d)," % (swift_string(s), buckets, col, f64(val), h))
    print("    ]")
    print()
    print("    /// FeatureHasher(n_features=16) on [\"\"]: (column, value). The stage emits nothing instead.")
    print("    static let sklearnEmptyString: (Int, Float) = (%d, %s)" % (empty[0], f64(empty[1])))
    print()
    cats, rows = onehot_cases()
    print("    /// OneHotEncoder(categories=[categories], handle_unknown=\"ignore\")")
    print("    static let onehotCategories: [String] = [%s]" % ", ".join(map(swift_string, cats)))
    print("    static let onehot: [(String, [Float])] = [")
    for v, r in rows:
        print("        (%s, [%s])," % (swift_string(v), ", ".join(map(str, r))))
    print("    ]")
    print("}")


if __name__ == "__main__":
    main()
