import Config
import Messages

/// Parses one record's bytes into a `RecordAssembler`.
protocol RecordParser {
    /// Parses `p[start..<end]` (one record, line end excluded, valid UTF-8).
    /// - Throws: the record's first syntax or structure error; type problems go to `record`.
    func parse(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into record: inout RecordAssembler) throws(RecordError)

    /// Parses `p[start..<end]` (one record, line end excluded, not yet validated as UTF-8) when
    /// it can prove that the record is valid UTF-8 and has no error at all, and returns true
    /// with every field valued; else returns false having marked no field (then the record is
    /// validated and goes to `parse`). The JSON fast path.
    func parseUnvalidated(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into record: inout RecordAssembler) -> Bool
}

extension RecordParser {
    func parseUnvalidated(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into record: inout RecordAssembler) -> Bool {
        false
    }
}

/// Turns the body of a raw chunk into typed columns and rejects. Owns every buffer that is reused
/// from batch to batch; one instance serves one thread.
final class ChunkParser {
    let input: InputSpec
    let names: [String]
    let table: FieldTable
    let storage: ColumnStorage
    /// JSON lines of a numbers-only schema: the record parser's fast path.
    private let fastPath: JSONFastPath?
    private let types: UnsafeMutablePointer<FieldType>
    private let required: UnsafeMutablePointer<Bool>
    private let stringFields: UnsafeMutableBufferPointer<Int>
    private let slotSerial: UnsafeMutablePointer<UInt32>
    private let slotState: UnsafeMutablePointer<UInt8>
    private var serial: UInt32 = 0
    private var header: CSVHeader?

    init(input: InputSpec, fastPath: Bool = true, backoff: Int = JSONFastPath.defaultBackoff) throws(IngestError) {
        guard !input.fields.isEmpty else { throw .emptySchema }
        self.input = input
        names = input.fields.map(\.name)
        table = try FieldTable(names: names)
        let count = input.fields.count
        storage = ColumnStorage(types: input.fields.map(\.type))
        self.fastPath = fastPath && input.format == .jsonl ? JSONFastPath(fields: input.fields, backoff: backoff) : nil
        types = .allocate(capacity: max(count, 1))
        types.initialize(from: input.fields.map(\.type), count: count)
        required = .allocate(capacity: max(count, 1))
        required.initialize(from: input.fields.map(\.required), count: count)
        let strings = input.fields.indices.filter { input.fields[$0].type == .string }
        stringFields = .allocate(capacity: strings.count)
        _ = stringFields.initialize(from: strings)
        slotSerial = .allocate(capacity: max(count, 1))
        slotSerial.initialize(repeating: 0, count: max(count, 1))
        slotState = .allocate(capacity: max(count, 1))
        slotState.initialize(repeating: 0, count: max(count, 1))
    }

    /// A parser for the same input, with buffers of its own.
    func copy() throws(IngestError) -> ChunkParser {
        try ChunkParser(input: input, fastPath: fastPath != nil, backoff: fastPath?.backoffRecords ?? JSONFastPath.defaultBackoff)
    }

    deinit {
        types.deallocate()
        required.deallocate()
        slotSerial.deallocate()
        slotState.deallocate()
        stringFields.deallocate()
    }

    /// Parses the chunk's body into `storage`.
    /// - Returns: the number of accepted rows (in `storage`) and this body's rejects, in order.
    /// - Throws: `IngestError.recordCountMismatch` when the body holds another number of records
    ///   than the chunk says.
    func parse(_ chunk: RawChunkView, sequence: UInt64) throws(IngestError) -> (rows: Int, rejects: [Reject]) {
        let expected = Int(chunk.recordCount) - chunk.rejects.count
        storage.prepare(rows: expected)
        var record = RecordAssembler(storage: storage, required: required, stringFields: UnsafeBufferPointer(stringFields),
                                     slotSerial: slotSerial, slotState: slotState, serial: serial)
        var rejects: [Reject] = []
        var found = 0
        switch input.format {
        case .jsonl:
            let parser = JSONRecordParser(fields: table, types: types, fast: fastPath, limit: chunk.body.count)
            found = run(parser, chunk, expected, &record, &rejects, header: nil)
        case .csv:
            // Every chunk carries the header; it is mapped again only when it changes.
            let header: CSVHeader
            if let cached = self.header, cached.isMade(from: chunk.headerLine) {
                header = cached
            } else {
                header = CSVHeader(line: chunk.headerLine, fields: table)
                self.header = header
            }
            found = header.fieldOfColumn.withUnsafeBufferPointer { columns in
                run(CSVRecordParser(types: types, fieldOfColumn: columns), chunk, expected, &record, &rejects,
                    header: header)
            }
        }
        serial = record.serial
        guard found == expected else {
            throw .recordCountMismatch(sequence: sequence, expected: expected, found: found)
        }
        return (record.row, rejects)
    }

    /// The record loop. Returns the number of records found (parsing stops past `expected`).
    private func run<Parser: RecordParser>(_ parser: Parser, _ chunk: RawChunkView, _ expected: Int,
                                           _ record: inout RecordAssembler, _ rejects: inout [Reject],
                                           header: CSVHeader?) -> Int {
        let body = chunk.body
        guard let base = body.baseAddress, body.count > 0 else { return 0 }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = body.count
        var splitter = RecordSplitter(format: input.format)
        var reject = RejectBuilder(p: p, chunkOffset: chunk.byteOffset, names: names, format: input.format,
                                   header: header)
        var found = 0
        var pos = 0
        var line = chunk.firstLine
        while pos < n {
            guard let r = splitter.next(in: body, from: pos) ?? splitter.finish(at: n) else { break }
            if !r.isBlank {
                found += 1
                if found <= expected {
                    var end = r.end
                    if end > pos && p[end - 1] == 0x0A { end -= 1 }
                    if end > pos && p[end - 1] == 0x0D && input.format == .csv { end -= 1 }
                    reject.record(start: pos, end: end, line: line)
                    record.begin()
                    if let problem = header?.problem {
                        rejects.append(reject.make(problem.code, field: -1, problem.message))
                    } else if parser.parseUnvalidated(p, pos, end, into: &record) {
                        // Valid UTF-8 and every field valued: the verdict is `.accepted`.
                        _ = record.finish()
                    } else if let bad = UTF8Validation.firstInvalid(p, pos, end) {
                        rejects.append(reject.make(RecordError(.invalidUTF8, at: bad,
                            "invalid UTF-8 (byte 0x\(hex(UInt32(p[bad]), digits: 2))); the input must be UTF-8")))
                    } else {
                        do throws(RecordError) {
                            try parser.parse(p, pos, end, into: &record)
                            switch record.finish() {
                            case .accepted: break
                            case .wrongType(let error): rejects.append(reject.make(error))
                            case .missing(let field, let wasNull): rejects.append(reject.missing(field, wasNull: wasNull))
                            }
                        } catch {
                            record.rollback()
                            rejects.append(reject.make(error))
                        }
                    }
                }
            }
            line += 1 + UInt64(r.innerLineBreaks)
            pos = r.end
        }
        return found
    }
}
