import Config
import FeaturizeStage
import Messages
import Testing
import TestSupport

/// Every kind against values scikit-learn computed (SklearnVectors.swift, made by
/// tools/make_feature_vectors.py), bit for bit.
@Suite struct SklearnParityTests {
    /// Compares bit patterns; any NaN matches any NaN (scikit-learn's NaN payload is not the contract).
    private func expectBits(_ got: [Float], _ expected: [UInt32], _ context: String) {
        #expect(got.count == expected.count, "\(context): count")
        for (i, (g, e)) in zip(got, expected).enumerated() {
            let want = Float(bitPattern: e)
            let same = want.isNaN ? g.isNaN : g.bitPattern == e
            #expect(same, "\(context) input #\(i): got \(g) (0x\(String(g.bitPattern, radix: 16))), scikit-learn \(want)")
        }
    }

    @Test func standardizeMatchesStandardScaler() throws {
        #expect(SklearnVectors.standardize.count >= 6)
        for (mean, std, xs, expected) in SklearnVectors.standardize {
            let f = try featurizeOne(.standardize(mean: mean, std: std), type: .float, Column(.float(xs)))
            #expect(f.layout == .dense && f.dims == 1)
            expectBits(f.values, expected, "standardize(mean: \(mean), std: \(std))")
        }
    }

    @Test func minmaxMatchesMinMaxScaler() throws {
        #expect(SklearnVectors.minmax.count >= 7)
        for (lo, hi, xs, expected) in SklearnVectors.minmax {
            let f = try featurizeOne(.minmax(min: lo, max: hi), type: .float, Column(.float(xs)))
            expectBits(f.values, expected, "minmax(min: \(lo), max: \(hi))")
        }
    }

    /// The naive `(x - min) / (max - min)` differs from scikit-learn in the last bit for some
    /// inputs; this proves the vectors can tell the two apart (so the test above can fail).
    @Test func minmaxVectorsDistinguishTheNaiveFormula() {
        var differences = 0
        for (lo, hi, xs, expected) in SklearnVectors.minmax where hi - lo > 1e-9 {
            for (x, e) in zip(xs, expected) where x.isFinite {
                let naive = Float((x - lo) / (hi - lo))
                if naive.bitPattern != e && !naive.isNaN { differences += 1 }
            }
        }
        #expect(differences > 0)
    }

    @Test func hashMatchesFeatureHasher() throws {
        #expect(SklearnVectors.hash.count > 100)
        for (s, buckets, column, value, _) in SklearnVectors.hash {
            let direct = FeatureHashing.hash(s, buckets: buckets)
            #expect(direct.column == column && direct.value == value, "\(s.debugDescription) into \(buckets)")
        }
        // Through the stage, both layouts: 1024 buckets is dense, 2^20 and 2^31-1 are CSR.
        for buckets in [1, 7, 1024, 1 << 20, Int(Int32.max)] {
            let cases = SklearnVectors.hash.filter { $0.1 == buckets }
            let f = try featurizeOne(.hash(buckets: buckets), type: .string, stringColumn(cases.map(\.0)))
            #expect(f.layout == (buckets <= 4096 ? .dense : .csr))
            for (r, (s, _, column, value, _)) in cases.enumerated() {
                let nz = f.nonZeros(r)
                #expect(nz.count == 1 && nz.first?.column == column && nz.first?.value == value,
                        "\(s.debugDescription) into \(buckets): \(nz)")
            }
        }
    }

    /// The vectors include a key whose signed hash is Int32.min, where `abs` is undefined in C.
    @Test func hashOfInt32MinKey() throws {
        let cases = SklearnVectors.hash.filter { $0.4 == Int32.min }
        #expect(!cases.isEmpty)
        for (s, buckets, column, value, _) in cases {
            #expect(value == -1)
            #expect(column == Int((UInt64(1) << 31) % UInt64(buckets)))
            #expect(FeatureHashing.hash(s, buckets: buckets) == (column, value))
        }
    }

    @Test func onehotMatchesOneHotEncoder() throws {
        let values = SklearnVectors.onehot.map(\.0)
        let f = try featurizeOne(.onehot(categories: SklearnVectors.onehotCategories), type: .string,
                                 stringColumn(values))
        #expect(f.dims == SklearnVectors.onehotCategories.count)
        for (r, (value, expected)) in SklearnVectors.onehot.enumerated() {
            #expect(f.row(r) == expected, "\(value.debugDescription)")
        }
    }
}
