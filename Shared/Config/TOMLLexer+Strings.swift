/// The four TOML string forms: basic `"..."`, literal `'...'`, and their multi-line `"""` and
/// `'''` variants.
extension TOMLLexer {
    /// Scans any string form starting at the next byte (a `"` or a `'`).
    /// - Parameter allowMultiline: false for keys, which cannot be multi-line strings.
    mutating func scanString(allowMultiline: Bool = true) throws(ConfigError) -> String {
        let start = position
        let multiline = looksAt("\"\"\"") || looksAt("'''")
        if multiline && !allowMultiline {
            throw error("a multi-line string cannot be a key")
        }
        let literal = peek() == Ascii.apostrophe
        switch (multiline, literal) {
        case (false, false): return try scanSingleLine(literal: false, start: start)
        case (false, true): return try scanSingleLine(literal: true, start: start)
        case (true, let literal): return try scanMultiline(literal: literal, start: start)
        }
    }

    private mutating func scanSingleLine(literal: Bool, start: SourcePosition) throws(ConfigError)
        -> String
    {
        let delimiter = literal ? Ascii.apostrophe : Ascii.quote
        advance()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw unterminated(start, multiline: false) }
            if byte == delimiter {
                advance()
                return String(decoding: out, as: UTF8.self)
            } else if byte == Ascii.lineFeed || byte == Ascii.carriageReturn {
                throw unterminated(start, multiline: false)
            } else if byte == Ascii.backslash && !literal {
                try scanEscape(into: &out)
            } else {
                try append(byte, to: &out)
            }
        }
    }

    private mutating func scanMultiline(literal: Bool, start: SourcePosition) throws(ConfigError)
        -> String
    {
        let delimiter = literal ? Ascii.apostrophe : Ascii.quote
        advance(by: 3)
        // A newline right after the opening delimiter is not part of the string.
        if peek() == Ascii.lineFeed {
            advance()
        } else if peek() == Ascii.carriageReturn, peek(1) == Ascii.lineFeed {
            advance(by: 2)
        }
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw unterminated(start, multiline: true) }
            if byte == delimiter {
                var run = 0
                while peek(run) == delimiter { run += 1 }
                if run < 3 {
                    out.append(contentsOf: repeatElement(delimiter, count: run))
                    advance(by: run)
                    continue
                }
                // Up to two quotes may sit right before the closing three; more are left
                // behind as trailing characters for the parser to reject.
                let extra = min(run - 3, 2)
                out.append(contentsOf: repeatElement(delimiter, count: extra))
                advance(by: extra + 3)
                return String(decoding: out, as: UTF8.self)
            } else if byte == Ascii.lineFeed {
                out.append(Ascii.lineFeed)
                advance()
            } else if byte == Ascii.carriageReturn {
                guard try consumeNewline() else { continue }
                out.append(Ascii.lineFeed)
            } else if byte == Ascii.backslash && !literal {
                if try !skipLineEndingBackslash() { try scanEscape(into: &out) }
            } else {
                try append(byte, to: &out)
            }
        }
    }

    /// A `\` followed only by whitespace up to the end of the line trims that whitespace and
    /// every newline and whitespace after it. Returns false (consuming nothing) otherwise.
    private mutating func skipLineEndingBackslash() throws(ConfigError) -> Bool {
        var ahead = 1
        while let byte = peek(ahead), byte == Ascii.space || byte == Ascii.tab { ahead += 1 }
        guard let byte = peek(ahead), byte == Ascii.lineFeed || byte == Ascii.carriageReturn else {
            return false
        }
        advance(by: ahead)
        while let byte = peek() {
            if byte == Ascii.space || byte == Ascii.tab {
                advance()
            } else if try !consumeNewline() {
                break
            }
        }
        return true
    }

    /// Scans `\x` at the next byte and appends what it stands for.
    private mutating func scanEscape(into out: inout [UInt8]) throws(ConfigError) {
        let start = position
        advance()
        guard let byte = peek() else { throw error("unterminated string", at: start) }
        guard !atEndOfLine else {
            throw error("a `\\` at the end of a line is only allowed in a multi-line string",
                        at: start)
        }
        let simple: UInt8? = switch byte {
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "t"): 0x09
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "r"): 0x0D
        case Ascii.quote: Ascii.quote
        case Ascii.backslash: Ascii.backslash
        default: nil
        }
        if let simple {
            advance()
            out.append(simple)
            return
        }
        let digits = byte == UInt8(ascii: "u") ? 4 : byte == UInt8(ascii: "U") ? 8 : 0
        guard digits > 0 else {
            throw error("invalid escape `\\\(describeNext.trimmingBackticks)` in a string; valid: "
                        + "\\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX", at: start)
        }
        advance()
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let hex = peek(), let digit = Self.hexValue(hex) else {
                throw error("invalid escape: `\\\(digits == 4 ? "u" : "U")` needs \(digits) hex "
                            + "digits", at: start)
            }
            value = value << 4 | UInt32(digit)
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("invalid escape: \(Ascii.codePoint(value)) is not a Unicode scalar value",
                        at: start)
        }
        Unicode.UTF8.encode(scalar) { out.append($0) }
    }

    /// Appends one content byte, rejecting control characters.
    private mutating func append(_ byte: UInt8, to out: inout [UInt8]) throws(ConfigError) {
        if Ascii.isControl(byte) {
            throw error("control character \(Ascii.codePoint(byte)) must be escaped in a string")
        }
        out.append(byte)
        advance()
    }

    private func unterminated(_ start: SourcePosition, multiline: Bool) -> ConfigError {
        error(multiline ? "unterminated multi-line string" : "unterminated string", at: start)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

extension String {
    /// "`x`" → "x", for quoting a character inside a larger code span.
    var trimmingBackticks: String {
        guard count >= 2, first == "`", last == "`" else { return self }
        return String(dropFirst().dropLast())
    }
}
