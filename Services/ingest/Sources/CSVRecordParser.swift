import Config
import Glibc

/// One field of a CSV record: its content (inside the quotes, for a quoted field).
struct CSVField {
    var start: Int
    var end: Int
    /// Quoted, with doubled quotes inside that decoding turns into one.
    var escaped: Bool
}

/// RFC 4180 fields: comma-separated; a field that starts with '"' is quoted ('""' inside is a
/// quote; commas, quotes and line breaks are content); a quote anywhere else is an error.
enum CSVFields {
    /// Reads the field at `p[i]` of a record whose content (line end excluded) ends at `end`.
    /// - Returns: the field, and where the next one starts (nil after the last).
    static func read(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) throws(RecordError) -> (CSVField, next: Int?) {
        if i < end && p[i] == UInt8(ascii: "\"") {
            var k = i + 1
            var escaped = false
            while true {
                guard let found = memchr(p + k, 0x22, end - k) else {
                    throw .csv(at: i, "unterminated quoted field (this quote is never closed)")
                }
                let q = UnsafeRawPointer(found) - UnsafeRawPointer(p)
                if q + 1 < end && p[q + 1] == UInt8(ascii: "\"") {
                    escaped = true
                    k = q + 2
                    continue
                }
                let field = CSVField(start: i + 1, end: q, escaped: escaped)
                if q + 1 == end { return (field, nil) }
                guard p[q + 1] == UInt8(ascii: ",") else {
                    throw .csv(at: q + 1, "unexpected \(describeByte(p, q + 1, end)) after the closing quote (expected ',' or the end of the line)")
                }
                return (field, q + 2)
            }
        }
        var k = i
        while k < end {
            let c = p[k]
            if c == UInt8(ascii: ",") { return (CSVField(start: i, end: k, escaped: false), k + 1) }
            if c == UInt8(ascii: "\"") {
                throw .csv(at: k, "quote inside an unquoted field (quote the whole field and double the quotes in it)")
            }
            k += 1
        }
        return (CSVField(start: i, end: end, escaped: false), nil)
    }

    /// Copies a field's content to `out` (room for `field.end - field.start` bytes), turning
    /// doubled quotes into one. Returns the byte count.
    static func copy(_ p: UnsafePointer<UInt8>, _ field: CSVField, to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard field.escaped else {
            if field.end > field.start { memcpy(out, p + field.start, field.end - field.start) }
            return field.end - field.start
        }
        var written = 0
        var k = field.start
        while k < field.end {
            out[written] = p[k]
            written += 1
            k += p[k] == UInt8(ascii: "\"") ? 2 : 1
        }
        return written
    }
}

/// Parses one CSV record into the schema fields its header maps, by the `CSVHeader`'s columns.
///
/// Numbers and booleans may carry spaces or tabs around them; a field holding nothing else is
/// empty, hence missing. Numbers: optional sign, digits with an optional '.', optional exponent
/// (no NaN or infinity). Booleans: true/false/1/0, any case. Strings take the field as it is.
struct CSVRecordParser: RecordParser {
    let types: UnsafePointer<FieldType>
    /// Schema field of each header column, or -1.
    let fieldOfColumn: UnsafeBufferPointer<Int>

    func parse(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
               into record: inout RecordAssembler) throws(RecordError) {
        let columns = fieldOfColumn.count
        var i = start
        var column = 0
        var firstExtra = -1
        while true {
            // Plain numbers: parsed where they stand, the field ends where the number does.
            if column < columns && i < end {
                let f = fieldOfColumn[column]
                if f >= 0 {
                    let type = types[f]
                    var next = -1
                    if type == .float, let (stop, v) = NumberParsing.fastDouble(p, i, end, json: false),
                       stop == end || p[stop] == UInt8(ascii: ",") {
                        record.setDouble(f, v)
                        next = stop
                    } else if type == .int, let (stop, v) = NumberParsing.fastInt(p, i, end, json: false),
                              stop == end || p[stop] == UInt8(ascii: ",") {
                        record.setInt(f, v)
                        next = stop
                    }
                    if next >= 0 {
                        column &+= 1
                        if next == end { break }
                        i = next &+ 1
                        continue
                    }
                }
            }
            let (field, next) = try CSVFields.read(p, i, end)
            if column < columns {
                let f = fieldOfColumn[column]
                if f >= 0 { convert(f, field, p, &record) }
            } else if firstExtra < 0 {
                firstExtra = i
            }
            column += 1
            guard let n = next else { break }
            i = n
        }
        if column > columns {
            throw RecordError(.tooManyColumns, at: firstExtra,
                              "the record has \(column) fields but the header has \(columns)")
        }
        if column < columns {
            throw RecordError(.missingColumns, at: end,
                              "the record has \(column) field\(column == 1 ? "" : "s") but the header has \(columns)")
        }
    }

    private func convert(_ f: Int, _ field: CSVField, _ p: UnsafePointer<UInt8>, _ record: inout RecordAssembler) {
        let type = types[f]
        if type == .string {
            let out = record.stringDestination(f, capacity: field.end - field.start)
            record.stringWritten(f, CSVFields.copy(p, field, to: out))
            return
        }
        var a = field.start, b = field.end
        while a < b && (p[a] == 0x20 || p[a] == 0x09) { a += 1 }
        while b > a && (p[b - 1] == 0x20 || p[b - 1] == 0x09) { b -= 1 }
        if a == b && !field.escaped {
            record.setNull(f)
            return
        }
        switch type {
        case .float:
            if !field.escaped, let n = NumberParsing.scanCSV(p, a, b) {
                if let v = NumberParsing.double(n, p, a, b) {
                    record.setDouble(f, v)
                } else {
                    wrong(f, field, p, "expected a number within the range of a 64-bit float", &record)
                }
                return
            }
        case .int:
            if !field.escaped, let n = NumberParsing.scanCSV(p, a, b) {
                switch NumberParsing.integral(n) {
                case .value(let v): record.setInt(f, v)
                case .notIntegral: wrong(f, field, p, "expected an integer", &record)
                case .outOfRange: wrong(f, field, p, "expected an integer within the 64-bit range", &record)
                }
                return
            }
        case .bool:
            if !field.escaped, let v = Self.bool(p, a, b) {
                record.setBool(f, v)
                return
            }
        case .string:
            return
        }
        wrong(f, field, p, "expected \(type == .bool ? "true, false, 1 or 0" : type == .int ? "an integer" : "a number")", &record)
    }

    private func wrong(_ f: Int, _ field: CSVField, _ p: UnsafePointer<UInt8>, _ expected: String,
                       _ record: inout RecordAssembler) {
        record.setWrongType(f, RecordError(.type, at: field.start,
                                           "\(expected), found \"\(excerpt(p, field.start, field.end))\""))
    }

    /// true/false/1/0, any case.
    static func bool(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int) -> Bool? {
        switch b - a {
        case 1:
            return p[a] == UInt8(ascii: "1") ? true : p[a] == UInt8(ascii: "0") ? false : nil
        case 4:
            return p[a] | 0x20 == 0x74 && p[a + 1] | 0x20 == 0x72 && p[a + 2] | 0x20 == 0x75 && p[a + 3] | 0x20 == 0x65
                ? true : nil
        case 5:
            return p[a] | 0x20 == 0x66 && p[a + 1] | 0x20 == 0x61 && p[a + 2] | 0x20 == 0x6C && p[a + 3] | 0x20 == 0x73
                && p[a + 4] | 0x20 == 0x65 ? false : nil
        default:
            return nil
        }
    }
}
