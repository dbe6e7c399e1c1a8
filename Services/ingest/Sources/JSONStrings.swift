import Glibc

/// JSON string literals (RFC 8259 section 7): validation, and decoding to UTF-8.
///
/// The record is known to be valid UTF-8 already, so only the escapes and control characters
/// need looking at; runs of plain bytes are copied as they are.
enum JSONStrings {
    /// Reads the string whose content starts at `p[start]` (just after its opening quote),
    /// writing the decoded bytes to `out` when it is given. `out` needs room for `end - start`
    /// bytes: decoding never makes a string longer than its source.
    ///
    /// - Returns: the index just past the closing quote, and the number of bytes decoded.
    /// - Throws: JSON_SYNTAX for a control character, a bad escape, an unpaired surrogate or a
    ///   missing closing quote.
    static func read(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
                     into out: UnsafeMutablePointer<UInt8>?) throws(RecordError) -> (next: Int, count: Int) {
        var i = start
        var written = 0
        var run = start
        while i < end {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                if let out { copy(p, run, i, to: out + written) }
                return (i + 1, written + (i - run))
            }
            if c == UInt8(ascii: "\\") {
                if let out { copy(p, run, i, to: out + written) }
                written += i - run
                let (next, scalar) = try escape(p, i, end)
                if let out { written += encode(scalar, to: out + written) } else { written += 1 }
                i = next
                run = i
                continue
            }
            if c < 0x20 {
                throw .syntax(at: i, "control character U+\(hex(UInt32(c), digits: 4)) in a string (write it as an escape)")
            }
            i += 1
        }
        throw .syntax(at: end, "the line ends inside a string (missing closing '\"')")
    }

    /// The index of the closing quote of the string whose content starts at `p[start]`, when
    /// that content is plain (no escape, no control character); else nil, and `read` must decode
    /// (or reject) it. Keys are almost always plain: they are then looked up in place.
    static func plainEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var i = start
        while i < end {
            let c = p[i]
            if c == UInt8(ascii: "\"") { return i }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    private static func copy(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int, to out: UnsafeMutablePointer<UInt8>) {
        if to > from { memcpy(out, p + from, to - from) }
    }

    /// Decodes the escape at `p[i]` (a backslash). Returns the index after it and its scalar.
    private static func escape(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) throws(RecordError) -> (Int, UInt32) {
        guard i + 1 < end else { throw .syntax(at: i, "the line ends inside an escape") }
        switch p[i + 1] {
        case UInt8(ascii: "\""): return (i + 2, 0x22)
        case UInt8(ascii: "\\"): return (i + 2, 0x5C)
        case UInt8(ascii: "/"): return (i + 2, 0x2F)
        case UInt8(ascii: "b"): return (i + 2, 0x08)
        case UInt8(ascii: "f"): return (i + 2, 0x0C)
        case UInt8(ascii: "n"): return (i + 2, 0x0A)
        case UInt8(ascii: "r"): return (i + 2, 0x0D)
        case UInt8(ascii: "t"): return (i + 2, 0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4(p, i + 2, end, escapeAt: i)
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw .syntax(at: i, "unpaired surrogate \\u\(hex(unit, digits: 4)) (a low surrogate must follow a high one)")
            }
            guard unit >= 0xD800 && unit <= 0xDBFF else { return (i + 6, unit) }
            guard i + 7 < end, p[i + 6] == UInt8(ascii: "\\"), p[i + 7] == UInt8(ascii: "u") else {
                throw .syntax(at: i, "unpaired surrogate \\u\(hex(unit, digits: 4)) (a high surrogate must be followed by \\uDC00-\\uDFFF)")
            }
            let low = try hex4(p, i + 8, end, escapeAt: i + 6)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw .syntax(at: i, "unpaired surrogate \\u\(hex(unit, digits: 4)) (a high surrogate must be followed by \\uDC00-\\uDFFF)")
            }
            return (i + 12, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
        default:
            let c = p[i + 1]
            let shown = c > 0x20 && c < 0x7F ? "'\\\(Character(Unicode.Scalar(c)))'" : "'\\' followed by \(describeByte(p, i + 1, end))"
            throw .syntax(at: i, "invalid escape \(shown) (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
    }

    private static func hex4(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, escapeAt: Int) throws(RecordError) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 {
            guard start + k < end else { throw .syntax(at: escapeAt, "a \\u escape needs 4 hex digits") }
            let c = p[start + k]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw .syntax(at: escapeAt, "a \\u escape needs 4 hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Writes `scalar` as UTF-8; returns the byte count.
    /// (Fits the room promised to `read`: an escape is at least as long as its UTF-8.)
    private static func encode(_ scalar: UInt32, to out: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            out[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            out[0] = UInt8(0xC0 | scalar >> 6)
            out[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[0] = UInt8(0xE0 | scalar >> 12)
            out[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            out[0] = UInt8(0xF0 | scalar >> 18)
            out[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            out[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
