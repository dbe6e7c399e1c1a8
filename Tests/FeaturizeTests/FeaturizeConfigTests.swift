import Config
import FeaturizeStage
import Testing

/// Configuration problems are reported at init, naming the feature's field and line.
@Suite struct FeaturizeConfigTests {
    let fields = [FieldSpec(name: "amount", type: .float), FieldSpec(name: "country", type: .string),
                  FieldSpec(name: "n", type: .int), FieldSpec(name: "flag", type: .bool)]

    func error(_ features: [FeatureSpec], passthrough: [String] = []) -> FeaturizeError? {
        do {
            _ = try FeaturizeProcessor(config: makeConfig(fields: fields, features: features, passthrough: passthrough))
            return nil
        } catch {
            return error
        }
    }

    @Test func validConfigsPass() {
        #expect(error([FeatureSpec(field: "amount", kind: .standardize(mean: 0, std: 0)),
                       FeatureSpec(field: "amount", kind: .minmax(min: 3, max: 3)),
                       FeatureSpec(field: "n", kind: .onehot(categories: ["1"])),
                       FeatureSpec(field: "flag", kind: .identity),
                       FeatureSpec(field: "country", kind: .hash(buckets: 1 << 24))],
                      passthrough: ["country", "n"]) == nil)
    }

    @Test func noFeatures() {
        #expect(error([]) == .noFeatures)
        #expect(FeaturizeError.noFeatures.description.contains("[[feature]]"))
    }

    @Test func unknownField() {
        let e = error([FeatureSpec(field: "amout", kind: .identity, line: 12)])
        #expect(e == .unknownField(field: "amout", line: 12))
        #expect(e?.description.contains("line 12") == true)
    }

    @Test func kindsRejectTypesTheyCannotRead() {
        #expect(error([FeatureSpec(field: "country", kind: .standardize(mean: 0, std: 1), line: 4)])
                == .unsupportedType(field: "country", line: 4, kind: "standardize", type: .string))
        #expect(error([FeatureSpec(field: "country", kind: .identity)]) != nil)
        #expect(error([FeatureSpec(field: "country", kind: .minmax(min: 0, max: 1))]) != nil)
        #expect(error([FeatureSpec(field: "amount", kind: .onehot(categories: ["1.5"]))]) != nil)
        #expect(error([FeatureSpec(field: "n", kind: .hash(buckets: 8))]) != nil)
    }

    @Test(arguments: [
        FeatureKind.standardize(mean: .nan, std: 1), .standardize(mean: 0, std: -1), .standardize(mean: 0, std: .infinity),
        .minmax(min: 2, max: 1), .minmax(min: -.greatestFiniteMagnitude, max: .greatestFiniteMagnitude),
        .minmax(min: 0, max: .nan),
    ])
    func numericParametersOutOfRange(kind: FeatureKind) {
        guard case .invalidParameter(let field, _, _)? = error([FeatureSpec(field: "amount", kind: kind)]) else {
            Issue.record("\(kind) accepted")
            return
        }
        #expect(field == "amount")
    }

    @Test func onehotCategories() {
        guard case .invalidParameter(_, let line, let reason)? = error([
            FeatureSpec(field: "country", kind: .onehot(categories: ["US", "é", "DE", "é"]), line: 9),
        ]) else {
            Issue.record("duplicate accepted")
            return
        }
        #expect(line == 9 && reason.contains("\"é\""))
        // Canonically equivalent but different bytes: two categories, as in scikit-learn.
        #expect(error([FeatureSpec(field: "country", kind: .onehot(categories: ["é", "e\u{301}"]))]) == nil)
        #expect(error([FeatureSpec(field: "country", kind: .onehot(categories: []))]) != nil)
    }

    @Test func hashBuckets() {
        #expect(error([FeatureSpec(field: "country", kind: .hash(buckets: 0))]) != nil)
        #expect(error([FeatureSpec(field: "country", kind: .hash(buckets: Int(Int32.max) + 1))]) != nil)
    }

    @Test func totalWidthLimit() {
        let half = FeatureSpec(field: "country", kind: .hash(buckets: Int(Int32.max)))
        #expect(error([half, half]) == .tooWide(width: 2 * Int(Int32.max), limit: Int(Int32.max)))
    }

    @Test func unknownPassthrough() {
        #expect(error([FeatureSpec(field: "amount", kind: .identity)], passthrough: ["id"]) == .unknownPassthrough(field: "id"))
    }
}
