/// The part of every batch after ingest that travels unchanged to the sink: where the batch sits
/// in the input, the records rejected so far, and the passthrough fields the output needs.
///
/// Wire layout: u64 firstLine, u64 byteOffset, u32 recordCount, u32 rejectCount, u32 rejectBytes,
/// the rejects, u32 passthroughCount, the passthrough columns.
public struct Envelope: Sendable, Equatable {
    /// 1-based line number of the batch's first input line.
    public var firstLine: UInt64
    /// Byte offset of the batch's first input byte.
    public var byteOffset: UInt64
    /// Input records in the batch: accepted rows + rejects.
    public var recordCount: UInt32
    public var rejects: [Reject]
    public var passthrough: [Column]

    public init(firstLine: UInt64, byteOffset: UInt64, recordCount: UInt32, rejects: [Reject] = [],
                passthrough: [Column] = []) {
        self.firstLine = firstLine
        self.byteOffset = byteOffset
        self.recordCount = recordCount
        self.rejects = rejects
        self.passthrough = passthrough
    }

    public func encode(into out: FrameBuffer) {
        out.append(firstLine)
        out.append(byteOffset)
        out.append(recordCount)
        out.append(UInt32(rejects.count))
        let sizeAt = out.count
        out.append(UInt32(0))
        let start = out.count
        for r in rejects { r.encode(into: out) }
        out.patch(UInt32(out.count - start), at: sizeAt)
        out.append(UInt32(passthrough.count))
        for c in passthrough { c.encode(into: out) }
    }
}

/// An envelope read in place.
///
/// - Important: valid only while the frame's bytes are (see `Frame`).
public struct EnvelopeView {
    public let firstLine: UInt64
    public let byteOffset: UInt64
    public let recordCount: UInt32
    public let rejectCount: Int
    private let rejectBytes: UnsafeRawBufferPointer
    public let passthrough: [ColumnView]

    public static func decode(_ r: inout ByteReader) throws(FrameError) -> EnvelopeView {
        let firstLine = try r.read(UInt64.self, "envelope.firstLine")
        let byteOffset = try r.read(UInt64.self, "envelope.byteOffset")
        let recordCount = try r.read(UInt32.self, "envelope.recordCount")
        let rejectCount = Int(try r.read(UInt32.self, "envelope.rejectCount"))
        let rejectBytes = try r.lengthPrefixed("envelope.rejects")
        // Each reject takes at least 32 bytes: check the count before anything trusts it.
        guard rejectCount <= rejectBytes.count / 32, rejectCount <= Int(recordCount) else {
            throw .invalid(field: "envelope.rejectCount", reason: "\(rejectCount) rejects do not fit the batch")
        }
        let passthroughCount = try r.readCount("envelope.passthroughCount", elementSize: 8)
        var columns: [ColumnView] = []
        columns.reserveCapacity(passthroughCount)
        for _ in 0..<passthroughCount { columns.append(try ColumnView.decode(&r)) }
        return EnvelopeView(firstLine: firstLine, byteOffset: byteOffset, recordCount: recordCount,
                            rejectCount: rejectCount, rejectBytes: rejectBytes, passthrough: columns)
    }

    /// The rejects, decoded.
    public func rejects() throws(FrameError) -> [Reject] {
        var r = ByteReader(payload: rejectBytes)
        var out: [Reject] = []
        out.reserveCapacity(rejectCount)
        for _ in 0..<rejectCount { out.append(try Reject.decode(&r)) }
        guard r.isAtEnd else { throw .invalid(field: "envelope.rejects", reason: "trailing bytes") }
        return out
    }

    /// Writes this envelope again, with `passthrough` in place of its own columns when given.
    public func encode(into out: FrameBuffer, passthrough replacement: [ColumnView]? = nil) {
        out.append(firstLine)
        out.append(byteOffset)
        out.append(recordCount)
        out.append(UInt32(rejectCount))
        out.append(lengthPrefixed: rejectBytes)
        let columns = replacement ?? passthrough
        out.append(UInt32(columns.count))
        for c in columns { c.encode(into: out) }
    }
}
