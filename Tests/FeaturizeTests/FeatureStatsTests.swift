import Config
import FeaturizeStage
import Messages
import Testing
import TestSupport

/// Dense batches carry per-column sums and sums of squares of their first 256 columns.
@Suite struct FeatureStatsTests {
    @Test func sumsAndSquaresOfTheOutputColumns() throws {
        let config = makeConfig(fields: [FieldSpec(name: "a", type: .float, required: false),
                                         FieldSpec(name: "c", type: .string)],
                                features: [FeatureSpec(field: "a", kind: .standardize(mean: 1, std: 2)),
                                           FeatureSpec(field: "c", kind: .onehot(categories: ["x", "y"]))])
        var p = try FeaturizeProcessor(config: config)
        let f = try featurize(&p, [Column(.float([3, 5, .nan, -1]), missing: [false, false, true, false]),
                                   stringColumn(["x", "x", "y", "q"])])
        // Column 0 holds 1, 2, NaN, -1: the NaN of the missing value is left out of the sums.
        #expect(f.stats.sums == [2, 2, 1])
        #expect(f.stats.sumSquares == [6, 2, 1])
    }

    /// Only the first 256 columns are summed; they are summed in Double from the Float outputs.
    @Test func onlyTheFirst256Columns() throws {
        let categories = (0..<300).map { "c\($0)" }
        let config = makeConfig(fields: [FieldSpec(name: "c", type: .string), FieldSpec(name: "a", type: .float)],
                                features: [FeatureSpec(field: "a", kind: .identity),
                                           FeatureSpec(field: "c", kind: .onehot(categories: categories))])
        var p = try FeaturizeProcessor(config: config)
        let values = ["c0", "c254", "c255", "c299", "c0"]
        let amounts: [Double] = [0.1, 0.2, 0.3, 1e20, 5]
        let f = try featurize(&p, [stringColumn(values), Column(.float(amounts))])
        #expect(f.dims == 301 && f.stats.count == 256)
        let x = amounts.map { Double(Float($0)) }
        #expect(f.stats.sums[0] == x.reduce(0, +))
        #expect(f.stats.sumSquares[0] == x.reduce(0) { $0 + $1 * $1 })
        #expect(f.stats.sums[1] == 2 && f.stats.sums[255] == 1 && f.stats.sums[256 - 1 - 1] == 0)
        #expect(f.stats.sums.reduce(0, +) == x.reduce(0, +) + 3, "c255 and c299 fall outside the first 256")
    }

    /// The stats of one batch do not leak into the next (the arrays are reused).
    @Test func statsArePerBatch() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: [FieldSpec(name: "a", type: .int)],
                                                          features: [FeatureSpec(field: "a", kind: .identity)]))
        _ = try featurize(&p, [Column(.int([100, 200]))])
        let f = try featurize(&p, [Column(.int([1, 2]))])
        #expect(f.stats.sums == [3] && f.stats.sumSquares == [5])
    }
}
