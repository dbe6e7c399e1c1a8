import AggregateStage
import Config
import FeaturizeStage
import Foundation
import Messages
import Testing
import TestSupport

/// What the drift watch adds per record, stage by stage, measured in one process on the same
/// batches with and without the plan, rounds alternated (thread CPU time, best of each): the
/// tabular-mlp shape (64 float fields, 10-bin quantile edges, a 10-class label and a 10-bin
/// score: 719 slots). The processes' figures (`Benchmarks/drift/run.sh`) move ±5% on a shared
/// machine; these do not. The supervisor's share (decoding the summary, adding it to the window)
/// is measured the same way. Opt-in:
/// `PIPELINE_BENCH=1 swift test -c release --no-parallel --filter DriftBenchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PIPELINE_BENCH"] != nil))
struct DriftBenchmark {
    static let n = 64, rows = 256, batches = 4000, rounds = 7

    /// Best CPU seconds of `rounds` runs of `body` each, for `a` and `b` alternated.
    func alternate(_ a: () throws -> Void, _ b: () throws -> Void) rethrows -> (Double, Double) {
        var bestA = Double.infinity, bestB = Double.infinity
        for _ in 0..<Self.rounds {
            var start = threadCPUSeconds()
            for _ in 0..<Self.batches { try a() }
            bestA = min(bestA, threadCPUSeconds() - start)
            start = threadCPUSeconds()
            for _ in 0..<Self.batches { try b() }
            bestB = min(bestB, threadCPUSeconds() - start)
        }
        return (bestA, bestB)
    }

    func ns(_ seconds: Double) -> Double { seconds / Double(Self.rows * Self.batches) * 1e9 }

    @Test func perRecordCostOfWatching64Fields() throws {
        let n = Self.n, rows = Self.rows
        var random = SplitMix(seed: 5)
        let fields = (0..<n).map { FieldSpec(name: "f\($0)", type: .float) }
        let features = (0..<n).map { FeatureSpec(field: "f\($0)", kind: .standardize(mean: 50, std: 30)) }
        let columns = (0..<n).map { _ in Column(.float((0..<rows).map { _ in Double(random.next() % 10_000) / 100 })) }
        let edges = (1..<10).map { Double($0) * 10 }
        let labels = (0..<10).map { ClassLabel.string("c\($0)") }
        let plan = DriftPlan(fields: (0..<n).map { DriftPlan.Field(name: "f\($0)", kind: .numeric, edges: edges) },
                             predictions: [DriftPlan.Field(name: "label", kind: .categorical, values: labels.map(\.description)),
                                           DriftPlan.Field(name: "score", kind: .numeric, edges: (1..<10).map { Double($0) / 10 })])
        var plain = makeConfig(fields: fields, features: features, labels: labels)
        var watched = plain
        watched.driftPlan = plan
        plain.driftPlan = nil

        // featurize
        let input = FrameBuffer()
        RecordBatchView.encode(into: input, sequence: 1, envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: UInt32(rows)),
                               columns: columns)
        let (records, _) = try #require(try FrameDecoder().decode(input.bytes))
        var f0 = try FeaturizeProcessor(config: plain), f1 = try FeaturizeProcessor(config: watched)
        let out0 = FrameBuffer(capacity: 1 << 20), out1 = FrameBuffer(capacity: 1 << 20)
        let (featurizeOff, featurizeOn) = try alternate({ out0.removeAll(); try f0.process(records, into: out0) },
                                                        { out1.removeAll(); try f1.process(records, into: out1) })

        // aggregate: the scores of a 10-class model, with the features' drift counts carried on.
        let features1 = try FeatureBatchView.decode(try #require(try FrameDecoder().decode(out1.bytes)).frame)
        var scores: [Float] = []
        for _ in 0..<rows {
            let raw = (0..<10).map { _ in Float(random.next() % 1000 + 1) }
            let sum = raw.reduce(0, +)
            scores += raw.map { $0 / sum }
        }
        func scoreFrame(_ drift: DriftCounts) -> FrameBuffer {
            let out = FrameBuffer()
            ScoreBatchView.encode(into: out, sequence: 5, envelope: features1.envelope, rows: rows, cols: 10, drift: drift) { p in
                for (i, x) in scores.enumerated() { p[i] = x }
            }
            return out
        }
        let s0 = scoreFrame(DriftCounts()), s1 = scoreFrame(features1.drift)
        let (scores0, _) = try #require(try FrameDecoder().decode(s0.bytes)), (scores1, _) = try #require(try FrameDecoder().decode(s1.bytes))
        var a0 = try AggregateProcessor(config: plain), a1 = try AggregateProcessor(config: watched)
        let (aggregateOff, aggregateOn) = try alternate({ out0.removeAll(); try a0.process(scores0, into: out0) },
                                                        { out1.removeAll(); try a1.process(scores1, into: out1) })

        // The supervisor: decoding each output frame's summary (the sink), and adding the counts
        // up (the drift watch's window: a plain sum here, as DriftWatch.add does).
        out0.removeAll(); try a0.process(scores0, into: out0)
        out1.removeAll(); try a1.process(scores1, into: out1)
        let (output0, _) = try #require(try FrameDecoder().decode(out0.bytes)), (output1, _) = try #require(try FrameDecoder().decode(out1.bytes))
        var window = [UInt64](repeating: 0, count: plan.slotCount)
        let (sinkOff, sinkOn) = try alternate({ _ = try OutputBatchView.decode(output0) }, {
            let summary = try OutputBatchView.decode(output1).summary
            window.withUnsafeMutableBufferPointer { w in summary.drift.withUnsafeBufferPointer { s in for i in s.indices { w[i] &+= s[i] } } }
        })
        #expect(window.reduce(0, +) > 0)

        let added = [ns(featurizeOn - featurizeOff), ns(aggregateOn - aggregateOff), ns(sinkOn - sinkOff)]
        print("drift, \(n) float fields + label + score (\(plan.slotCount) slots), \(rows)-row batches, best of \(Self.rounds) alternated rounds:")
        print(String(format: "  featurize %.1f → %.1f ns/record (+%.1f); aggregate %.1f → %.1f (+%.1f); sink decode + window sum %.1f → %.1f (+%.1f)",
                     ns(featurizeOff), ns(featurizeOn), added[0], ns(aggregateOff), ns(aggregateOn), added[1],
                     ns(sinkOff), ns(sinkOn), added[2]))
        print(String(format: "  added: %.1f ns per record in all", added.reduce(0, +)))
    }
}
