import AggregateStage
import Config
import Messages
import Testing

/// The per-batch summary the sink merges.
@Suite struct SummaryTests {
    @Test func classifierCountsAndHistogram() throws {
        var p = try AggregateProcessor(config: makeConfig(labels: ["a", "b", "c"]))
        let stats = FeatureStats(sums: [1, 2], sumSquares: [3, 4])
        let out = try aggregate(&p, [0.1, 0.2, 0.7,
                                     0.9, 0.05, 0.05,
                                     0.2, 0.5, 0.3,
                                     0.0, 0.0, 1.0], rows: 4, cols: 3, stats: stats)
        let s = out.summary
        #expect(s.rows == 4)
        #expect(s.labelCounts == [1, 1, 2])
        var histogram = Array(repeating: UInt64(0), count: BatchSummary.histogramBins)
        for score: Float in [0.7, 0.9, 0.5, 1.0] {
            histogram[min(Int(Double(score) * Double(BatchSummary.histogramBins)), BatchSummary.histogramBins - 1)] += 1
        }
        #expect(s.scoreHistogram == histogram)
        let scores: [Float] = [0.7, 0.9, 0.5, 1.0]
        #expect(s.scoreSum == scores.reduce(0) { $0 + Double($1) })
        #expect(s.features == stats)
    }

    @Test func classifierWithoutLabelsCountsEveryColumn() throws {
        var p = try AggregateProcessor(config: makeConfig())
        let out = try aggregate(&p, [0.5, 0.5, 0.2, 0.8], rows: 2, cols: 2)
        #expect(out.summary.labelCounts == [1, 1])
    }

    /// Regression: no classes; the histogram holds the prediction (clamped into [0, 1]).
    @Test func regressionHasNoLabelCounts() throws {
        var p = try AggregateProcessor(config: makeConfig(outputFields: [.prediction]))
        let out = try aggregate(&p, [-5, 0.5, 99, .nan], rows: 4, cols: 1)
        #expect(out.summary.rows == 4 && out.summary.labelCounts.isEmpty)
        #expect(out.summary.scoreHistogram.first == 1 && out.summary.scoreHistogram.last == 1)
        #expect(out.summary.scoreHistogram.reduce(0, +) == 3, "a NaN prediction is not counted")
    }

    /// Summaries are per batch: a processor reused for a second batch starts from zero.
    /// Scores far outside [0, 1] (regression) land in the end bins and are summed, not trapped on.
    @Test func hugeScores() throws {
        var p = try AggregateProcessor(config: makeConfig(outputFields: [.prediction]))
        let out = try aggregate(&p, [3e38, -3e38, 1e18], rows: 3, cols: 1)
        #expect(out.summary.scoreHistogram.first == 1 && out.summary.scoreHistogram.last == 2)
        #expect(out.summary.scoreSum == Double(Float(1e18)))
    }

    @Test func summariesDoNotAccumulate() throws {
        var p = try AggregateProcessor(config: makeConfig(labels: ["a", "b"]))
        _ = try aggregate(&p, [0.1, 0.9, 0.2, 0.8], rows: 2, cols: 2)
        let out = try aggregate(&p, [0.9, 0.1], rows: 1, cols: 2)
        #expect(out.summary.rows == 1 && out.summary.labelCounts == [1, 0])
        #expect(out.lines == [#"{"label":"a","score":0.9}"#])
    }
}
