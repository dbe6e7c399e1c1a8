/// A cursor over the UTF-8 bytes of a TOML document that tracks line and column.
///
/// The bytes are validated as UTF-8 once, up front, so the rest of the lexer can step byte by
/// byte and still count columns in Unicode scalars. Token scanners live in the
/// `TOMLLexer+Strings` and `TOMLLexer+Values` extensions; the grammar is in `TOMLParser`.
struct TOMLLexer {
    let bytes: [UInt8]
    /// Used only to build errors.
    let file: String
    private(set) var index = 0
    private(set) var line = 1
    private(set) var column = 1

    /// Validates `bytes` as UTF-8 and skips a leading byte-order mark.
    /// - Throws: `ConfigError` at the first byte that is not valid UTF-8.
    init(bytes: [UInt8], file: String) throws(ConfigError) {
        self.bytes = bytes
        self.file = file
        // The byte-order mark is not part of line 1's columns.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        if let bad = Self.firstInvalidUTF8(bytes) {
            while index < bad { advance() }
            let hex = String(bytes[bad], radix: 16, uppercase: true)
            throw error("invalid UTF-8 (byte 0x\(hex.count == 1 ? "0" + hex : hex))")
        }
    }

    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    // MARK: Position

    /// Where the next byte is.
    var position: SourcePosition { SourcePosition(line: line, column: column) }
    var isAtEnd: Bool { index >= bytes.count }

    /// The byte `offset` bytes ahead, or nil past the end.
    func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// True if the next bytes are `text`'s UTF-8.
    func looksAt(_ text: String) -> Bool {
        var i = index
        for byte in text.utf8 {
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
        }
        return true
    }

    /// Steps over one byte; a line feed starts a new line, a UTF-8 lead byte a new column.
    mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == Ascii.lineFeed {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    mutating func advance(by count: Int) {
        for _ in 0..<count { advance() }
    }

    // MARK: Trivia

    /// Skips spaces and tabs.
    mutating func skipWhitespace() {
        while let byte = peek(), byte == Ascii.space || byte == Ascii.tab { advance() }
    }

    /// Skips a `#` comment up to (not including) the end of its line.
    /// - Throws: on a control character inside the comment.
    mutating func skipComment() throws(ConfigError) {
        guard peek() == Ascii.hash else { return }
        while let byte = peek(), byte != Ascii.lineFeed {
            if byte == Ascii.carriageReturn, peek(1) == Ascii.lineFeed { return }
            if Ascii.isControl(byte) {
                throw error("control character \(Ascii.codePoint(byte)) is not allowed in a "
                            + "comment")
            }
            advance()
        }
    }

    /// Consumes a line feed or a CR LF pair; returns false if neither is next.
    /// - Throws: on a carriage return not followed by a line feed.
    mutating func consumeNewline() throws(ConfigError) -> Bool {
        switch peek() {
        case Ascii.lineFeed:
            advance()
            return true
        case Ascii.carriageReturn:
            guard peek(1) == Ascii.lineFeed else {
                throw error("a carriage return must be followed by a line feed")
            }
            advance(by: 2)
            return true
        default:
            return false
        }
    }

    /// True if the next byte ends the line (or the file).
    var atEndOfLine: Bool {
        guard let byte = peek() else { return true }
        return byte == Ascii.lineFeed || byte == Ascii.carriageReturn
    }

    // MARK: Errors

    /// A syntax error at `position` (default: the next byte).
    func error(_ message: String, at position: SourcePosition? = nil) -> ConfigError {
        ConfigError(.syntax, file: file, position: position ?? self.position, message: message)
    }

    /// The next character, for messages: `` `x` ``, `end of line`, `end of file`, or `U+0007`.
    var describeNext: String {
        guard let byte = peek() else { return "end of file" }
        if byte == Ascii.lineFeed || byte == Ascii.carriageReturn { return "end of line" }
        if Ascii.isControl(byte) { return "control character \(Ascii.codePoint(byte))" }
        var end = index + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "`" + String(decoding: bytes[index..<end], as: UTF8.self) + "`"
    }
}

/// ASCII bytes the lexer looks for.
enum Ascii {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22         // "
    static let hash: UInt8 = 0x23          // #
    static let apostrophe: UInt8 = 0x27    // '
    static let comma: UInt8 = 0x2C
    static let dot: UInt8 = 0x2E
    static let equals: UInt8 = 0x3D
    static let leftBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let leftBrace: UInt8 = 0x7B
    static let rightBrace: UInt8 = 0x7D

    /// TOML forbids these everywhere but as escapes: U+0000...U+001F except tab, and U+007F.
    static func isControl(_ byte: UInt8) -> Bool { (byte < 0x20 && byte != tab) || byte == 0x7F }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    /// `A-Z a-z 0-9 _ -`: the characters of a bare key.
    static func isBareKey(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte) || byte == 0x5F || byte == 0x2D
    }

    /// `U+000A` style.
    static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    static func codePoint(_ byte: UInt8) -> String { codePoint(UInt32(byte)) }
}
