/// source → ingest: a run of whole input records, exactly as read.
///
/// Wire layout: u64 firstLine, u64 byteOffset, u32 recordCount, u32 rejectCount, the rejects
/// (records the source itself refused, e.g. LINE_TOO_LONG; they count in recordCount but are not
/// in the body), the CSV header line (length-prefixed; empty for JSON lines), the body
/// (length-prefixed).
public struct RawChunkView {
    /// 1-based line number of the body's first line.
    public let firstLine: UInt64
    /// Byte offset of the body's first byte in the input.
    public let byteOffset: UInt64
    /// Records in the batch, as the source counted them: those in the body plus `rejects`.
    public let recordCount: UInt32
    /// Records the source refused before ingest saw them (ingest adds them to its envelope).
    public let rejects: [Reject]
    /// The CSV header line (without its line end), or empty.
    public let headerLine: UnsafeRawBufferPointer
    /// Whole records, each ended by "\n" (the last may lack it at end of input).
    public let body: UnsafeRawBufferPointer

    public static func encode(into out: FrameBuffer, sequence: UInt64, firstLine: UInt64, byteOffset: UInt64,
                              recordCount: Int, rejects: [Reject] = [], headerLine: UnsafeRawBufferPointer,
                              body: UnsafeRawBufferPointer, flags: FrameFlags = []) {
        out.frame(FrameHeader(kind: .rawChunk, flags: flags, rowCount: UInt32(recordCount), sequence: sequence)) { out in
            out.append(firstLine)
            out.append(byteOffset)
            out.append(UInt32(recordCount))
            out.append(UInt32(rejects.count))
            for r in rejects { r.encode(into: out) }
            out.append(lengthPrefixed: headerLine)
            out.append(lengthPrefixed: body)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> RawChunkView {
        guard frame.header.kind == .rawChunk else { throw .unexpected(kind: frame.header.kind, context: "where a raw chunk belongs") }
        var r = ByteReader(payload: frame.payload)
        let firstLine = try r.read(UInt64.self, "raw.firstLine")
        let byteOffset = try r.read(UInt64.self, "raw.byteOffset")
        let recordCount = try r.read(UInt32.self, "raw.recordCount")
        let rejectCount = try r.readCount("raw.rejectCount", elementSize: 32)
        guard rejectCount <= recordCount else { throw .invalid(field: "raw.rejectCount", reason: "more rejects than records") }
        var rejects: [Reject] = []
        for _ in 0..<rejectCount { rejects.append(try Reject.decode(&r)) }
        let headerLine = try r.lengthPrefixed("raw.header")
        let body = try r.lengthPrefixed("raw.body")
        guard recordCount <= body.count + 1 else {
            throw .invalid(field: "raw.recordCount", reason: "more records than bytes")
        }
        return RawChunkView(firstLine: firstLine, byteOffset: byteOffset, recordCount: recordCount,
                            rejects: rejects, headerLine: headerLine, body: body)
    }
}
