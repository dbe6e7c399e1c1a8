/// ingest → featurize: the accepted records of a batch as typed columns, in schema order.
///
/// Wire layout: the envelope (no passthrough yet), u32 columnCount, the columns.
public struct RecordBatchView {
    public let envelope: EnvelopeView
    /// Accepted rows (every column has this many values).
    public let rows: Int
    public let columns: [ColumnView]

    public static func encode(into out: FrameBuffer, sequence: UInt64, envelope: Envelope, columns: [Column],
                              flags: FrameFlags = []) {
        let rows = columns.first?.count ?? 0
        precondition(columns.allSatisfy { $0.count == rows }, "every column needs one value per row")
        out.frame(FrameHeader(kind: .records, flags: flags, rowCount: UInt32(rows), sequence: sequence)) { out in
            envelope.encode(into: out)
            out.append(UInt32(columns.count))
            for c in columns { c.encode(into: out) }
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> RecordBatchView {
        guard frame.header.kind == .records else { throw .unexpected(kind: frame.header.kind, context: "where records belong") }
        var r = ByteReader(payload: frame.payload)
        let envelope = try EnvelopeView.decode(&r)
        let count = try r.readCount("records.columnCount", elementSize: 8)
        let rows = Int(frame.header.rowCount)
        var columns: [ColumnView] = []
        columns.reserveCapacity(count)
        for _ in 0..<count {
            let c = try ColumnView.decode(&r)
            guard c.count == rows else {
                throw .invalid(field: "records.column", reason: "\(counted(c.count, "value")) for \(counted(rows, "row"))")
            }
            columns.append(c)
        }
        guard rows + envelope.rejectCount == Int(envelope.recordCount) else {
            throw .invalid(field: "records.rows", reason: "rows + rejects != records")
        }
        return RecordBatchView(envelope: envelope, rows: rows, columns: columns)
    }
}

/// Any stage → next: a batch whose every record was rejected; it only carries its envelope.
public struct ErrorBatchView {
    public let envelope: EnvelopeView

    public static func encode(into out: FrameBuffer, sequence: UInt64, envelope: Envelope, flags: FrameFlags = []) {
        out.frame(FrameHeader(kind: .errors, flags: flags, rowCount: 0, sequence: sequence)) { out in
            envelope.encode(into: out)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> ErrorBatchView {
        guard frame.header.kind == .errors else { throw .unexpected(kind: frame.header.kind, context: "where an error batch belongs") }
        var r = ByteReader(payload: frame.payload)
        return ErrorBatchView(envelope: try EnvelopeView.decode(&r))
    }
}
