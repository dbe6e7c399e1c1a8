import Config
import Kernels
import Messages

/// The aggregate stage: each score batch becomes one output batch (same sequence number and
/// flags) holding its formatted records, one line per row in row order, and a `BatchSummary`.
///
/// A record holds the passthrough fields (config order) and then `fields` (config order):
/// - `label`: the row's argmax (first maximum; a NaN counts as the maximum, as in numpy), as its
///   class when `labels` is given (an integer class as a number, a string class as a string),
///   else as an integer index;
/// - `score`: the row's value at the argmax (the value itself for one-column output);
/// - `probabilities`: every value of the row (JSON: an array; CSV: one field per class);
/// - `prediction`: the row's first value.
///
/// Floats are written in the shortest form that reads back as the same Float32 (passthrough
/// float fields: the same Float64); non-finite values are written like missing ones: `null` in
/// JSON, an empty field in CSV. JSON strings are escaped per RFC 8259 and CSV fields quoted per
/// RFC 4180; lines end in `\n`. The CSV header is not part of any batch: see `csvHeader`.
///
/// The summary counts rows, the argmax per class (when `labels` is given or the output has more
/// than one column), the score histogram, and, with a drift plan, the batch's drift counts: the
/// input fields' from featurize, then the predicted label's and score's.
public struct AggregateProcessor: StageProcessor {
    /// Aggregate consumes score batches.
    public static let inputKind: FrameKind = .scores

    private let plan: OutputPlan
    private var writer: RecordWriter
    private let text = OutputBuffer()
    private var best: [Int32] = []
    /// The drift plan's predictions (`label`, `score`), when the run watches drift.
    private let drift: DriftPlan?
    private let labelNames: [String]?
    /// The classes (`[output] labels`, or the model's), to compare with a shadow version's.
    private let classes: [ClassLabel]?
    /// The shadow version's argmax per row (reused).
    private var shadowBest: [Int32] = []
    /// Per class, its slot in the plan's `label` field (built for the width the batches have).
    private var labelSlots: [Int] = []
    /// Each row's score as a Double, for the drift watch's bins (reused).
    private var scoreScratch: [Double] = []
    /// The batch's drift counts, reused: the summary holds them only until the frame is written.
    private var driftBuffer: [UInt64] = []

    /// Compiles the `[output]` section.
    ///
    /// - Throws: `AggregateError` when a passthrough field is not in the schema or `labels` is empty.
    public init(config: PipelineConfig) throws(AggregateError) {
        plan = try OutputPlan(config: config)
        writer = RecordWriter(plan: plan)
        drift = config.driftPlan
        labelNames = config.output.labels?.map(\.description)
        classes = config.output.labels
    }

    /// The same, spelling floats with `floats` (the stage benchmark's reference path).
    init(config: PipelineConfig, floats: FloatWriter) throws(AggregateError) {
        try self.init(config: config)
        writer.floats = floats
    }

    /// The CSV header line (newline included) that the sink writes once before the records.
    ///
    /// - Parameters:
    ///   - config: the pipeline config; only `[output]` is read.
    ///   - classes: the model's output width. Needed only for `probabilities` without `labels`
    ///     (one `p_<index>` column per class); otherwise the labels give the `p_<label>` names.
    /// - Throws: `AggregateError.unknownClassCount` when the header needs `classes` and it is nil.
    public static func csvHeader(config: PipelineConfig, classes: Int? = nil) throws(AggregateError) -> String {
        try OutputPlan.csvHeader(config.output, classes: classes)
    }

    /// Turns one `.scores` frame into one `.output` frame appended to `out`.
    ///
    /// - Throws: `FrameError` when the frame is malformed or its passthrough columns do not
    ///   match `[output] passthrough`; `AggregateError` when the model's width does not fit the
    ///   labels (or is zero), which is a configuration fault, not bad input.
    public mutating func process(_ frame: Frame, into out: FrameBuffer) throws {
        try write(frame, try ScoreBatchView.decode(frame), shadow: nil, into: out)
    }

    /// A batch a shadow version scored too: this version's output, with the comparison of the
    /// two in its summary (`ShadowStats`). The shadow's scores ride behind the frame (`ShadowFrame`).
    public mutating func process(_ frame: Frame, shadow: inout any StageProcessor, scratch: FrameBuffer, into out: FrameBuffer) throws {
        guard let other = shadow as? AggregateProcessor else { preconditionFailure("a shadow aggregate processor of another kind") }
        guard let inner = try ShadowFrame.inner(of: frame) else {
            throw FrameError.invalid(field: "scores.shadow", reason: "no shadow scores behind a shadowed batch")
        }
        let batch = try ScoreBatchView.decode(frame)
        let theirs = try ScoreBatchView.decode(inner)
        guard theirs.rows == batch.rows else {
            throw FrameError.invalid(field: "scores.shadow", reason: "\(theirs.rows) shadow rows for \(batch.rows)")
        }
        let stats = compare(batch, with: theirs, classes: other.classes)
        try write(frame, batch, shadow: stats, into: out)
    }

    /// How `theirs` (the shadow version's scores, with its `classes`) differs from `batch`: rows
    /// whose labels differ (argmax, first maximum, as the output writes it) and the largest
    /// probability differences over the classes both have (matched by class; by column without
    /// classes on either side).
    mutating func compare(_ batch: ScoreBatchView, with theirs: ScoreBatchView, classes theirClasses: [ClassLabel]?) -> ShadowStats {
        let rows = batch.rows
        var stats = ShadowStats()
        stats.rows = UInt64(rows)
        guard rows > 0, batch.cols > 0, theirs.cols > 0 else { return stats }
        if best.count < rows { best = Array(repeating: 0, count: rows) }
        if shadowBest.count < rows { shadowBest = Array(repeating: 0, count: rows) }
        let mine = classes ?? (0..<batch.cols).map { ClassLabel.int(Int64($0)) }
        let their = theirClasses ?? (0..<theirs.cols).map { ClassLabel.int(Int64($0)) }
        // Column pairs (mine, theirs) of the classes both versions have.
        var pairs: [(Int, Int)] = []
        if classes == nil && theirClasses == nil {
            pairs = (0..<min(batch.cols, theirs.cols)).map { ($0, $0) }
        } else {
            for (i, label) in mine.enumerated() where i < batch.cols {
                if let j = their.firstIndex(of: label), j < theirs.cols { pairs.append((i, j)) }
            }
        }
        best.withUnsafeMutableBufferPointer { a in
            shadowBest.withUnsafeMutableBufferPointer { b in
                argmaxRows(batch.values.baseAddress!, rows: rows, cols: batch.cols, ld: batch.cols, into: a.baseAddress!)
                argmaxRows(theirs.values.baseAddress!, rows: rows, cols: theirs.cols, ld: theirs.cols, into: b.baseAddress!)
                for row in 0..<rows {
                    let i = Int(a[row]), j = Int(b[row])
                    let same = i < mine.count && j < their.count ? mine[i] == their[j] : i == j
                    if !same { stats.labelDisagreements += 1 }
                    var largest: Float = 0
                    for (x, y) in pairs {
                        let d = abs(batch.values[row * batch.cols + x] - theirs.values[row * theirs.cols + y])
                        if d > largest || d.isNaN { largest = d }
                    }
                    if largest > stats.maxDifference || largest.isNaN { stats.maxDifference = largest }
                    stats.sumOfRowMaxima += Double(largest)
                }
            }
        }
        return stats
    }

    private mutating func write(_ frame: Frame, _ batch: ScoreBatchView, shadow: ShadowStats?, into out: FrameBuffer) throws {
        let rows = batch.rows, cols = batch.cols
        try checkPassthrough(batch.envelope.passthrough)
        if rows > 0 && cols == 0 { throw AggregateError.noScores }
        if let labels = plan.labels, labels.count != cols, rows > 0 {
            throw AggregateError.labelCountMismatch(labels: labels.count, columns: cols)
        }

        if best.count < rows { best = Array(repeating: 0, count: rows) }
        var summary = BatchSummary()
        summary.rows = UInt64(rows)
        summary.shadow = shadow
        let classifier = plan.labels != nil || cols > 1
        if classifier { summary.labelCounts = Array(repeating: 0, count: cols) }
        if let drift, labelSlots.count != cols, let label = drift.predictions.first(where: { $0.kind == .categorical }) {
            labelSlots = (0..<cols).map { i in
                let name = labelNames.map { i < $0.count ? $0[i] : String(i) } ?? String(i)
                return label.values.firstIndex { $0.utf8.elementsEqual(name.utf8) } ?? label.otherSlot
            }
        }
        let drift = self.drift, labelSlots = self.labelSlots
        // Moved out and back, so that it stays uniquely referenced (no copy per batch).
        var scratch = self.scoreScratch, counts = self.driftBuffer
        self.scoreScratch = []
        self.driftBuffer = []
        defer {
            self.scoreScratch = scratch
            self.driftBuffer = counts
        }
        best.withUnsafeMutableBufferPointer { best in
            if rows > 0 { argmaxRows(batch.values.baseAddress!, rows: rows, cols: cols, ld: cols, into: best.baseAddress!) }
            for row in 0..<rows {
                let i = Int(best[row])
                if classifier { summary.labelCounts[i] += 1 }
                summary.add(score: batch.values[row * cols + i])
            }
            text.removeAll()
            writer.write(scores: batch.values, rows: rows, cols: cols, best: best.baseAddress!,
                         passthrough: batch.envelope.passthrough, into: text)
            if let drift {
                if scratch.count < rows { scratch = Array(repeating: 0, count: rows) }
                let counted = scratch.withUnsafeMutableBufferPointer { scores in
                    Self.countDrift(drift, batch: batch, best: best, labelSlots: labelSlots, labelCounts: summary.labelCounts,
                                    classifier: classifier, scores: scores.baseAddress!, into: &counts)
                }
                if counted { summary.drift = counts }
            }
        }
        OutputBatchView.encode(into: out, sequence: frame.header.sequence, envelope: batch.envelope, rows: rows,
                               summary: summary, text: text.bytes, flags: frame.header.flags)
    }

    /// The batch's drift counts: the input fields' (from featurize), then the predictions'.
    /// Counts of the wrong size from upstream leave the batch uncounted (empty), which the
    /// supervisor's watch reports, rather than counts that would mean something else.
    /// The label's slots come from the label counts; the scores are gathered and binned
    /// edge by edge (`DriftPlan.Field.bin`), not one by one.
    private static func countDrift(_ drift: DriftPlan, batch: ScoreBatchView, best: UnsafeMutableBufferPointer<Int32>,
                                   labelSlots: [Int], labelCounts: [UInt64], classifier: Bool,
                                   scores: UnsafeMutablePointer<Double>, into counts: inout [UInt64]) -> Bool {
        guard batch.drift.counts.count == drift.inputSlotCount else { return false }
        let rows = batch.rows, cols = batch.cols
        if counts.count != drift.slotCount { counts = Array(repeating: 0, count: drift.slotCount) }
        counts.withUnsafeMutableBufferPointer { counts in
            counts.update(repeating: 0)
            batch.drift.counts.withUnsafeBufferPointer { input in
                for i in input.indices { counts[i] = UInt64(input[i]) }
            }
            var base = drift.inputSlotCount
            for field in drift.predictions {
                if field.kind == .categorical {
                    if classifier {
                        for (i, n) in labelCounts.enumerated() { counts[base + labelSlots[i]] += n }
                    } else {
                        counts[base + field.missingSlot] += UInt64(rows)
                    }
                } else {
                    for row in 0..<rows { scores[row] = Double(batch.values[row * cols + Int(best[row])]) }
                    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: field.slotCount) { bins in
                        bins.initialize(repeating: 0)
                        field.edges.withUnsafeBufferPointer { edges in
                            DriftPlan.Field.bin(UnsafeRawPointer(scores), rows: rows, edges: edges, into: bins.baseAddress!,
                                                missingSlot: field.missingSlot)
                        }
                        for (i, n) in bins.enumerated() { counts[base + i] += UInt64(n) }
                    }
                }
                base += field.slotCount
            }
        }
        return true
    }

    private func checkPassthrough(_ columns: [ColumnView]) throws(FrameError) {
        guard columns.count == plan.passthroughTypes.count else {
            throw .invalid(field: "scores.passthrough",
                           reason: "\(columns.count) passthrough columns where [output] names \(plan.passthroughTypes.count)")
        }
        for (i, column) in columns.enumerated() where column.type != plan.passthroughTypes[i] {
            throw .invalid(field: "scores.passthrough",
                           reason: "passthrough column \(i) has type \(column.type), the schema says \(plan.passthroughTypes[i])")
        }
    }
}
