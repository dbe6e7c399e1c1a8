/// What aggregate reports about one batch; the sink merges the summaries of committed batches.
public struct BatchSummary: Sendable, Equatable {
    /// Bins of the score histogram over [0, 1] (scores outside are clamped into the end bins).
    public static let histogramBins = 20

    /// Output records (accepted rows).
    public var rows: UInt64 = 0
    /// Rows per predicted class (argmax), for classifiers.
    public var labelCounts: [UInt64] = []
    /// Histogram of the score (probability of the predicted class, or the prediction).
    public var scoreHistogram: [UInt64] = Array(repeating: 0, count: BatchSummary.histogramBins)
    public var scoreSum: Double = 0
    public var scoreSumSquares: Double = 0
    /// The drift watch's slot counts (see `DriftPlan`); empty when the run watches no drift.
    public var drift: [UInt64] = []
    /// How the shadow version's results compare with these (`rollout --shadow`); nil: no shadow.
    public var shadow: ShadowStats?

    public init() {}

    /// Adds `other` into this summary; `drift`: its drift counts too (the sink's run-wide
    /// summary leaves them to the drift watch, which adds them up by window).
    public mutating func merge(_ other: BatchSummary, drift includeDrift: Bool = true) {
        rows += other.rows
        if labelCounts.count < other.labelCounts.count {
            labelCounts += Array(repeating: 0, count: other.labelCounts.count - labelCounts.count)
        }
        for (i, c) in other.labelCounts.enumerated() { labelCounts[i] += c }
        for (i, c) in other.scoreHistogram.enumerated() where i < scoreHistogram.count { scoreHistogram[i] += c }
        scoreSum += other.scoreSum
        scoreSumSquares += other.scoreSumSquares
        if let theirs = other.shadow {
            if shadow == nil { shadow = ShadowStats() }
            shadow!.merge(theirs)
        }
        guard includeDrift else { return }
        if drift.count < other.drift.count { drift += Array(repeating: 0, count: other.drift.count - drift.count) }
        drift.withUnsafeMutableBufferPointer { mine in
            other.drift.withUnsafeBufferPointer { theirs in
                for i in theirs.indices { mine[i] &+= theirs[i] }
            }
        }
    }

    /// Counts one score into the histogram and sums.
    public mutating func add(score: Float) {
        let s = Double(score)
        guard s.isFinite else { return }
        scoreSum += s
        scoreSumSquares += s * s
        // Clamp in Double first: a regression output can be far outside Int's range.
        let scaled = min(max(s * Double(Self.histogramBins), 0), Double(Self.histogramBins - 1))
        let bin = Int(scaled)
        scoreHistogram[bin] += 1
    }

    func encode(into out: FrameBuffer) {
        out.append(rows)
        out.append(UInt32(labelCounts.count))
        out.append(UInt32(scoreHistogram.count))
        for c in labelCounts { out.append(c) }
        for c in scoreHistogram { out.append(c) }
        out.append(scoreSum)
        out.append(scoreSumSquares)
        out.append(UInt32(drift.count))
        // As u32 (a batch's counts are at most its rows): the sink reads every output frame, and
        // a plan watching 64 fields has ~700 slots.
        let offset = out.appendUninitialized(UInt32.self, count: drift.count, alignment: 4)
        let p = out.pointer(at: offset, as: UInt32.self)
        for (i, c) in drift.enumerated() { p[i] = UInt32(truncatingIfNeeded: c).littleEndian }
        out.pad(to: 8)
        out.append(UInt64(shadow == nil ? 0 : 1))
        shadow?.encode(into: out)
    }

    static func decode(_ r: inout ByteReader) throws(FrameError) -> BatchSummary {
        var s = BatchSummary()
        s.rows = try r.read(UInt64.self, "summary.rows")
        let classes = try r.readCount("summary.classes", elementSize: 8)
        let bins = try r.readCount("summary.bins", elementSize: 8)
        guard bins == histogramBins else { throw .invalid(field: "summary.bins", reason: "expected \(histogramBins)") }
        s.labelCounts = []
        s.labelCounts.reserveCapacity(classes)
        for _ in 0..<classes { s.labelCounts.append(try r.read(UInt64.self, "summary.labelCounts")) }
        for i in 0..<bins { s.scoreHistogram[i] = try r.read(UInt64.self, "summary.histogram") }
        s.scoreSum = try r.readDouble("summary.scoreSum")
        s.scoreSumSquares = try r.readDouble("summary.scoreSumSquares")
        let slots = try r.readCount("summary.drift", elementSize: 4)
        guard slots <= DriftCounts.maxSlots else { throw .invalid(field: "summary.drift", reason: "\(slots) slots > \(DriftCounts.maxSlots)") }
        s.drift = try r.array(UInt32.self, count: slots, alignment: 4, "summary.drift").map { UInt64(UInt32(littleEndian: $0)) }
        try r.skip(to: 8)
        switch try r.read(UInt64.self, "summary.hasShadow") {
        case 0: break
        case 1: s.shadow = try ShadowStats.decode(&r)
        default: throw .invalid(field: "summary.hasShadow", reason: "not 0 or 1")
        }
        return s
    }
}

/// aggregate → sink: the batch's output records, formatted, plus its summary.
///
/// Wire layout: the envelope (rejects; no passthrough), the summary, the output bytes
/// (length-prefixed; whole lines).
public struct OutputBatchView {
    public let envelope: EnvelopeView
    public let summary: BatchSummary
    public let text: UnsafeRawBufferPointer

    public static func encode(into out: FrameBuffer, sequence: UInt64, envelope: EnvelopeView, rows: Int,
                              summary: BatchSummary, text: UnsafeRawBufferPointer, flags: FrameFlags = []) {
        out.frame(FrameHeader(kind: .output, flags: flags, rowCount: UInt32(rows), sequence: sequence)) { out in
            envelope.encode(into: out, passthrough: [])
            summary.encode(into: out)
            out.append(lengthPrefixed: text)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> OutputBatchView {
        guard frame.header.kind == .output else { throw .unexpected(kind: frame.header.kind, context: "where output belongs") }
        var r = ByteReader(payload: frame.payload)
        let envelope = try EnvelopeView.decode(&r)
        let summary = try BatchSummary.decode(&r)
        let text = try r.lengthPrefixed("output.text")
        guard Int(frame.header.rowCount) + envelope.rejectCount == Int(envelope.recordCount) else {
            throw .invalid(field: "output.rows", reason: "rows + rejects != records")
        }
        // The summary counts this batch's rows, so its counts are bounded by them: the sink can
        // then add up any number of summaries without overflowing.
        let rows = UInt64(frame.header.rowCount)
        guard summary.rows == rows, summary.labelCounts.allSatisfy({ $0 <= rows }), summary.scoreHistogram.allSatisfy({ $0 <= rows }),
              summary.labelCounts.reduce(0, +) <= rows, summary.scoreHistogram.reduce(0, +) <= rows,
              summary.drift.allSatisfy({ $0 <= rows }), (summary.shadow?.rows ?? 0) <= rows else {
            throw .invalid(field: "output.summary", reason: "its counts do not fit the batch's \(counted(rows, "row"))")
        }
        return OutputBatchView(envelope: envelope, summary: summary, text: text)
    }
}
