/// infer → aggregate: the model's selected float output, one row per accepted record.
///
/// Wire layout: the envelope (with passthrough), u32 rows, u32 cols, the drift counts, then
/// 64-byte aligned rows×cols f32.
public struct ScoreBatchView {
    public let envelope: EnvelopeView
    public let rows: Int
    public let cols: Int
    public let drift: DriftCounts
    public let values: UnsafeBufferPointer<Float>

    /// Writes the header and envelope, then reserves rows×cols floats that `fill` writes in place.
    public static func encode(into out: FrameBuffer, sequence: UInt64, envelope: EnvelopeView, rows: Int, cols: Int,
                              drift: DriftCounts, flags: FrameFlags = [],
                              fill: (UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        try out.frame(FrameHeader(kind: .scores, flags: flags, rowCount: UInt32(rows), sequence: sequence)) { out in
            envelope.encode(into: out)
            out.append(UInt32(rows))
            out.append(UInt32(cols))
            drift.encode(into: out)
            let offset = out.appendUninitialized(Float.self, count: rows * cols, alignment: FrameHeader.alignment)
            try fill(out.pointer(at: offset, as: Float.self))
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> ScoreBatchView {
        guard frame.header.kind == .scores else { throw .unexpected(kind: frame.header.kind, context: "where scores belong") }
        var r = ByteReader(payload: frame.payload)
        let envelope = try EnvelopeView.decode(&r)
        let rows = Int(try r.read(UInt32.self, "scores.rows"))
        let cols = Int(try r.read(UInt32.self, "scores.cols"))
        let drift = try DriftCounts.decode(&r)
        guard rows == Int(frame.header.rowCount), rows + envelope.rejectCount == Int(envelope.recordCount) else {
            throw .invalid(field: "scores.rows", reason: "row count disagrees with the header or envelope")
        }
        for c in envelope.passthrough where c.count != rows {
            throw .invalid(field: "scores.passthrough", reason: "\(counted(c.count, "value")) for \(counted(rows, "row"))")
        }
        guard cols == 0 || rows <= r.remaining / 4 / cols else { throw .truncated(field: "scores.values") }
        let values = try r.array(Float.self, count: rows * cols, alignment: FrameHeader.alignment, "scores.values")
        return ScoreBatchView(envelope: envelope, rows: rows, cols: cols, drift: drift, values: values)
    }
}
