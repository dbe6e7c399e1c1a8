import Config
import Messages

/// Makes the `Reject` for the record being parsed: its line, its byte offset in the whole input,
/// its first bytes, and a message that says where ("at byte 17 of the line: ...") and what.
struct RejectBuilder {
    let p: UnsafePointer<UInt8>
    let chunkOffset: UInt64
    let names: [String]
    let format: InputFormat
    let header: CSVHeader?
    private var start = 0
    private var end = 0
    private var line: UInt64 = 0

    init(p: UnsafePointer<UInt8>, chunkOffset: UInt64, names: [String], format: InputFormat, header: CSVHeader?) {
        self.p = p
        self.chunkOffset = chunkOffset
        self.names = names
        self.format = format
        self.header = header
    }

    /// Sets the record the next rejects are about: `p[start..<end]`, starting on line `line`.
    mutating func record(start: Int, end: Int, line: UInt64) {
        self.start = start
        self.end = end
        self.line = line
    }

    func make(_ error: RecordError) -> Reject {
        let location = locate(error.position)
        if error.field >= 0 {
            return make(error.code, field: error.field, "field '\(names[error.field])' \(location): \(error.detail)")
        }
        return make(error.code, field: -1, "\(location): \(error.detail)")
    }

    func missing(_ field: Int, wasNull: Bool) -> Reject {
        let name = names[field]
        let why: String
        switch format {
        case .jsonl: why = wasNull ? "is null" : "is missing"
        case .csv: why = header?.inHeader[field] == false ? "is not a column of the CSV header" : "is empty"
        }
        return make(.missingField, field: field, "required field '\(name)' \(why)")
    }

    func make(_ code: RejectCode, field: Int, _ message: String) -> Reject {
        var excerptEnd = min(end, start + Reject.maxInputBytes)
        if excerptEnd == end && excerptEnd > start && p[excerptEnd - 1] == 0x0D { excerptEnd -= 1 }
        return Reject(line: line, byteOffset: chunkOffset + UInt64(start), code: code,
                      field: field >= 0 ? names[field] : "", message: message,
                      input: Array(UnsafeBufferPointer(start: p + start, count: excerptEnd - start)))
    }

    /// "at byte 17 of the line", or "at byte 3 of line 12" inside a record spanning lines
    /// (bytes counted from 1).
    private func locate(_ position: Int) -> String {
        var lineStart = start
        var extraLines: UInt64 = 0
        var k = start
        while k < position {
            if p[k] == 0x0A {
                extraLines += 1
                lineStart = k + 1
            }
            k += 1
        }
        let column = position - lineStart + 1
        return extraLines == 0 ? "at byte \(column) of the line" : "at byte \(column) of line \(line + extraLines)"
    }
}
