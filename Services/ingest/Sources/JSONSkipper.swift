/// Validation of the JSON values no schema field takes (and of wrongly typed ones): they are
/// checked against the full grammar and the nesting limit, then dropped.
enum JSONSkipper {
    /// Deepest nesting accepted, counting the record's own object as 1 (like Python's `json`
    /// counts levels; a DEPTH reject beyond it, also inside ignored fields).
    static let maxDepth = 64

    static func whitespace(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var i = start
        while i < end {
            let c = p[i]
            guard c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A else { break }
            i += 1
        }
        return i
    }

    /// Skips the value at `p[i]`; `depth` is the depth of the container holding it.
    /// - Returns: the index just past the value.
    static func value(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, depth: Int) throws(RecordError) -> Int {
        guard i < end else { throw .syntax(at: i, "expected a value, found the end of the line") }
        switch p[i] {
        case UInt8(ascii: "\""):
            return try JSONStrings.read(p, i + 1, end, into: nil).next
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var n = DecimalNumber()
            return try NumberParsing.scanJSON(p, i, end, into: &n)
        case UInt8(ascii: "t"): return try literal(p, i, end, "true")
        case UInt8(ascii: "f"): return try literal(p, i, end, "false")
        case UInt8(ascii: "n"): return try literal(p, i, end, "null")
        case UInt8(ascii: "{"), UInt8(ascii: "["): return try container(p, i, end, depth: depth)
        default: throw .syntax(at: i, "expected a value, found \(describeByte(p, i, end))")
        }
    }

    /// Checks that `p[i...]` starts with `word` (true, false or null).
    static func literal(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ word: StaticString) throws(RecordError) -> Int {
        let count = word.utf8CodeUnitCount
        let w = word.utf8Start
        var k = 0
        while k < count {
            guard i + k < end, p[i + k] == w[k] else {
                throw .syntax(at: i, "invalid literal (expected true, false or null)")
            }
            k += 1
        }
        return i + count
    }

    private enum Step { case open, member, after }

    /// Skips the object or array at `p[start]` without recursion: a bit per level says whether
    /// it is an object (64 levels fit one UInt64).
    private static func container(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, depth: Int) throws(RecordError) -> Int {
        var i = start
        var objects: UInt64 = 0
        var level = 0
        var step = Step.open
        func closer() -> UInt8 {
            objects >> (level - 1) & 1 == 1 ? UInt8(ascii: "}") : UInt8(ascii: "]")
        }
        while true {
            switch step {
            case .open:
                level += 1
                if depth + level > maxDepth {
                    throw RecordError(.depth, at: i, "nesting deeper than \(maxDepth) levels")
                }
                if p[i] == UInt8(ascii: "{") { objects |= 1 << (level - 1) } else { objects &= ~(1 << (level - 1)) }
                i = whitespace(p, i + 1, end)
                if i < end && p[i] == closer() {
                    i += 1
                    level -= 1
                    if level == 0 { return i }
                    step = .after
                } else {
                    step = .member
                }
            case .member:
                if objects >> (level - 1) & 1 == 1 {
                    guard i < end, p[i] == UInt8(ascii: "\"") else {
                        throw .syntax(at: i, "expected a key in double quotes, found \(describeByte(p, i, end))")
                    }
                    i = whitespace(p, try JSONStrings.read(p, i + 1, end, into: nil).next, end)
                    guard i < end, p[i] == UInt8(ascii: ":") else {
                        throw .syntax(at: i, "expected ':' after the key, found \(describeByte(p, i, end))")
                    }
                    i = whitespace(p, i + 1, end)
                }
                if i < end && (p[i] == UInt8(ascii: "{") || p[i] == UInt8(ascii: "[")) {
                    step = .open
                } else {
                    i = try value(p, i, end, depth: depth + level)
                    step = .after
                }
            case .after:
                i = whitespace(p, i, end)
                let close = closer()
                guard i < end else {
                    throw .syntax(at: i, "expected ',' or '\(Character(Unicode.Scalar(close)))', found the end of the line")
                }
                if p[i] == UInt8(ascii: ",") {
                    i = whitespace(p, i + 1, end)
                    step = .member
                } else if p[i] == close {
                    i += 1
                    level -= 1
                    if level == 0 { return i }
                } else {
                    throw .syntax(at: i, "expected ',' or '\(Character(Unicode.Scalar(close)))', found \(describeByte(p, i, end))")
                }
            }
        }
    }
}
