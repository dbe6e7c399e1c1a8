import Config

/// Parses one JSON line (one object) into the record's schema fields.
///
/// Keys are matched by their bytes: first against the field after the previous one (records
/// usually keep the schema's order; one 8-byte compare), then through the hash table. Keys no
/// field takes are skipped, but their values must still be valid JSON (and not nested deeper
/// than 64).
/// A wrongly typed value does not stop the parse: a syntax error further on wins over it.
struct JSONRecordParser: RecordParser {
    let fields: FieldTable
    let types: UnsafePointer<FieldType>
    /// The schema's fast path, if it has one; it reads up to `limit`, the end of the chunk body.
    let fast: JSONFastPath?
    let limit: Int

    func parseUnvalidated(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into record: inout RecordAssembler) -> Bool {
        guard let fast else { return false }
        return fast.parse(p, start, end, limit: limit, into: &record)
    }

    func parse(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
               into record: inout RecordAssembler) throws(RecordError) {
        var i = JSONSkipper.whitespace(p, start, end)
        guard i < end, p[i] == UInt8(ascii: "{") else { throw Self.notAnObject(p, i, end) }
        i = JSONSkipper.whitespace(p, i &+ 1, end)
        if i < end && p[i] == UInt8(ascii: "}") {
            i &+= 1
        } else {
            var guess = 0
            while true {
                guard i < end, p[i] == UInt8(ascii: "\"") else { throw .expected("a key in double quotes", p, i, end) }
                let field: Int
                if guess < fields.count, let close = fields.quotedKeyEnd(guess, p, i &+ 1, end) {
                    field = guess
                    i = close &+ 1
                } else {
                    (field, i) = try key(p, i &+ 1, end)
                }
                if i < end && p[i] == UInt8(ascii: ":") {
                    i &+= 1
                } else {
                    i = JSONSkipper.whitespace(p, i, end)
                    guard i < end, p[i] == UInt8(ascii: ":") else { throw .expected("':' after the key", p, i, end) }
                    i &+= 1
                }
                if i < end && p[i] <= 0x20 { i = JSONSkipper.whitespace(p, i, end) }
                if field >= 0 && i < end {
                    // The common cases inline; everything else in `value`.
                    let type = types[field]
                    if type == .float, let (next, v) = NumberParsing.fastDouble(p, i, end, json: true) {
                        record.setDouble(field, v)
                        i = next
                    } else if type == .int, let (next, v) = NumberParsing.fastInt(p, i, end, json: true) {
                        record.setInt(field, v)
                        i = next
                    } else {
                        i = try value(field, p, i, end, &record)
                    }
                    guess = field &+ 1
                } else {
                    i = try JSONSkipper.value(p, i, end, depth: 1)  // also reports a missing value
                }
                if i < end && p[i] <= 0x20 { i = JSONSkipper.whitespace(p, i, end) }
                guard i < end else { throw .expected("',' or '}'", p, i, end) }
                if p[i] == UInt8(ascii: ",") {
                    i &+= 1
                    if i < end && p[i] <= 0x20 { i = JSONSkipper.whitespace(p, i, end) }
                    continue
                }
                guard p[i] == UInt8(ascii: "}") else { throw .expected("',' or '}'", p, i, end) }
                i &+= 1
                break
            }
        }
        i = JSONSkipper.whitespace(p, i, end)
        if i < end { throw Self.trailing(p, i, end) }
    }

    @inline(never)
    private static func notAnObject(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> RecordError {
        if i < end, let kind = kind(of: p[i]) { return .syntax(at: i, "each line must be one JSON object, found \(kind)") }
        return .expected("'{'", p, i, end)
    }

    @inline(never)
    private static func trailing(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> RecordError {
        .syntax(at: i, "unexpected \(describeByte(p, i, end)) after the end of the object (one object per line)")
    }

    /// Reads the value of schema field `f` at `p[i]` (all but the fast paths of `parse`).
    /// Out of line, like `key`: `parse`'s loop stays small (3-4% faster in Benchmarks/ingest).
    @inline(never)
    private func value(_ f: Int, _ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int,
                       _ record: inout RecordAssembler) throws(RecordError) -> Int {
        guard i < end else { throw .syntax(at: i, "expected a value, found the end of the line") }
        let c = p[i]
        let type = types[f]
        switch type {
        case .float, .int:
            if c == UInt8(ascii: "-") || NumberParsing.isDigit(c) {
                var n = DecimalNumber()
                let next = try NumberParsing.scanJSON(p, i, end, into: &n)
                if type == .float {
                    if let v = NumberParsing.double(n, p, i, next) {
                        record.setDouble(f, v)
                    } else {
                        record.setWrongType(f, RecordError(.type, at: i,
                            "expected a number within the range of a 64-bit float, found \(excerpt(p, i, next))"))
                    }
                } else {
                    switch NumberParsing.integral(n) {
                    case .value(let v): record.setInt(f, v)
                    case .notIntegral:
                        record.setWrongType(f, RecordError(.type, at: i, "expected an integer, found \(excerpt(p, i, next))"))
                    case .outOfRange:
                        record.setWrongType(f, RecordError(.type, at: i,
                            "expected an integer within the 64-bit range, found \(excerpt(p, i, next))"))
                    }
                }
                return next
            }
        case .string:
            if c == UInt8(ascii: "\"") {
                let out = record.stringDestination(f, capacity: end - i)
                let (next, count) = try JSONStrings.read(p, i + 1, end, into: out)
                record.stringWritten(f, count)
                return next
            }
        case .bool:
            if c == UInt8(ascii: "t") {
                let next = try JSONSkipper.literal(p, i, end, "true")
                record.setBool(f, true)
                return next
            }
            if c == UInt8(ascii: "f") {
                let next = try JSONSkipper.literal(p, i, end, "false")
                record.setBool(f, false)
                return next
            }
        }
        if c == UInt8(ascii: "n") {
            let next = try JSONSkipper.literal(p, i, end, "null")
            record.setNull(f)
            return next
        }
        // Another kind of value: it must still be valid JSON before it can be a TYPE error.
        let next = try JSONSkipper.value(p, i, end, depth: 1)
        let found = c == UInt8(ascii: "t") || c == UInt8(ascii: "f") || c == UInt8(ascii: "-") || NumberParsing.isDigit(c)
            ? excerpt(p, i, next) : Self.kind(of: c) ?? "a value"
        record.setWrongType(f, RecordError(.type, at: i, "expected \(Self.expected(type)), found \(found)"))
        return next
    }

    /// The field named by the key whose content starts at `p[start]` (or -1), and the index
    /// after its closing quote: the keys the schema order did not predict.
    @inline(never)
    private func key(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(RecordError) -> (Int, Int) {
        guard let close = JSONStrings.plainEnd(p, start, end) else { return try decodedKey(p, start, end) }
        return (fields.lookup(p + start, close &- start), close &+ 1)
    }

    /// A key with escapes: decoded into scratch memory, then looked up (rare).
    private func decodedKey(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(RecordError) -> (Int, Int) {
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: max(end - start, 1))
        defer { scratch.deallocate() }
        let (next, count) = try JSONStrings.read(p, start, end, into: scratch)
        return (fields.lookup(scratch, count), next)
    }

    static func kind(of c: UInt8) -> String? {
        switch c {
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): "a number"
        default: nil
        }
    }

    static func expected(_ type: FieldType) -> String {
        switch type {
        case .float: "a number"
        case .int: "an integer"
        case .string: "a string"
        case .bool: "true or false"
        }
    }
}
