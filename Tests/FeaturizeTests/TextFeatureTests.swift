import Config
import FeaturizeStage
import Foundation
import Messages
import Testing
import TestSupport

/// The text kinds through the stage: the 2^20-column CSR path, missing documents, and what the
/// analyzers make of a document.
@Suite struct TextFeatureTests {
    /// A default HashingVectorizer is 2^20 columns wide: a 256-row batch of long-ish documents
    /// goes out as CSR holding only the stored entries (dense it would be 1 GiB).
    @Test func twoToTheTwentyStaysSparse() throws {
        var p = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "amount", type: .float), FieldSpec(name: "text", type: .string)],
            features: [FeatureSpec(field: "amount", kind: .standardize(mean: 1, std: 2)),
                       FeatureSpec(field: "text", kind: .textHash(TextHashing()))]))
        #expect(p.width == 1 + (1 << 20) && p.layout == .csr)
        let rows = 256
        var random = SplitMix(seed: 9)
        let docs = (0..<rows).map { r in
            (0..<(20 + r % 40)).map { _ in "w\(random.next() % 5000)" }.joined(separator: " ")
        }
        let f = try featurize(&p, [Column(.float((0..<rows).map(Double.init))), stringColumn(docs)])
        #expect(f.layout == .csr && f.dims == 1 + (1 << 20))
        let words = docs.reduce(0) { $0 + $1.split(separator: " ").count }
        #expect(f.values.count <= words + rows)
        #expect(f.frameBytes < 16 * (words + rows) + (64 << 10), "frame is \(f.frameBytes) bytes")
        for r in 0..<rows {
            let nz = f.nonZeros(r)
            #expect(zip(nz, nz.dropFirst()).allSatisfy { $0.column < $1.column }, "row \(r) columns ascend")
            let norm = nz.filter { $0.column > 0 }.reduce(0.0) { $0 + Double($1.value) * Double($1.value) }
            #expect(abs(norm - 1) < 1e-5, "row \(r) has unit l2 norm, got \(norm)")
        }
    }

    /// A missing text is an empty document: an empty row (scikit-learn refuses NaN documents).
    @Test func missingTextIsAnEmptyDocument() throws {
        for kind in [FeatureKind.textHash(TextHashing(nFeatures: 32)),
                     .tfidf(Tfidf(vocabulary: ["aa", "bb"], idf: [1, 2]))] {
            let f = try featurizeOne(kind, type: .string, stringColumn(["aa bb", "aa", ""], missing: [false, true, false]))
            #expect(!f.nonZeros(0).isEmpty)
            #expect(f.nonZeros(1).isEmpty && f.nonZeros(2).isEmpty, "\(kind)")
        }
    }

    @Test func tfidfByHand() throws {
        // counts: aa 2, bb 1, cc 0 (unknown "zz" ignored); idf 1, 2, 3.
        let kind = FeatureKind.tfidf(Tfidf(vocabulary: ["aa", "bb", "cc"], idf: [1, 2, 3], norm: .none))
        let f = try featurizeOne(kind, type: .string, stringColumn(["AA zz bb aa"]))
        #expect(f.row(0) == [2, 2, 0])
        let sub = FeatureKind.tfidf(Tfidf(vocabulary: ["aa", "bb", "cc"], idf: [1, 2, 3], sublinearTF: true, norm: .l1))
        let g = try featurizeOne(sub, type: .string, stringColumn(["AA zz bb aa"]))
        let a = 1 + log(2.0), b = 2.0  // the C library's log, as NumPy's
        #expect(g.row(0) == [Float(a / (a + b)), Float(b / (a + b)), 0])
    }

    @Test func wordTerms() {
        let word = TextAnalysis()
        #expect(PythonText.terms(in: "Hello, World! a bb c_d 3.14 ²x", word) == ["hello", "world", "bb", "c_d", "14", "²x"])
        #expect(PythonText.terms(in: "e\u{301}cole", word) == ["cole"], "U+0301 is a mark, not \\w")
        #expect(PythonText.terms(in: "", word).isEmpty)
        #expect(PythonText.terms(in: "!!! ...", word).isEmpty)
        let bigrams = TextAnalysis(ngramRange: 1...2, stopWords: ["the"])
        #expect(PythonText.terms(in: "The cat the hat", bigrams).sorted() == ["cat", "cat hat", "hat"])
    }

    @Test func characterTerms() {
        let char = TextAnalysis(analyzer: .char, lowercase: false, ngramRange: 2...3)
        #expect(PythonText.terms(in: "ab  c\td", char) == ["ab", "b ", " c", "c\t", "\td", "ab ", "b c", " c\t", "c\td"],
                "a run of white space becomes one space; a single tab stays")
        let wb = TextAnalysis(analyzer: .charWB, ngramRange: 2...4)
        #expect(PythonText.terms(in: "ab", wb) == [" a", "ab", "b ", " ab", "ab ", " ab "])
        #expect(PythonText.terms(in: "a", wb) == [" a", "a ", " a "], "a word shorter than n counts once")
        #expect(PythonText.terms(in: "🎉", TextAnalysis(analyzer: .char)) == ["🎉"], "characters are code points")
    }
}

