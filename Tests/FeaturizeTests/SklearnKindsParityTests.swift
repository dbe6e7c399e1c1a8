import Config
import FeaturizeStage
import Messages
import Testing
import TestSupport

/// The kinds added with scikit-learn's parameter names (minmax feature_range and clip, impute and
/// fill, log1p, bucketize, onehot drop, hash without alternate signs) against values scikit-learn
/// computed (SklearnVectors.swift, made by tools/make_feature_vectors.py), bit for bit.
@Suite struct SklearnKindsParityTests {
    /// Compares bit patterns; any NaN matches any NaN (scikit-learn's NaN payload is not the contract).
    private func expectBits(_ got: [Float], _ expected: [UInt32], _ context: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == expected.count, "\(context): count", sourceLocation: sourceLocation)
        for (i, (g, e)) in zip(got, expected).enumerated() {
            let want = Float(bitPattern: e)
            let same = want.isNaN ? g.isNaN : g.bitPattern == e
            #expect(same, "\(context) input #\(i): got \(g), scikit-learn \(want)", sourceLocation: sourceLocation)
        }
    }

    @Test func minmaxFeatureRangeAndClip() throws {
        #expect(SklearnVectors.minmaxRange.count >= 6)
        #expect(SklearnVectors.minmaxRange.contains { $0.4 }, "some cases clip")
        for (lo, hi, a, b, clip, xs, expected) in SklearnVectors.minmaxRange {
            let kind = FeatureKind.minmax(min: lo, max: hi, featureRange: a...b, clip: clip)
            let f = try featurizeOne(kind, type: .float, Column(.float(xs)))
            expectBits(f.values, expected, "\(kind)")
        }
    }

    /// Clipping changes something in the vectors (so the test above can tell clip from no clip).
    @Test func clipMatters() throws {
        let clipped = SklearnVectors.minmaxRange.filter(\.4)
        var changed = 0
        for (lo, hi, a, b, _, xs, expected) in clipped {
            let f = try featurizeOne(.minmax(min: lo, max: hi, featureRange: a...b, clip: false), type: .float,
                                     Column(.float(xs)))
            changed += zip(f.values, expected).filter { $0.bitPattern != $1 && !$0.isNaN }.count
        }
        #expect(changed > 0)
    }

    /// SimpleImputer alone (`impute`) and before StandardScaler (`fill` on `standardize`), through
    /// a NaN and a missing value: both become the fill.
    @Test func imputeAndFill() throws {
        #expect(SklearnVectors.impute.count >= 5)
        for (fill, mean, std, xs, expected) in SklearnVectors.impute {
            // The first input is NaN as a value, the second a missing field.
            var missing = [Bool](repeating: false, count: xs.count)
            if xs.count > 1 && xs[1].isNaN { missing[1] = true }
            let column = Column(.float(xs), missing: missing)
            if let mean, let std {
                var p = try FeaturizeProcessor(config: makeConfig(
                    fields: [FieldSpec(name: "x", type: .float, required: false)],
                    features: [FeatureSpec(field: "x", kind: .standardize(mean: mean, std: std), fill: .number(fill))]))
                expectBits(try featurize(&p, [column]).values, expected, "fill \(fill) then standardize")
            } else {
                expectBits(try featurizeOne(.impute(fill: fill), type: .float, column).values, expected, "impute \(fill)")
                // identity with a fill is the same thing.
                var p = try FeaturizeProcessor(config: makeConfig(
                    fields: [FieldSpec(name: "x", type: .float, required: false)],
                    features: [FeatureSpec(field: "x", kind: .identity, fill: .number(fill))]))
                expectBits(try featurize(&p, [column]).values, expected, "identity with fill \(fill)")
            }
        }
    }

    @Test func imputeOfIntsAndBools() throws {
        let ints = try featurizeOne(.impute(fill: -3), type: .int, Column(.int([5, 0, 7]), missing: [false, true, false]))
        #expect(ints.values == [5, -3, 7])
        let bools = try featurizeOne(.impute(fill: 0.5), type: .bool,
                                     Column(.bool([true, false, false]), missing: [false, true, false]))
        #expect(bools.values == [1, 0.5, 0])
    }

    @Test func log1pMatchesFunctionTransformer() throws {
        let (xs, expected) = SklearnVectors.log1p
        #expect(xs.count > 30)
        let f = try featurizeOne(.log1p, type: .float, Column(.float(xs)))
        expectBits(f.values, expected, "log1p")
    }

    @Test func bucketizeOrdinalMatchesKBinsDiscretizer() throws {
        #expect(SklearnVectors.bucketize.count >= 6)
        for (edges, xs, bins) in SklearnVectors.bucketize {
            let f = try featurizeOne(.bucketize(edges: edges, encode: .ordinal), type: .float, Column(.float(xs)))
            #expect(f.dims == 1)
            for (i, (got, want)) in zip(f.values, bins).enumerated() {
                #expect(got == Float(want), "edges \(edges): input \(xs[i]) in bin \(got), scikit-learn \(want)")
            }
        }
    }

    /// One-hot bins, dense and as CSR (a wide hash of an always-missing field forces CSR).
    @Test(arguments: [false, true])
    func bucketizeOneHotMatchesKBinsDiscretizer(csr: Bool) throws {
        for (edges, xs, bins) in SklearnVectors.bucketize {
            var fields = [FieldSpec(name: "x", type: .float)]
            var features = [FeatureSpec(field: "x", kind: .bucketize(edges: edges))]
            var columns = [Column(.float(xs))]
            if csr {
                fields.append(FieldSpec(name: "never", type: .string, required: false))
                features.append(FeatureSpec(field: "never", kind: .hash(buckets: 1 << 20)))
                columns.append(stringColumn(xs.map { _ in "" }, missing: xs.map { _ in true }))
            }
            var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: features))
            let f = try featurize(&p, columns)
            #expect(f.layout == (csr ? .csr : .dense))
            for (r, bin) in bins.enumerated() {
                let nz = f.nonZeros(r)
                #expect(nz.count == 1 && nz.first?.column == bin && nz.first?.value == 1,
                        "edges \(edges): input \(xs[r]) → \(nz), scikit-learn bin \(bin)")
            }
        }
    }

    /// scikit-learn refuses NaN; here a missing or NaN value has no bin (ordinal NaN, one-hot all
    /// zeros) unless `fill` gives it one.
    @Test func bucketizeMissing() throws {
        let edges = [0.0, 1, 2, 3]
        let column = Column(.float([.nan, 0, 1.5]), missing: [true, false, false])
        let ordinal = try featurizeOne(.bucketize(edges: edges, encode: .ordinal), type: .float, column)
        #expect(ordinal.values[0].isNaN && Array(ordinal.values[1...]) == [0, 1])
        let hot = try featurizeOne(.bucketize(edges: edges), type: .float, column)
        #expect(hot.row(0) == [0, 0, 0] && hot.row(1) == [1, 0, 0] && hot.row(2) == [0, 1, 0])
        var p = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "x", type: .float, required: false)],
            features: [FeatureSpec(field: "x", kind: .bucketize(edges: edges), fill: .number(2.5))]))
        #expect(try featurize(&p, [column]).row(0) == [0, 0, 1])
    }

    @Test func onehotDropMatchesOneHotEncoder() throws {
        #expect(SklearnVectors.onehotDrop.count >= 4)
        let categories = SklearnVectors.onehotDropCategories
        for (drop, rows) in SklearnVectors.onehotDrop {
            let f = try featurizeOne(.onehot(categories: categories, drop: drop), type: .string,
                                     stringColumn(rows.map(\.0)))
            #expect(f.dims == categories.count - 1)
            for (r, (value, expected)) in rows.enumerated() {
                #expect(f.row(r) == expected, "drop \(drop.debugDescription): \(value.debugDescription)")
            }
        }
    }

    /// A missing string takes the `fill` category (SimpleImputer before OneHotEncoder); a fill
    /// that is not a category, like a missing value without one, is all zeros.
    @Test func onehotFill() throws {
        let column = stringColumn(["b", "", "zz"], missing: [false, true, false])
        func rows(_ fill: String?, drop: String? = nil) throws -> [[Float]] {
            var p = try FeaturizeProcessor(config: makeConfig(
                fields: [FieldSpec(name: "x", type: .string, required: false)],
                features: [FeatureSpec(field: "x", kind: .onehot(categories: ["a", "b", "c"], drop: drop),
                                       fill: fill.map(FillValue.text))]))
            let f = try featurize(&p, [column])
            return (0..<3).map(f.row)
        }
        #expect(try rows(nil) == [[0, 1, 0], [0, 0, 0], [0, 0, 0]])
        #expect(try rows("c") == [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
        #expect(try rows("nope") == [[0, 1, 0], [0, 0, 0], [0, 0, 0]])
        #expect(try rows("a", drop: "a") == [[1, 0], [0, 0], [0, 0]])
        let ints = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "n", type: .int, required: false)],
            features: [FeatureSpec(field: "n", kind: .onehot(categories: ["1", "-2"]), fill: .text("-2"))]))
        var p = ints
        let f = try featurize(&p, [Column(.int([1, 0, 5]), missing: [false, true, false])])
        #expect(f.row(0) == [1, 0] && f.row(1) == [0, 1] && f.row(2) == [0, 0])
    }

    @Test func hashAlternateSignAndEmptyString() throws {
        #expect(SklearnVectors.hashMore.count >= 20)
        for (s, n, alternate, column, value) in SklearnVectors.hashMore {
            let f = try featurizeOne(.hash(nFeatures: n, alternateSign: alternate), type: .string, stringColumn([s]))
            let nz = f.nonZeros(0)
            #expect(nz.count == 1 && nz.first?.column == column && nz.first?.value == value,
                    "\(s.debugDescription) into \(n), alternate_sign \(alternate): \(nz)")
        }
    }

    @Test func hashFill() throws {
        var p = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "x", type: .string, required: false)],
            features: [FeatureSpec(field: "x", kind: .hash(nFeatures: 64), fill: .text("unknown"))]))
        let f = try featurize(&p, [stringColumn(["unknown", ""], missing: [false, true])])
        #expect(f.nonZeros(1).map(\.column) == f.nonZeros(0).map(\.column))
        #expect(f.nonZeros(1).map(\.value) == f.nonZeros(0).map(\.value))
    }
}
