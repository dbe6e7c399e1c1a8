/// Unquoted values: booleans, integers (decimal, hex, octal, binary) and floats (with exponent,
/// `inf`, `nan`). Dates and times are recognised only to be rejected with a clear message.
extension TOMLLexer {
    /// Scans the unquoted value at the next byte.
    mutating func scanBareValue() throws(ConfigError) -> TOMLValue.Kind {
        let start = position
        let from = index
        while let byte = peek(), Self.isTokenByte(byte) { advance() }
        let token = Array(bytes[from..<index])
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "": throw error("expected a value, found \(describeNext)")
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan": return .float(.nan)
        case "-nan": return .float(-.nan)
        default: break
        }
        if Self.looksLikeDateTime(token) {
            throw error("dates and times are not supported (found `\(text)`); "
                        + "write the value as a string", at: start)
        }
        guard let first = token.first, !Ascii.isLetter(first) else {
            let lower = text.lowercased()
            if lower == "true" || lower == "false" {
                throw error("booleans are lowercase: write `\(lower)`, not `\(text)`", at: start)
            }
            throw error("expected a value, found `\(text)`; strings must be quoted: \"\(text)\"",
                        at: start)
        }
        return try number(token, text: text, at: start)
    }

    private func number(_ t: [UInt8], text: String, at start: SourcePosition) throws(ConfigError)
        -> TOMLValue.Kind
    {
        let invalid = error("invalid number `\(text)`", at: start)
        var i = 0
        let underscore = error("invalid number `\(text)`: `_` must sit between two digits",
                               at: start)

        // 0x.., 0o.., 0b..: unsigned, no sign allowed.
        if t.count > 2, t[0] == UInt8(ascii: "0"), let radix = Self.radix(prefix: t[1]) {
            i = 2
            guard try Self.digits(t, &i, radix: radix, or: underscore) > 0, i == t.count else {
                throw invalid
            }
            let clean = String(decoding: t[2...].filter { $0 != 0x5F }, as: UTF8.self)
            guard let value = Int(clean, radix: radix) else {
                throw error("integer `\(text)` does not fit in 64 bits", at: start)
            }
            return .integer(value)
        }

        if t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
        let integerStart = i
        guard try Self.digits(t, &i, radix: 10, or: underscore) > 0 else { throw invalid }
        if t[integerStart] == UInt8(ascii: "0") && i - integerStart > 1 {
            throw error("invalid number `\(text)`: leading zeros are not allowed", at: start)
        }
        var isFloat = false
        if i < t.count, t[i] == Ascii.dot {
            i += 1
            isFloat = true
            guard try Self.digits(t, &i, radix: 10, or: underscore) > 0 else {
                throw error("invalid number `\(text)`: a decimal point must be followed by a digit",
                            at: start)
            }
        }
        if i < t.count, t[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            isFloat = true
            if i < t.count, t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
            guard try Self.digits(t, &i, radix: 10, or: underscore) > 0 else {
                throw error("invalid number `\(text)`: an exponent needs digits", at: start)
            }
        }
        guard i == t.count else { throw invalid }

        let clean = String(decoding: t.filter { $0 != 0x5F }, as: UTF8.self)
        if isFloat {
            guard let value = Double(clean), value.isFinite else {
                throw error("float `\(text)` is out of range", at: start)
            }
            return .float(value)
        }
        guard let value = Int(clean) else {
            throw error("integer `\(text)` does not fit in 64 bits", at: start)
        }
        return .integer(value)
    }

    /// Advances `i` over digits of `radix` with single `_` between them; returns the digit count.
    private static func digits(_ t: [UInt8], _ i: inout Int, radix: Int, or underscore: ConfigError)
        throws(ConfigError) -> Int
    {
        var count = 0
        var afterUnderscore = false
        while i < t.count {
            if let digit = hexValue(t[i]), Int(digit) < radix {
                count += 1
                afterUnderscore = false
            } else if t[i] == 0x5F {
                if count == 0 || afterUnderscore { throw underscore }
                afterUnderscore = true
            } else {
                break
            }
            i += 1
        }
        if afterUnderscore { throw underscore }
        return count
    }

    private static func radix(prefix: UInt8) -> Int? {
        switch prefix {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    /// `1979-05-27...` or `07:32:00...`.
    private static func looksLikeDateTime(_ t: [UInt8]) -> Bool {
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= t.count && t[range].allSatisfy(Ascii.isDigit)
        }
        if digits(0..<4), t.count > 4, t[4] == UInt8(ascii: "-") { return true }
        return digits(0..<2) && t.count > 2 && t[2] == UInt8(ascii: ":")
    }

    /// Characters an unquoted value can be made of (wider than TOML, for whole-token messages).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        Ascii.isBareKey(byte) || byte == UInt8(ascii: "+") || byte == Ascii.dot
            || byte == UInt8(ascii: ":")
    }
}
