import Config
import FeaturizeStage
import Messages
import Testing
import TestSupport

/// With a drift plan, every feature batch carries its input fields' slot counts.
@Suite struct DriftCounterTests {
    static let fields = [FieldSpec(name: "a", type: .float, required: false), FieldSpec(name: "n", type: .int),
                         FieldSpec(name: "c", type: .string, required: false), FieldSpec(name: "b", type: .bool),
                         FieldSpec(name: "t", type: .string)]

    static func config(_ plan: DriftPlan) -> PipelineConfig {
        var c = makeConfig(fields: fields, features: [FeatureSpec(field: "a", kind: .identity)])
        c.driftPlan = plan
        return c
    }

    static let columns = [
        Column(.float([0.5, 1, 2, .nan, 3]), missing: [false, false, false, false, true]),
        Column(.int([-1, 0, 10, 11, 12])),
        Column(.string(offsets: [0, 2, 4, 4, 5, 5], bytes: Array("USDEXZ".utf8.prefix(5))), missing: [false, false, false, false, true]),
        Column(.bool([true, false, true, true, false])),
        Column(.string(offsets: [0, 0, 3, 13, 14, 20], bytes: Array("abcdefghijklmnopqrst".utf8))),
    ]

    @Test func eachKindCountsOneSlotPerRow() throws {
        let plan = DriftPlan(fields: [
            DriftPlan.Field(name: "a", kind: .numeric, edges: [1, 2]),          // 0.5 → 0; 1 → 1 (edge: upper bin); 2 → 2; NaN, missing → missing
            DriftPlan.Field(name: "n", kind: .numeric, edges: [0, 10.5]),       // -1 → 0; 0 → 1; 10 → 1; 11, 12 → 2
            DriftPlan.Field(name: "c", kind: .categorical, values: ["DE", "US"]), // US, DE, "" (other), X (other), missing
            DriftPlan.Field(name: "b", kind: .categorical, values: ["true"]),  // true ×3; false → other ×2
            DriftPlan.Field(name: "t", kind: .textLength, edges: [1, 10]),      // lengths 0, 3, 10, 1, 6
        ], predictions: [DriftPlan.Field(name: "score", kind: .numeric, edges: [0.5])])
        var p = try FeaturizeProcessor(config: Self.config(plan))
        let f = try featurize(&p, Self.columns)
        #expect(f.drift.counts == [1, 1, 1, 2,   1, 2, 2, 0,   1, 1, 2, 1,   3, 2, 0,   1, 3, 1, 0])
        #expect(f.drift.counts.count == plan.inputSlotCount, "the predictions' slots are aggregate's")
        // Per batch: the next batch's counts start from zero.
        let again = try featurize(&p, Self.columns)
        #expect(again.drift.counts == f.drift.counts)
    }

    /// Numbers are binned edge by edge over the column: the same slots as `slot(of:)` one by one,
    /// at every tail length, for values on the edges, between them and infinite; ints and floats,
    /// with and without missing values (ingest never makes a NaN but for a missing value).
    @Test func binningEightAtATimeMatchesOneByOne() throws {
        let edges: [Double] = [-3, -1, 0, 0.5, 2, 7, 11, 12, 40, 1e9]
        let pool: [Double] = edges + [-4, -0.0, 0.25, 1, 3, 11.5, 100, 2e9, -.infinity, .infinity]
        var state: UInt64 = 7
        for rows in [0, 1, 7, 8, 9, 31, 64, 65] {
            let values = (0..<rows).map { _ -> Double in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return pool[Int(state >> 33) % pool.count]
            }
            let ints = values.map { $0.isFinite ? Int64($0.rounded(.down)) : 5 }
            let missing = (0..<rows).map { $0 % 5 == 2 }
            let plan = DriftPlan(fields: [DriftPlan.Field(name: "a", kind: .numeric, edges: edges),
                                          DriftPlan.Field(name: "n", kind: .numeric, edges: edges)], predictions: [])
            var p = try FeaturizeProcessor(config: Self.config(plan))
            for withMissing in [false, true] {
            let floats = withMissing ? Column(.float(zip(values, missing).map { $1 ? .nan : $0 }), missing: missing) : Column(.float(values))
            let columns = [floats, Column(.int(ints)), Column(.string(offsets: Array(repeating: 0, count: rows + 1), bytes: [])),
                           Column(.bool(Array(repeating: false, count: rows))),
                           Column(.string(offsets: Array(repeating: 0, count: rows + 1), bytes: []))]
            let f = try featurize(&p, columns)
            var expected = [UInt32](repeating: 0, count: plan.inputSlotCount)
            for (x, m) in zip(values, missing) { expected[withMissing && m ? plan.fields[0].missingSlot : plan.fields[0].slot(of: x)] += 1 }
            for x in ints { expected[plan.fields[0].slotCount + plan.fields[1].slot(of: Double(x))] += 1 }
            #expect(f.drift.counts == expected, "\(rows) rows, missing values: \(withMissing)")
            }
        }
    }

    @Test func withoutAPlanNoCounts() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: Self.fields, features: [FeatureSpec(field: "a", kind: .identity)]))
        #expect(try featurize(&p, Self.columns).drift.counts.isEmpty)
    }

    @Test func aPlanThatDoesNotFitTheSchemaIsRefused() throws {
        let unknown = DriftPlan(fields: [DriftPlan.Field(name: "zz", kind: .numeric)], predictions: [])
        #expect(throws: FeaturizeError.driftField(field: "zz", reason: "is not in [[input.field]]")) {
            try FeaturizeProcessor(config: Self.config(unknown))
        }
        let wrongKind = DriftPlan(fields: [DriftPlan.Field(name: "c", kind: .numeric)], predictions: [])
        #expect(throws: FeaturizeError.driftField(field: "c", reason: "is string: it cannot be counted as numeric")) {
            try FeaturizeProcessor(config: Self.config(wrongKind))
        }
    }
}
