import Config
import FeaturizeStage
import Foundation
import Messages
import Testing
import TestSupport

/// `text_hash` and `tfidf` against HashingVectorizer and TfidfVectorizer on an awkward corpus
/// (Vectors/sklearn_text.json, made by tools/make_feature_vectors.py): the CSR arrays must be the
/// same (row pointers, column indices, stored entries — a cancelled hashed column included) and
/// every value the same Float32 as scikit-learn's float64 rounded once (so within 1e-6).
@Suite struct TextParityTests {
    struct Case {
        var kind: String
        var name: String
        var feature: FeatureKind
        var indptr: [Int]
        var indices: [Int]
        var data: [Double]
    }

    static let vectors: (docs: [String], cases: [Case]) = {
        let root = try! JSONSerialization.jsonObject(with: VectorFile.data("sklearn_text.json")) as! [String: Any]
        let docs = root["docs"] as! [String]
        let cases = (root["cases"] as! [[String: Any]]).map { c -> Case in
            let p = c["params"] as! [String: Any]
            let ngram = p["ngram_range"] as! [Int]
            let analysis = TextAnalysis(analyzer: TextAnalyzer(rawValue: p["analyzer"] as! String)!,
                                        lowercase: p["lowercase"] as! Bool, ngramRange: ngram[0]...ngram[1],
                                        stopWords: p["stop_words"] as? [String] ?? [])
            let norm = TextNorm(rawValue: p["norm"] as! String)!
            let kind: FeatureKind
            if c["kind"] as! String == "text_hash" {
                kind = .textHash(TextHashing(nFeatures: p["n_features"] as! Int,
                                             alternateSign: p["alternate_sign"] as! Bool, norm: norm,
                                             binary: p["binary"] as! Bool, analysis: analysis))
            } else {
                kind = .tfidf(Tfidf(vocabulary: p["vocabulary"] as! [String],
                                    idf: (p["idf"] as? [String])?.map(double), sublinearTF: p["sublinear_tf"] as! Bool,
                                    norm: norm, binary: p["binary"] as! Bool, analysis: analysis))
            }
            return Case(kind: c["kind"] as! String, name: c["name"] as! String, feature: kind,
                        indptr: c["indptr"] as! [Int], indices: c["indices"] as! [Int],
                        data: (c["data"] as! [String]).map(double))
        }
        return (docs, cases)
    }()

    private static func double(_ hex: String) -> Double { Double(bitPattern: UInt64(hex, radix: 16)!) }

    static var caseNames: [String] { vectors.cases.map { "\($0.kind): \($0.name)" } }

    @Test func theCorpusIsAwkward() {
        let docs = Self.vectors.docs
        #expect(docs.contains(""))
        #expect(docs.contains { !$0.isEmpty && $0.allSatisfy(\.isWhitespace) })
        #expect(docs.contains { $0.unicodeScalars.contains { $0.properties.isEmojiPresentation } })
        #expect(docs.contains { $0.utf8.count > 20_000 }, "a very long document")
        #expect(docs.contains { !$0.isEmpty && $0.unicodeScalars.allSatisfy { !$0.properties.isAlphabetic && !("0"..."9").contains($0) } },
                "a punctuation-only document")
        #expect(Self.vectors.cases.filter { $0.kind == "text_hash" }.count >= 10)
        #expect(Self.vectors.cases.filter { $0.kind == "tfidf" }.count >= 6)
    }

    /// Every case through the stage, in the layout its width gives (dense below 4097 columns).
    @Test(arguments: caseNames)
    func matchesScikitLearn(_ name: String) throws {
        let c = try #require(Self.vectors.cases.first { "\($0.kind): \($0.name)" == name })
        let f = try featurizeOne(c.feature, type: .string, stringColumn(Self.vectors.docs))
        #expect(f.dims == c.feature.width)
        expectRows(f, c, width: f.dims)
    }

    /// The same cases forced through the other layout: a 2^20-column hash of an always-missing
    /// field after the text feature makes narrow cases CSR; wide ones are CSR already.
    @Test(arguments: caseNames)
    func csrLayoutAgrees(_ name: String) throws {
        let c = try #require(Self.vectors.cases.first { "\($0.kind): \($0.name)" == name })
        guard c.feature.width <= 4096 else { return }
        let docs = Self.vectors.docs
        var p = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "t", type: .string), FieldSpec(name: "never", type: .string, required: false)],
            features: [FeatureSpec(field: "t", kind: c.feature), FeatureSpec(field: "never", kind: .hash(buckets: 1 << 20))]))
        let f = try featurize(&p, [stringColumn(docs), stringColumn(docs.map { _ in "" }, missing: docs.map { _ in true })])
        #expect(f.layout == .csr)
        expectRows(f, c, width: c.feature.width)
    }

    private func expectRows(_ f: Features, _ c: Case, width: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(f.rows == c.indptr.count - 1, sourceLocation: sourceLocation)
        var maxDifference = 0.0
        for r in 0..<f.rows {
            let want = (c.indptr[r]..<c.indptr[r + 1]).map { (column: c.indices[$0], value: c.data[$0]) }
            var got = f.nonZeros(r)
            if f.layout == .dense {
                // A dense row cannot show stored zeros: compare the non-zeros.
                got = got.filter { $0.column < width }
                let wantNonZero = want.filter { $0.value != 0 }
                #expect(got.map(\.column) == wantNonZero.map(\.column), "\(c.name) row \(r): columns",
                        sourceLocation: sourceLocation)
                for (g, w) in zip(got, wantNonZero) {
                    maxDifference = max(maxDifference, abs(Double(g.value) - w.value))
                    #expect(g.value.bitPattern == Float(w.value).bitPattern,
                            "\(c.name) row \(r) column \(w.column): \(g.value) vs \(w.value)", sourceLocation: sourceLocation)
                }
            } else {
                got = got.filter { $0.column < width }
                #expect(got.map(\.column) == want.map(\.column),
                        "\(c.name) row \(r): columns \(got.map(\.column)) vs \(want.map(\.column))",
                        sourceLocation: sourceLocation)
                for (g, w) in zip(got, want) {
                    maxDifference = max(maxDifference, abs(Double(g.value) - w.value))
                    #expect(g.value.bitPattern == Float(w.value).bitPattern,
                            "\(c.name) row \(r) column \(w.column): \(g.value) vs \(w.value)", sourceLocation: sourceLocation)
                }
            }
        }
        #expect(maxDifference <= 1e-6, "\(c.name): max |difference| \(maxDifference)", sourceLocation: sourceLocation)
    }

    /// Some hashed columns cancel out (+1 - 1): scikit-learn keeps them as stored zeros, and so
    /// does the CSR output, so the arrays are the same, not just the values.
    @Test func cancelledColumnsAreStoredZeros() throws {
        let c = try #require(Self.vectors.cases.first { $0.name.hasPrefix("16 columns") })
        #expect(c.data.contains(0), "the vectors include a cancelled column")
        let docs = Self.vectors.docs
        var p = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "t", type: .string), FieldSpec(name: "never", type: .string, required: false)],
            features: [FeatureSpec(field: "t", kind: c.feature), FeatureSpec(field: "never", kind: .hash(buckets: 1 << 20))]))
        let f = try featurize(&p, [stringColumn(docs), stringColumn(docs.map { _ in "" }, missing: docs.map { _ in true })])
        #expect(f.values.filter { $0 == 0 }.count == c.data.filter { $0 == 0 }.count)
    }
}
