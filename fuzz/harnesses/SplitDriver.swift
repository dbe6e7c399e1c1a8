// The path every input record takes in `pipeline up`, without processes: the source's
// InputSplitter (Supervisor/Source/InputSplitter.swift, compiled into this harness) cuts the
// input into batches of whole records, as `Source` does, each batch becomes a RawChunk frame, and
// ingest's IngestProcessor parses it. Shared by the `csv` and `jsonl` targets.
//
// Input layout: [options][chunk seed][the input bytes...]
//   options bits 0-1  schema: 0 the example schema, 1 short names of every type, 2 = 1 with every
//                     field required, 3 = 0 with every field optional
//           bits 2-4  batch_rows: 1, 2, 3, 7, 64, 256, 1000, 4096
//           bits 5-6  input.max_line_bytes: 1 MiB, 24, 100, 1000
//           bit 7     (jsonl only) generated records, see jsonl.swift
//
// Invariants checked (each violation is a finding):
// - ingest never throws on a batch the source cut (it would be a record-count mismatch: the
//   splitter and ingest disagree on record boundaries), and accepted + rejected == records cut;
// - the output envelope keeps the batch's position, rejects are in line order and inside it;
// - re-splitting a batch body into single records (`Source.split`, poison isolation) finds the
//   same number of records;
// - delivering the input in random chunks with random partial flushes (linger) cuts the same
//   records, rejects and (blank bytes aside) body bytes as delivering it at once.

import Config
import IngestStage
import Messages

enum Schemas {
    static let example: [FieldSpec] = [
        FieldSpec(name: "id", type: .int), FieldSpec(name: "amount", type: .float), FieldSpec(name: "hour", type: .int),
        FieldSpec(name: "country", type: .string, required: false), FieldSpec(name: "is_new_customer", type: .bool),
    ]
    /// Every type, names of 1 to 28 bytes (the 8-byte key compare, the byte loop, memcmp) and a
    /// non-ASCII one.
    static let short: [FieldSpec] = [
        FieldSpec(name: "a", type: .int), FieldSpec(name: "bb", type: .float, required: false),
        FieldSpec(name: "ccc", type: .string, required: false), FieldSpec(name: "dddd", type: .bool, required: false),
        FieldSpec(name: "a_field_name_longer_than_16", type: .float, required: false),
        FieldSpec(name: "é", type: .string, required: false),
    ]

    static func pick(_ bits: UInt8) -> [FieldSpec] {
        switch bits & 3 {
        case 0: example
        case 1: short
        case 2: short.map { FieldSpec(name: $0.name, type: $0.type, required: true) }
        default: example.map { FieldSpec(name: $0.name, type: $0.type, required: false) }
        }
    }
}

struct SplitOptions {
    var format: InputFormat
    var schema: [FieldSpec]
    var batchRows: Int
    var maxRecordBytes: Int
    var chunkSeed: UInt64

    init(format: InputFormat, options: UInt8, seed: UInt8) {
        self.format = format
        schema = Schemas.pick(options)
        batchRows = [1, 2, 3, 7, 64, 256, 1000, 4096][Int(options >> 2) & 7]
        maxRecordBytes = [1 << 20, 24, 100, 1000][Int(options >> 5) & 3]
        chunkSeed = UInt64(seed)
    }

    var config: PipelineConfig {
        PipelineConfig(pipeline: PipelineSection(name: "fuzz", batchRows: batchRows),
                       input: InputSpec(format: format, maxLineBytes: maxRecordBytes, fields: schema),
                       features: [], model: ModelSpec(path: "/fuzz.onnx"), output: OutputSpec(), stages: [:],
                       baseDirectory: "/")
    }
}

/// What ingest made of the whole input.
struct Ingested {
    var records = 0
    var rows = 0
    var rejects: [Reject] = []
    /// Accepted rows, field by field, as owned columns (one entry per batch with rows).
    var batches: [[Column]] = []
}

/// Runs `input` through the splitter and ingest, checking the invariants above.
func splitAndIngest(_ input: UnsafeRawBufferPointer, _ options: SplitOptions) -> Ingested {
    var processor: IngestProcessor
    do {
        processor = try IngestProcessor(config: options.config)
    } catch {
        violated("the fuzz schema is refused: \(error)")
    }
    let splitter = InputSplitter(format: options.format, batchRows: options.batchRows,
                                 maxRecordBytes: options.maxRecordBytes)
    var rng = SplitMix64(seed: options.chunkSeed)
    var cuts: [CutBatch] = []
    var at = 0
    for n in chunkSizes(input.count, using: &rng) {
        splitter.append(UnsafeRawBufferPointer(rebasing: input[at..<(at + n)]))
        at += n
        // Source: a partial batch goes out when the input idles or its linger ends.
        let flush = rng.next() % 4 == 0
        while let cut = splitter.nextBatch(flushPartial: flush) { cuts.append(cut) }
    }
    splitter.endOfInput()
    while let cut = splitter.nextBatch(flushPartial: true) { cuts.append(cut) }

    var result = Ingested()
    let header = splitter.header ?? []
    let raw = FrameBuffer(capacity: 4096)
    let out = FrameBuffer(capacity: 4096)
    for (sequence, cut) in cuts.enumerated() {
        guard cut.recordCount > 0 else { violated("an empty batch was cut") }
        ingest(cut, header: header, sequence: UInt64(sequence), options, &processor, raw, out, into: &result)
        resplit(cut, header: header, options)
    }

    // The same input delivered at once, flushed only at the end, cuts the same records.
    let whole = InputSplitter(format: options.format, batchRows: options.batchRows, maxRecordBytes: options.maxRecordBytes)
    whole.append(input)
    whole.endOfInput()
    var wholeCuts: [CutBatch] = []
    while let cut = whole.nextBatch(flushPartial: true) { wholeCuts.append(cut) }
    let a = summary(cuts), b = summary(wholeCuts)
    guard a == b else {
        violated("chunked delivery cut \(a), delivery at once \(b)\nchunked:\n\(describe(cuts))at once:\n\(describe(wholeCuts))")
    }
    guard splitter.header == whole.header else { violated("chunking changed the CSV header") }
    return result
}

/// Records, rejects (line, offset, code) and the non-blank bytes of the bodies, whatever the batching.
func summary(_ cuts: [CutBatch]) -> String {
    var records = 0
    var rejects: [String] = []
    var body: [UInt8] = []
    for c in cuts {
        records += c.recordCount
        rejects += c.rejects.map { "\($0.line)@\($0.byteOffset):\($0.code.name)" }
        // Blank lines are not records: whether trailing blank bytes ride along differs with
        // the chunking, harmlessly. Every other byte must be cut the same.
        body += c.body.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }
    }
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in body { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return "\(records) records, \(body.count) body bytes (hash \(h)), rejects \(rejects)"
}

func describe(_ cuts: [CutBatch]) -> String {
    cuts.map { c in
        "  lines \(c.firstLine)-\(c.lastLine) @\(c.byteOffset): \(c.recordCount) records, rejects "
            + "\(c.rejects.map { "\($0.line)@\($0.byteOffset)" }), body \(String(reflecting: String(decoding: c.body, as: UTF8.self)))\n"
    }.joined()
}

/// Sends one cut batch through ingest as the source and the runtime would, and checks the result.
func ingest(_ cut: CutBatch, header: [UInt8], sequence: UInt64, _ options: SplitOptions,
            _ processor: inout IngestProcessor, _ raw: FrameBuffer, _ out: FrameBuffer, into result: inout Ingested) {
    raw.removeAll()
    header.withUnsafeBytes { h in
        cut.body.withUnsafeBytes { b in
            RawChunkView.encode(into: raw, sequence: sequence, firstLine: cut.firstLine, byteOffset: cut.byteOffset,
                                recordCount: cut.recordCount, rejects: cut.rejects, headerLine: h, body: b)
        }
    }
    out.removeAll()
    do {
        guard let (frame, _) = try FrameDecoder().decode(raw.bytes) else { violated("a raw chunk frame is incomplete") }
        try processor.process(frame, into: out)
    } catch {
        violated("ingest threw on batch \(sequence) (lines \(cut.firstLine)-\(cut.lastLine), \(cut.recordCount) records, "
            + "\(cut.rejects.count) cut as too long) as the source cut it: \(error)")
    }
    let envelope: EnvelopeView
    var rows = 0
    do throws(FrameError) {
        guard let (frame, consumed) = try FrameDecoder().decode(out.bytes), consumed == out.count else {
            violated("ingest did not emit exactly one frame")
        }
        guard frame.header.sequence == sequence else { violated("ingest changed the sequence number") }
        switch frame.header.kind {
        case .records:
            let batch = try RecordBatchView.decode(frame)
            envelope = batch.envelope
            rows = batch.rows
            guard batch.columns.count == options.schema.count else { violated("\(batch.columns.count) columns for the schema") }
            var owned: [Column] = []
            for (column, field) in zip(batch.columns, options.schema) {
                let expected: ColumnType = switch field.type {
                case .float: .float
                case .int: .int
                case .string: .string
                case .bool: .bool
                }
                guard column.type == expected else { violated("column '\(field.name)' has type \(column.type)") }
                let c = column.toColumn()
                if field.required, c.missing.contains(true) { violated("required field '\(field.name)' is missing in a row") }
                if column.type == .string {
                    for r in 0..<column.count {
                        guard String(validating: column.string(r), as: UTF8.self) != nil else {
                            violated("field '\(field.name)' row \(r) is not valid UTF-8")
                        }
                    }
                }
                owned.append(c)
            }
            result.batches.append(owned)
        case .errors:
            envelope = try ErrorBatchView.decode(frame).envelope
        default:
            violated("ingest emitted a \(frame.header.kind) frame")
        }
        let rejects = try envelope.rejects()
        guard rows + rejects.count == cut.recordCount, Int(envelope.recordCount) == cut.recordCount else {
            violated("batch \(sequence): \(rows) rows + \(rejects.count) rejects for \(cut.recordCount) records cut")
        }
        guard envelope.firstLine == cut.firstLine, envelope.byteOffset == cut.byteOffset else {
            violated("batch \(sequence): the envelope moved the batch")
        }
        for (i, r) in rejects.enumerated() {
            guard r.line >= cut.firstLine, r.line <= cut.lastLine else {
                violated("batch \(sequence) (lines \(cut.firstLine)-\(cut.lastLine)): reject at line \(r.line)")
            }
            guard i == 0 || rejects[i - 1].line <= r.line else { violated("batch \(sequence): rejects out of line order") }
            guard r.byteOffset >= cut.byteOffset else { violated("batch \(sequence): reject before the batch's first byte") }
            guard r.input.count <= Reject.maxInputBytes else { violated("reject input longer than the limit") }
            consume(r.message)
        }
        result.rejects += rejects
    } catch {
        violated("ingest's output does not decode: \(error)")
    }
    result.records += cut.recordCount
    result.rows += rows
}

/// `Source.split`: a batch that keeps crashing replicas is re-split into one-record units; they
/// must hold the batch's records (those in the body).
func resplit(_ cut: CutBatch, header: [UInt8], _ options: SplitOptions) {
    let records = InputSplitter(format: options.format, batchRows: 1, maxRecordBytes: .max, header: header)
    cut.body.withUnsafeBytes { records.append($0) }
    records.endOfInput()
    var count = 0
    while let unit = records.nextBatch(flushPartial: true) {
        guard unit.recordCount == 1 else { violated("a one-record unit holds \(unit.recordCount)") }
        count += 1
    }
    guard count == cut.recordCount - cut.rejects.count else {
        violated("re-splitting a batch of \(cut.recordCount - cut.rejects.count) records in its body found \(count)")
    }
}
