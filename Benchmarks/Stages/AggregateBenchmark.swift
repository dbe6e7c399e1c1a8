@testable import AggregateStage
import Config
import Foundation
import Messages
import Testing

/// Throughput of the stage on its own, decode and encode included, against the same stage
/// spelling its floats with Swift's formatter (`FloatWriter` `.swift`: `Float.write(to:)`, the
/// `Float.description` text, as the stage wrote floats before `ShortestFloat`): same batches,
/// same bytes, rounds alternated so that both see the same machine.
/// Opt-in (it measures, it does not assert a time; CPU time of the thread, as the machine is
/// shared), one test at a time:
/// `PIPELINE_BENCH=1 swift test -c release --no-parallel --filter AggregateBenchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PIPELINE_BENCH"] != nil))
struct AggregateBenchmark {
    func run(format: OutputFormat) throws {
        let rows = 256, cols = 10, batches = 2000, rounds = 5
        let labels = (0..<cols).map { ClassLabel.string("class-\($0)") }
        let config = makeConfig(fields: [FieldSpec(name: "id", type: .int)], format: format, passthrough: ["id"],
                                labels: labels, outputFields: [.label, .score, .probabilities])
        var current = try AggregateProcessor(config: config)
        var reference = try AggregateProcessor(config: config, floats: .swift)
        var random = SplitMix(seed: 3)
        var scores: [Float] = []
        for _ in 0..<rows {
            let raw = (0..<cols).map { _ in Float.random(in: 0.01...1, using: &random) }
            let sum = raw.reduce(0, +)
            scores += raw.map { $0 / sum }  // softmax-like: 7–9 significant digits each
        }
        let input = try scoreFrame(scores, rows: rows, cols: cols, passthrough: [Column(.int((0..<rows).map { Int64($0) * 1000 }))])
        let (frame, _) = try #require(try FrameDecoder().decode(input.bytes))
        let out = FrameBuffer(capacity: 1 << 20), referenceOut = FrameBuffer(capacity: 1 << 20)
        try current.process(frame, into: out)
        try reference.process(frame, into: referenceOut)
        try #require(Array(out.bytes) == Array(referenceOut.bytes), "the two paths wrote different bytes")

        func seconds(_ p: inout AggregateProcessor, _ out: FrameBuffer) throws -> Double {
            let start = threadCPUSeconds()
            for _ in 0..<batches {
                out.removeAll()
                try p.process(frame, into: out)
            }
            return threadCPUSeconds() - start
        }
        var best = Double.infinity, referenceBest = Double.infinity
        for _ in 0..<rounds {
            best = min(best, try seconds(&current, out))
            referenceBest = min(referenceBest, try seconds(&reference, referenceOut))
        }
        let rate = Double(rows * batches) / best, referenceRate = Double(rows * batches) / referenceBest
        print("aggregate \(format): new \(Int(rate)) rows/s, Float.description \(Int(referenceRate)) rows/s, "
              + "ratio \(String(format: "%.2f", rate / referenceRate))× "
              + "(id + label + score + 10 probabilities, \(rows)-row batches, \(out.count / rows) bytes/row, "
              + "best of \(rounds) alternated rounds, thread CPU time)")
    }

    @Test func jsonl() throws { try run(format: .jsonl) }
    @Test func csv() throws { try run(format: .csv) }
}
