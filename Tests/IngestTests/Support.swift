import Config
import Messages
import Testing
@testable import IngestStage
import TestSupport


func makeConfig(_ fields: [FieldSpec], format: InputFormat = .jsonl) -> PipelineConfig {
    PipelineConfig(pipeline: PipelineSection(name: "test"), input: InputSpec(format: format, fields: fields),
                   features: [], model: ModelSpec(path: "/model.onnx"), output: OutputSpec(), stages: [:],
                   baseDirectory: "/")
}

/// What ingest made of one chunk, decoded back from the output frame.
struct Ingested {
    var kind: FrameKind
    var sequence: UInt64
    var flags: FrameFlags
    var firstLine: UInt64
    var byteOffset: UInt64
    var recordCount: UInt32
    var rows: Int
    var columns: [Column]
    var rejects: [Reject]

    var reject: Reject? { rejects.count == 1 ? rejects[0] : nil }

    func doubles(_ c: Int) -> [Double] {
        if case .float(let v) = columns[c].values { return v }
        Issue.record("column \(c) is not float")
        return []
    }

    func ints(_ c: Int) -> [Int64] {
        if case .int(let v) = columns[c].values { return v }
        Issue.record("column \(c) is not int")
        return []
    }

    func bools(_ c: Int) -> [Bool] {
        if case .bool(let v) = columns[c].values { return v }
        Issue.record("column \(c) is not bool")
        return []
    }

    /// String values as raw bytes (strings may hold any bytes JSON can escape).
    func strings(_ c: Int) -> [[UInt8]] {
        guard case .string(let offsets, let bytes) = columns[c].values else {
            Issue.record("column \(c) is not string")
            return []
        }
        return (0..<(offsets.count - 1)).map { Array(bytes[Int(offsets[$0])..<Int(offsets[$0 + 1])]) }
    }

    func texts(_ c: Int) -> [String] { strings(c).map { String(decoding: $0, as: UTF8.self) } }

    /// Missing flags, one per row (all false when the column has none).
    func missing(_ c: Int) -> [Bool] {
        columns[c].missing.isEmpty ? Array(repeating: false, count: rows) : columns[c].missing
    }
}

/// Records in `body` by an independent reference reading of the splitting rules (a plain byte
/// state machine, no fast paths): what a correct source would count.
func referenceRecordCount(_ body: [UInt8], format: InputFormat) -> Int {
    var count = 0
    var inQuotes = false, fieldStart = true, quotePending = false, nonBlank = false
    for c in body {
        if format == .csv {
            if inQuotes {
                if c == UInt8(ascii: "\"") { inQuotes = false; quotePending = true }
                continue
            }
            if quotePending && c == UInt8(ascii: "\"") {
                inQuotes = true
                quotePending = false
                continue
            }
            quotePending = false
            if c == UInt8(ascii: "\"") && fieldStart { inQuotes = true; fieldStart = false; nonBlank = true; continue }
            fieldStart = c == UInt8(ascii: ",")
        }
        if c == 0x0A {
            if nonBlank { count += 1 }
            nonBlank = false
            fieldStart = true
        } else if c != 0x20 && c != 0x09 && c != 0x0D {
            nonBlank = true
        }
    }
    return nonBlank ? count + 1 : count
}

/// Runs `processor` over one raw chunk and decodes what it wrote.
func ingest(_ processor: inout IngestProcessor, body: [UInt8], header: [UInt8] = [], format: InputFormat,
            firstLine: UInt64 = 1, byteOffset: UInt64 = 0, recordCount: Int? = nil, chunkRejects: [Reject] = [],
            sequence: UInt64 = 7, flags: FrameFlags = []) throws -> Ingested {
    let input = FrameBuffer()
    let count = recordCount ?? referenceRecordCount(body, format: format) + chunkRejects.count
    header.withUnsafeBytes { h in
        body.withUnsafeBytes { b in
            RawChunkView.encode(into: input, sequence: sequence, firstLine: firstLine, byteOffset: byteOffset,
                                recordCount: count, rejects: chunkRejects, headerLine: h, body: b, flags: flags)
        }
    }
    guard let (frame, _) = try FrameDecoder().decode(input.bytes) else { throw FrameError.truncated(field: "test input") }
    let out = FrameBuffer()
    try processor.process(frame, into: out)
    guard let (result, consumed) = try FrameDecoder().decode(out.bytes), consumed == out.count else {
        throw FrameError.invalid(field: "test", reason: "expected exactly one output frame")
    }
    let envelope: EnvelopeView
    var columns: [Column] = []
    var rows = 0
    switch result.header.kind {
    case .records:
        let batch = try RecordBatchView.decode(result)
        envelope = batch.envelope
        columns = batch.columns.map { $0.toColumn() }
        rows = batch.rows
    case .errors:
        envelope = try ErrorBatchView.decode(result).envelope
    default:
        throw FrameError.unexpected(kind: result.header.kind, context: "out of ingest")
    }
    return Ingested(kind: result.header.kind, sequence: result.header.sequence, flags: result.header.flags,
                    firstLine: envelope.firstLine, byteOffset: envelope.byteOffset, recordCount: envelope.recordCount,
                    rows: rows, columns: columns, rejects: try envelope.rejects())
}

/// One-shot form: a fresh processor for `fields`.
func ingest(_ body: String, fields: [FieldSpec], format: InputFormat = .jsonl, header: String = "",
            firstLine: UInt64 = 1, byteOffset: UInt64 = 0) throws -> Ingested {
    var processor = try IngestProcessor(config: makeConfig(fields, format: format))
    return try ingest(&processor, body: Array(body.utf8), header: Array(header.utf8), format: format,
                      firstLine: firstLine, byteOffset: byteOffset)
}

func ingest(bytes body: [UInt8], fields: [FieldSpec], format: InputFormat = .jsonl, header: String = "",
            firstLine: UInt64 = 1, byteOffset: UInt64 = 0) throws -> Ingested {
    var processor = try IngestProcessor(config: makeConfig(fields, format: format))
    return try ingest(&processor, body: body, header: Array(header.utf8), format: format,
                      firstLine: firstLine, byteOffset: byteOffset)
}

/// The shared generator, under this target's name for it.
typealias SeededRandom = SplitMix64
