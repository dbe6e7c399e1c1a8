import Config
import FeaturizeStage
import Foundation
import Messages
import Testing
import TestSupport

/// Throughput of the stage on its own, decode and encode included. Opt-in (it measures, it does
/// not assert a time; CPU time of the thread, as the machine is shared), one test at a time:
/// `PIPELINE_BENCH=1 swift test -c release --no-parallel --filter StageBenchmarks`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PIPELINE_BENCH"] != nil))
struct FeaturizeBenchmark {
    @Test func standardize64Floats() throws {
        let n = 64, rows = 256, batches = 4000
        let fields = (0..<n).map { FieldSpec(name: "f\($0)", type: .float) }
        let features = (0..<n).map { FeatureSpec(field: "f\($0)", kind: .standardize(mean: Double($0), std: 3)) }
        var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: features))
        var random = SplitMix(seed: 1)
        let columns = (0..<n).map { _ in Column(.float((0..<rows).map { _ in Double(random.next() % 10_000) / 7 })) }
        let input = FrameBuffer()
        RecordBatchView.encode(into: input, sequence: 1, envelope: Envelope(firstLine: 1, byteOffset: 0,
                                                                           recordCount: UInt32(rows)), columns: columns)
        let (frame, _) = try #require(try FrameDecoder().decode(input.bytes))
        let out = FrameBuffer(capacity: 1 << 20)
        var seconds = Double.infinity
        for _ in 0..<3 {
            let start = threadCPUSeconds()
            for _ in 0..<batches {
                out.removeAll()
                try p.process(frame, into: out)
            }
            seconds = min(seconds, threadCPUSeconds() - start)
        }
        print("featurize: 64 standardized floats, \(rows)-row batches: \(Int(Double(rows * batches) / seconds)) rows/s")
    }
}

/// Text kinds: a default HashingVectorizer (2^20 columns, CSR) and a char_wb TfidfVectorizer on
/// ~30-word documents with some non-ASCII text. Opt-in like the one above.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PIPELINE_BENCH"] != nil))
struct TextFeaturizeBenchmark {
    @Test(arguments: ["text_hash word 1-2", "tfidf char_wb 2-4"])
    func documents(_ name: String) throws {
        let rows = 256, batches = 200
        var random = SplitMix(seed: 3)
        let words = "the quick brown fox jumps over lazy dog Zürich café naïve ΟΔΟΣ 日本語 refund crash 🎉".split(separator: " ")
        let docs = (0..<rows).map { _ in (0..<30).map { _ in String(words[Int(random.next() % UInt64(words.count))]) }
            .joined(separator: " ") }
        let kind: FeatureKind
        if name.hasPrefix("text_hash") {
            kind = .textHash(TextHashing(analysis: TextAnalysis(ngramRange: 1...2)))
        } else {
            let vocabulary = Set(docs.flatMap { PythonText.terms(in: $0, TextAnalysis(analyzer: .charWB, ngramRange: 2...4)) })
            kind = .tfidf(Tfidf(vocabulary: vocabulary.sorted(), idf: vocabulary.map { _ in 1.5 }, sublinearTF: true,
                                analysis: TextAnalysis(analyzer: .charWB, ngramRange: 2...4)))
        }
        var p = try FeaturizeProcessor(config: makeConfig(fields: [FieldSpec(name: "t", type: .string)],
                                                          features: [FeatureSpec(field: "t", kind: kind)]))
        let input = FrameBuffer()
        RecordBatchView.encode(into: input, sequence: 1, envelope: Envelope(firstLine: 1, byteOffset: 0,
                                                                           recordCount: UInt32(rows)),
                               columns: [stringColumn(docs)])
        let (frame, _) = try #require(try FrameDecoder().decode(input.bytes))
        let out = FrameBuffer(capacity: 1 << 20)
        var seconds = Double.infinity
        for _ in 0..<3 {
            let start = threadCPUSeconds()
            for _ in 0..<batches {
                out.removeAll()
                try p.process(frame, into: out)
            }
            seconds = min(seconds, threadCPUSeconds() - start)
        }
        print("featurize: \(name), 30-word documents: \(Int(Double(rows * batches) / seconds)) rows/s")
    }
}
