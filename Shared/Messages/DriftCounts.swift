/// One batch's counts for the drift watch: how many of its rows fall in each slot of the run's
/// `DriftPlan` (its input fields' slots, counted by featurize, then its predictions' slots,
/// appended by aggregate). Empty when the run watches no drift.
///
/// Every count is at most the batch's row count (`OutputBatchView.decode` checks it), so the sink
/// can add up the counts of any number of batches in 64 bits.
public struct DriftCounts: Sendable, Equatable {
    /// The most slots a plan may have (`DriftPlan.slotCount` is checked against it at load).
    public static let maxSlots = 1 << 16

    public var counts: [UInt32]

    public init(_ counts: [UInt32] = []) { self.counts = counts }

    /// Wire layout: (padding to 4) u32 n, n × u32, padding to 8.
    func encode(into out: FrameBuffer) {
        out.pad(to: 4)
        out.append(UInt32(counts.count))
        counts.withUnsafeBytes { out.append(bytes: $0) }
        out.pad(to: 8)
    }

    static func decode(_ r: inout ByteReader) throws(FrameError) -> DriftCounts {
        try r.skip(to: 4)
        let n = try r.readCount("drift.count", elementSize: 4)
        guard n <= maxSlots else { throw .invalid(field: "drift.count", reason: "\(n) slots > \(maxSlots)") }
        let values = try r.array(UInt32.self, count: n, alignment: 4, "drift.counts")
        try r.skip(to: 8)
        return DriftCounts(Array(values))
    }
}
