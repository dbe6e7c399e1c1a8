import Messages

/// Why one record was rejected, as found by a parser: the code, the schema field (or -1), the
/// byte of the chunk body where the problem is, and what is wrong there. `RejectBuilder` turns it
/// into a `Reject` with a message that says where.
struct RecordError: Error {
    var code: RejectCode
    var field: Int
    /// Index into the chunk body.
    var position: Int
    var detail: String

    init(_ code: RejectCode, field: Int = -1, at position: Int, _ detail: String) {
        self.code = code
        self.field = field
        self.position = position
        self.detail = detail
    }

    static func syntax(at position: Int, _ detail: String) -> RecordError {
        RecordError(.jsonSyntax, at: position, detail)
    }

    static func csv(at position: Int, _ detail: String) -> RecordError {
        RecordError(.csvSyntax, at: position, detail)
    }

    /// JSON_SYNTAX "expected `what`, found <the byte at i>". Out of line, like every message
    /// builder a hot loop calls: string code in a loop keeps the compiler from inlining the
    /// loop's fast paths.
    @inline(never)
    static func expected(_ what: StaticString, _ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> RecordError {
        .syntax(at: i, "expected \(what), found \(describeByte(p, i, end))")
    }
}

/// How a byte (or the end of the line) is shown in a message: `'x'`, `'é'`, `U+0009`, `the end of the line`.
func describeByte(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> String {
    guard i < end else { return "the end of the line" }
    let c = p[i]
    if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
    if c < 0x80 { return "U+\(hex(UInt32(c), digits: 4))" }
    // The record is valid UTF-8 by now: show the whole character.
    var k = i + 1
    while k < end && p[k] & 0xC0 == 0x80 { k += 1 }
    return "'\(String(decoding: UnsafeBufferPointer(start: p + i, count: k - i), as: UTF8.self))'"
}

/// Up to `limit` bytes of `p[start..<end]` as text for a message, with "…" when cut.
func excerpt(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, limit: Int = 40) -> String {
    var stop = min(end, start + limit)
    // Do not cut a UTF-8 sequence in half.
    while stop < end && stop > start && p[stop] & 0xC0 == 0x80 { stop -= 1 }
    let text = String(decoding: UnsafeBufferPointer(start: p + start, count: stop - start), as: UTF8.self)
    return stop < end ? text + "…" : text
}

func hex(_ value: UInt32, digits: Int) -> String {
    let s = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}
