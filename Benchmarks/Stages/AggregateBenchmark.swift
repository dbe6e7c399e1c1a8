import AggregateStage
import Config
import Foundation
import Messages
import Testing

/// Throughput of the stage on its own, decode and encode included. Opt-in (it measures, it does
/// not assert a time; CPU time of the thread, as the machine is shared), one test at a time:
/// `PIPELINE_BENCH=1 swift test -c release --no-parallel --filter StageBenchmarks`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PIPELINE_BENCH"] != nil))
struct AggregateBenchmark {
    func run(format: OutputFormat) throws {
        let rows = 256, cols = 10, batches = 4000
        let labels = (0..<cols).map { ClassLabel.string("class-\($0)") }
        var p = try AggregateProcessor(config: makeConfig(fields: [FieldSpec(name: "id", type: .int)], format: format,
                                                          passthrough: ["id"], labels: labels,
                                                          outputFields: [.label, .score, .probabilities]))
        var random = SplitMix(seed: 3)
        var scores: [Float] = []
        for _ in 0..<rows {
            let raw = (0..<cols).map { _ in Float.random(in: 0.01...1, using: &random) }
            let sum = raw.reduce(0, +)
            scores += raw.map { $0 / sum }  // softmax-like: 7–9 significant digits each
        }
        let input = try scoreFrame(scores, rows: rows, cols: cols, passthrough: [Column(.int((0..<rows).map { Int64($0) * 1000 }))])
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
        print("aggregate \(format): id + label + score + 10 probabilities, \(rows)-row batches: "
              + "\(Int(Double(rows * batches) / seconds)) rows/s, \(out.count / rows) bytes/row")
    }

    @Test func jsonl() throws { try run(format: .jsonl) }
    @Test func csv() throws { try run(format: .csv) }
}
