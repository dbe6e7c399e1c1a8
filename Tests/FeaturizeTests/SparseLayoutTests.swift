import Config
import FeaturizeStage
import Messages
import Testing
import TestSupport

/// Rows wider than 4096 columns go out as CSR and are never materialized densely.
@Suite struct SparseLayoutTests {
    let fields = [FieldSpec(name: "amount", type: .float, required: false),
                  FieldSpec(name: "text", type: .string, required: false),
                  FieldSpec(name: "country", type: .string, required: false)]
    let features = [FeatureSpec(field: "amount", kind: .standardize(mean: 10, std: 2)),
                    FeatureSpec(field: "text", kind: .hash(buckets: 1 << 20)),
                    FeatureSpec(field: "country", kind: .onehot(categories: ["US", "DE"])),
                    FeatureSpec(field: "amount", kind: .identity)]

    @Test func widthDecidesTheLayout() throws {
        for (buckets, layout) in [(4096 - 1, FeatureLayout.dense), (4096, .csr)] {
            let config = makeConfig(fields: fields, features: [FeatureSpec(field: "amount", kind: .identity),
                                                               FeatureSpec(field: "text", kind: .hash(buckets: buckets))])
            #expect(try FeaturizeProcessor(config: config).layout == layout)
        }
    }

    @Test func hashWithDenseNeighboursAsCSR() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: features))
        let width = 1 + (1 << 20) + 2 + 1
        #expect(p.width == width && p.layout == .csr)
        let rows = 300
        let amounts = (0..<rows).map { r -> Double in r % 7 == 0 ? 10 : Double(r) }  // 10 standardizes to 0
        let texts = (0..<rows).map { "token-\($0)" }
        let countries = (0..<rows).map { ["US", "DE", "XX"][$0 % 3] }
        let missing = (0..<rows).map { $0 == 5 }
        let f = try featurize(&p, [Column(.float(amounts.enumerated().map { missing[$0.0] ? .nan : $0.1 }), missing: missing),
                                   stringColumn(texts, missing: missing), stringColumn(countries)])
        #expect(f.layout == .csr && f.dims == width && f.rows == rows)
        #expect(f.drift.counts.isEmpty, "no drift plan, no drift counts")
        // A dense 300 × 1M matrix would be 1.2 GB; the frame holds only the non-zeros.
        #expect(f.frameBytes < 64 << 10, "frame is \(f.frameBytes) bytes")
        #expect(f.values.count <= rows * 4)
        for r in 0..<rows {
            let nz = f.nonZeros(r)
            #expect(zip(nz, nz.dropFirst()).allSatisfy { $0.column < $1.column }, "row \(r) columns ascend")
            var expected: [(Int, Float)] = []
            if missing[r] {
                expected = [(0, .nan), (width - 1, .nan)]
            } else {
                let standardized = Float((amounts[r] - 10) / 2)
                if standardized != 0 { expected.append((0, standardized)) }
                let (c, v) = FeatureHashing.hash(texts[r], buckets: 1 << 20)
                expected.append((1 + c, v))
            }
            if r % 3 < 2 { expected.append((1 + (1 << 20) + r % 3, 1)) }
            if !missing[r] { expected.append((width - 1, Float(amounts[r]))) }
            expected.sort { $0.0 < $1.0 }
            #expect(nz.count == expected.count, "row \(r): \(nz) vs \(expected)")
            for (g, e) in zip(nz, expected) {
                #expect(g.column == e.0 && (e.1.isNaN ? g.value.isNaN : g.value == e.1), "row \(r): \(g) vs \(e)")
            }
        }
    }

    /// The CSR rows equal the dense rows of the same features (a 3000-bucket hash is still dense;
    /// adding a wide hash of a missing field forces CSR without changing any value).
    @Test func csrAgreesWithDense() throws {
        var fieldsPlus = fields
        fieldsPlus.append(FieldSpec(name: "never", type: .string, required: false))
        var small = features
        small[1] = FeatureSpec(field: "text", kind: .hash(buckets: 3000))
        var wide = small
        wide.append(FeatureSpec(field: "never", kind: .hash(buckets: 1 << 16)))
        var dense = try FeaturizeProcessor(config: makeConfig(fields: fieldsPlus, features: small))
        var csr = try FeaturizeProcessor(config: makeConfig(fields: fieldsPlus, features: wide))
        var random = SplitMix(seed: 42)
        let rows = 257
        let columns = [
            Column(.float((0..<rows).map { _ in Double(random.next() % 1000) / 10 })),
            stringColumn((0..<rows).map { _ in "w\(random.next() % 50)" }),
            stringColumn((0..<rows).map { _ in ["US", "DE", "FR"][Int(random.next() % 3)] }),
            stringColumn(Array(repeating: "", count: rows), missing: Array(repeating: true, count: rows)),
        ]
        let d = try featurize(&dense, columns), s = try featurize(&csr, columns)
        #expect(d.layout == .dense && s.layout == .csr)
        for r in 0..<rows {
            #expect(d.nonZeros(r).map(\.column) == s.nonZeros(r).map(\.column))
            #expect(d.nonZeros(r).map(\.value) == s.nonZeros(r).map(\.value))
        }
    }
}

/// The shared generator, under this target's name for it.
typealias SplitMix = SplitMix64
