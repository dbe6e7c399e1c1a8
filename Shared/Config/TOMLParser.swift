/// A parser for the TOML subset the pipeline configuration uses.
///
/// Supported (TOML 1.0): `[tables]`, `[[arrays of tables]]`, bare, quoted and dotted keys,
/// basic and literal strings (single- and multi-line, all escapes), integers (decimal with `_`,
/// sign, `0x`/`0o`/`0b`), floats (fraction, exponent, `inf`, `nan`), booleans, arrays (mixed
/// types, multi-line, trailing comma, comments), inline tables, comments, LF and CRLF line ends,
/// a leading byte-order mark.
///
/// Rejected with a `ConfigError` at the offending line and column: offset dates, local dates and
/// times ("not supported"), duplicate keys, redefined tables, extending inline tables or static
/// arrays, unterminated strings, invalid escapes, malformed or out-of-range numbers, a key
/// without `=`, anything after a value on its line, newlines and trailing commas inside inline
/// tables (as TOML 1.0 says), invalid UTF-8, control characters, and nesting deeper than
/// `TOMLParser.maxDepth`.
public enum TOMLParser {
    /// Deepest nesting of tables and arrays accepted; keeps parsing recursion bounded.
    public static let maxDepth = 64

    /// Parses a whole document.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the file's path, used only in error messages.
    /// - Returns: the root table, every key and value with its position.
    /// - Throws: `ConfigError` (kind `.syntax`) at the first problem.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> TOMLTable {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses a whole document given as raw bytes, which must be UTF-8.
    /// - Throws: `ConfigError` at the first problem, including the first invalid UTF-8 byte.
    public static func parse(bytes: [UInt8], file: String) throws(ConfigError) -> TOMLTable {
        var state = try DocumentState(lexer: TOMLLexer(bytes: bytes, file: file))
        return try state.parseDocument()
    }
}

/// The parse of one document: the lexer, the tables built so far, and the current table.
private struct DocumentState {
    var lexer: TOMLLexer
    let builder: TOMLTableBuilder
    let root: TableNode
    var current: TableNode

    init(lexer: TOMLLexer) {
        self.lexer = lexer
        builder = TOMLTableBuilder(file: lexer.file)
        root = TableNode(origin: .root, position: .start, path: "", depth: 0)
        current = root
    }

    mutating func parseDocument() throws(ConfigError) -> TOMLTable {
        while true {
            lexer.skipWhitespace()
            guard let byte = lexer.peek() else { break }
            if byte == Ascii.leftBracket {
                try parseHeader()
            } else if byte != Ascii.hash && !lexer.atEndOfLine {
                let keys = try parseKey()
                let value = try parseAssignment(after: keys, in: current)
                try builder.insert(keys, value, into: current)
            }
            try finishLine()
        }
        return root.freeze()
    }

    /// After an expression: optional whitespace and comment, then a newline or the end.
    private mutating func finishLine() throws(ConfigError) {
        lexer.skipWhitespace()
        try lexer.skipComment()
        if lexer.isAtEnd { return }
        if try lexer.consumeNewline() { return }
        throw lexer.error("expected the end of the line, found \(lexer.describeNext)")
    }

    private mutating func parseHeader() throws(ConfigError) {
        let start = lexer.position
        lexer.advance()
        let isArray = lexer.peek() == Ascii.leftBracket
        if isArray { lexer.advance() }
        lexer.skipWhitespace()
        let keys = try parseKey()
        guard keys.count <= TOMLParser.maxDepth else {
            throw lexer.error("tables nest too deeply (limit \(TOMLParser.maxDepth))", at: start)
        }
        lexer.skipWhitespace()
        let close = isArray ? "]]" : "]"
        if isArray && lexer.looksAt("]") && !lexer.looksAt(close) { lexer.advance() }
        guard lexer.looksAt(close) else {
            throw lexer.error("expected `\(close)` to close the table header, found "
                              + lexer.describeNext)
        }
        lexer.advance(by: close.utf8.count)
        current = isArray
            ? try builder.openArrayElement(keys, in: root, at: start)
            : try builder.openTable(keys, in: root, at: start)
        let header = isArray ? "[[\(keys.display)]]" : "[\(keys.display)]"
        lexer.skipWhitespace()
        if !lexer.atEndOfLine && lexer.peek() != Ascii.hash {
            throw lexer.error("expected the end of the line after `\(header)`, found "
                              + lexer.describeNext)
        }
    }

    /// A key: simple keys joined by `.`, with optional whitespace around the dots.
    private mutating func parseKey() throws(ConfigError) -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            let start = lexer.position
            guard let byte = lexer.peek(), !lexer.atEndOfLine else {
                throw lexer.error("expected a key, found \(lexer.describeNext)")
            }
            if byte == Ascii.quote || byte == Ascii.apostrophe {
                parts.append(KeyPart(name: try lexer.scanString(allowMultiline: false),
                                     position: start))
            } else if Ascii.isBareKey(byte) {
                let from = lexer.index
                while let next = lexer.peek(), Ascii.isBareKey(next) { lexer.advance() }
                let name = String(decoding: lexer.bytes[from..<lexer.index], as: UTF8.self)
                parts.append(KeyPart(name: name, position: start))
            } else {
                let found = byte == Ascii.equals ? "`=` (the key is missing)" : lexer.describeNext
                throw lexer.error("expected a key, found \(found)")
            }
            lexer.skipWhitespace()
            guard lexer.peek() == Ascii.dot else { return parts }
            lexer.advance()
            lexer.skipWhitespace()
        }
    }

    /// `= value` after a key in `table`.
    private mutating func parseAssignment(after keys: [KeyPart], in table: TableNode)
        throws(ConfigError) -> TOMLValue
    {
        lexer.skipWhitespace()
        guard lexer.peek() == Ascii.equals else {
            throw lexer.error("expected `=` after key `\(keys.display)`, found "
                              + lexer.describeNext)
        }
        lexer.advance()
        lexer.skipWhitespace()
        guard table.depth + keys.count <= TOMLParser.maxDepth else {
            throw lexer.error("keys nest too deeply (limit \(TOMLParser.maxDepth))",
                              at: keys[0].position)
        }
        let path = keys.reduce(table.path) { TOMLPath.join($0, $1.name) }
        return try parseValue(path: path, depth: table.depth + keys.count)
    }

    /// A value; `path` names it in messages, `depth` counts the tables and arrays around it.
    private mutating func parseValue(path: String, depth: Int) throws(ConfigError) -> TOMLValue {
        let start = lexer.position
        guard depth <= TOMLParser.maxDepth else {
            throw lexer.error("values nest too deeply (limit \(TOMLParser.maxDepth))")
        }
        switch lexer.peek() {
        case Ascii.quote, Ascii.apostrophe:
            return TOMLValue(.string(try lexer.scanString()), at: start)
        case Ascii.leftBracket:
            return try parseArray(path: path, depth: depth)
        case Ascii.leftBrace:
            return try parseInlineTable(path: path, depth: depth)
        case let byte? where byte != Ascii.hash && !lexer.atEndOfLine:
            return TOMLValue(try lexer.scanBareValue(), at: start)
        default:
            throw lexer.error("expected a value, found \(lexer.describeNext)")
        }
    }

    private mutating func parseArray(path: String, depth: Int) throws(ConfigError) -> TOMLValue {
        let start = lexer.position
        lexer.advance()
        var items: [TOMLValue] = []
        while true {
            try skipArrayTrivia(start)
            if lexer.peek() == Ascii.rightBracket { break }
            items.append(try parseValue(path: "\(path)[\(items.count)]", depth: depth + 1))
            try skipArrayTrivia(start)
            if lexer.peek() == Ascii.comma {
                lexer.advance()
            } else if lexer.peek() != Ascii.rightBracket {
                throw lexer.error("expected `,` or `]` after an array element, found "
                                  + lexer.describeNext)
            }
        }
        lexer.advance()
        return TOMLValue(.array(items), at: start)
    }

    /// Whitespace, comments and newlines between array elements.
    private mutating func skipArrayTrivia(_ start: SourcePosition) throws(ConfigError) {
        while true {
            lexer.skipWhitespace()
            try lexer.skipComment()
            if lexer.isAtEnd { throw lexer.error("unterminated array: missing `]`", at: start) }
            if try !lexer.consumeNewline() { return }
        }
    }

    private mutating func parseInlineTable(path: String, depth: Int) throws(ConfigError)
        -> TOMLValue
    {
        let start = lexer.position
        lexer.advance()
        let table = TableNode(origin: .inline, position: start, path: path, depth: depth)
        lexer.skipWhitespace()
        if lexer.peek() == Ascii.rightBrace {
            lexer.advance()
            return TOMLValue(.table(table.freeze()), at: start)
        }
        while true {
            lexer.skipWhitespace()
            if lexer.peek() == Ascii.rightBrace {
                throw lexer.error("a trailing comma is not allowed in an inline table")
            }
            try checkInlineTableOpen(start)
            let keys = try parseKey()
            let value = try parseAssignment(after: keys, in: table)
            try builder.insert(keys, value, into: table)
            lexer.skipWhitespace()
            if lexer.peek() == Ascii.rightBrace { break }
            try checkInlineTableOpen(start)
            guard lexer.peek() == Ascii.comma else {
                throw lexer.error("expected `,` or `}` in an inline table, found "
                                  + lexer.describeNext)
            }
            lexer.advance()
        }
        lexer.advance()
        return TOMLValue(.table(table.freeze()), at: start)
    }

    private func checkInlineTableOpen(_ start: SourcePosition) throws(ConfigError) {
        if lexer.isAtEnd { throw lexer.error("unterminated inline table: missing `}`", at: start) }
        if lexer.atEndOfLine || lexer.peek() == Ascii.hash {
            throw lexer.error("an inline table must be on one line: missing `}` before "
                              + lexer.describeNext)
        }
    }
}

extension [KeyPart] {
    /// `a.b."c d"`.
    var display: String { map { TOMLPath.display($0.name) }.joined(separator: ".") }
}
