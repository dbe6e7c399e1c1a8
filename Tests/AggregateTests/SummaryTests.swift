import AggregateStage
import Config
import Messages
import Testing

/// The per-batch summary the sink merges.
@Suite struct SummaryTests {
    @Test func classifierCountsAndHistogram() throws {
        var p = try AggregateProcessor(config: makeConfig(labels: ["a", "b", "c"]))
        let out = try aggregate(&p, [0.1, 0.2, 0.7,
                                     0.9, 0.05, 0.05,
                                     0.2, 0.5, 0.3,
                                     0.0, 0.0, 1.0], rows: 4, cols: 3)
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
        #expect(s.drift.isEmpty, "no drift plan, no drift counts")
    }

    /// With a drift plan, the input fields' counts (from featurize) come first, then the
    /// predicted label's slot (by the label's text: "c" is in the plan, "b" is other) and the
    /// score's bin (edges 0.6 and 0.8; a NaN score is missing).
    @Test func driftCountsFollowTheInputFieldsCounts() throws {
        var config = makeConfig(labels: ["a", "b", "c"])
        config.driftPlan = DriftPlan(fields: [DriftPlan.Field(name: "x", kind: .numeric, edges: [1])],
                                     predictions: [DriftPlan.Field(name: "label", kind: .categorical, values: ["c", "a"]),
                                                   DriftPlan.Field(name: "score", kind: .numeric, edges: [0.6, 0.8])])
        var p = try AggregateProcessor(config: config)
        let out = try aggregate(&p, [0.1, 0.2, 0.7,
                                     0.9, 0.05, 0.05,
                                     0.2, 0.5, 0.3,
                                     .nan, .nan, .nan], rows: 4, cols: 3, drift: DriftCounts([1, 2, 1]))
        // label: c (row 0), a (row 1), b → other (row 2), row 3 (all NaN: argmax 0) a; score: 0.7, 0.9, 0.5, NaN.
        #expect(out.summary.drift == [1, 2, 1,  1, 2, 1, 0,  1, 1, 1, 1])
        // Counts from upstream of another size: the batch is left uncounted rather than misread.
        let wrong = try aggregate(&p, [0.1, 0.2, 0.7], rows: 1, cols: 3, drift: DriftCounts([1]))
        #expect(wrong.summary.drift.isEmpty)
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
