import Config
import Testing

/// A document the parser must reject, and exactly where and why.
struct SyntaxCase: CustomTestStringConvertible, Sendable {
    let source: String
    let line: Int
    let column: Int
    let message: String
    init(_ source: String, _ line: Int, _ column: Int, _ message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.message = message
    }
    var testDescription: String { source.debugDescription }
}

@Suite struct TOMLErrorTests {
    static let cases: [SyntaxCase] = [
        // Keys and structure.
        SyntaxCase("a = 1\na = 2", 2, 1, "duplicate key `a` (first defined at 1:1)"),
        SyntaxCase("[t]\nx.y = 1\nx.y = 2", 3, 3, "duplicate key `t.x.y` (first defined at 2:3)"),
        SyntaxCase("[t]\n[t]", 2, 1, "table `[t]` is already defined at 1:1"),
        SyntaxCase("[a]\nb.c = 1\n[a.b]", 3, 1, "table `[a.b]` is already defined by dotted keys at 2:1"),
        SyntaxCase("a = 1\n[a]", 2, 1, "`a` is already defined as an integer at 1:1"),
        SyntaxCase("[[a]]\n[a]", 2, 1, "`a` is already an array of tables (`[[a]]` at 1:1)"),
        SyntaxCase("[a]\n[[a]]", 2, 1, "cannot define `[[a]]`: `a` is already a table (at 1:1)"),
        SyntaxCase("a = [1]\n[[a]]", 2, 1, "cannot define `[[a]]`: `a` is already an array (at 1:5)"),
        SyntaxCase("a = {x = 1}\n[a.b]", 2, 2, "cannot add a table to `a`: it is an inline table (at 1:5)"),
        SyntaxCase("a = {x = 1}\na.y = 2", 2, 1, "cannot add keys to `a`: it is already a table (at 1:5)"),
        SyntaxCase("[a.b]\n[a]\nb.c = 1", 3, 1,
                   "cannot add keys to table `a.b` with a dotted key: it is defined by a header (at 1:1)"),
        SyntaxCase("x = {a = 1, a = 2}", 1, 13, "duplicate key `x.a` (first defined at 1:6)"),
        SyntaxCase("[[f]]\nk = 1\nk = 2", 3, 1, "duplicate key `f[0].k` (first defined at 2:1)"),
        SyntaxCase("\"my key\" = 1\n\"my key\" = 2", 2, 1, "duplicate key `\"my key\"` (first defined at 1:1)"),
        SyntaxCase("name \"x\"", 1, 6, "expected `=` after key `name`, found `\"`"),
        SyntaxCase("name", 1, 5, "expected `=` after key `name`, found end of file"),
        SyntaxCase("name: 1", 1, 5, "expected `=` after key `name`, found `:`"),
        SyntaxCase("= 1", 1, 1, "expected a key, found `=` (the key is missing)"),
        SyntaxCase("a. = 1", 1, 4, "expected a key, found `=` (the key is missing)"),
        SyntaxCase("ké = 1", 1, 2, "expected `=` after key `k`, found `é`"),
        SyntaxCase("\"\"\"k\"\"\" = 1", 1, 1, "a multi-line string cannot be a key"),
        SyntaxCase("[table", 1, 7, "expected `]` to close the table header, found end of file"),
        SyntaxCase("[[t]", 1, 5, "expected `]]` to close the table header, found end of file"),
        SyntaxCase("[[t] ]", 1, 5, "expected `]]` to close the table header, found ` `"),
        SyntaxCase("[]", 1, 2, "expected a key, found `]`"),
        SyntaxCase("[t] x = 1", 1, 5, "expected the end of the line after `[t]`, found `x`"),
        // Values.
        SyntaxCase("a =", 1, 4, "expected a value, found end of file"),
        SyntaxCase("a = # c", 1, 5, "expected a value, found `#`"),
        SyntaxCase("a = 1 2", 1, 7, "expected the end of the line, found `2`"),
        SyntaxCase("a = \"x\" y", 1, 9, "expected the end of the line, found `y`"),
        SyntaxCase("a = jsonl", 1, 5, "expected a value, found `jsonl`; strings must be quoted: \"jsonl\""),
        SyntaxCase("a = True", 1, 5, "booleans are lowercase: write `true`, not `True`"),
        SyntaxCase("a = @", 1, 5, "expected a value, found `@`"),
        SyntaxCase("a = 1979-05-27", 1, 5,
                   "dates and times are not supported (found `1979-05-27`); write the value as a string"),
        SyntaxCase("a = 07:32:00", 1, 5,
                   "dates and times are not supported (found `07:32:00`); write the value as a string"),
        // Strings.
        SyntaxCase("a = \"open", 1, 5, "unterminated string"),
        SyntaxCase("a = 'open\nb = 1", 1, 5, "unterminated string"),
        SyntaxCase("a = \"\"\"open\n\n", 1, 5, "unterminated multi-line string"),
        SyntaxCase("a = '''open", 1, 5, "unterminated multi-line string"),
        SyntaxCase("a = \"bad \\q\"", 1, 10,
                   "invalid escape `\\q` in a string; valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"),
        SyntaxCase("a = \"\\e\"", 1, 6,
                   "invalid escape `\\e` in a string; valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"),
        SyntaxCase("a = \"\\u12\"", 1, 6, "invalid escape: `\\u` needs 4 hex digits"),
        SyntaxCase("a = \"\\U0000004\"", 1, 6, "invalid escape: `\\U` needs 8 hex digits"),
        SyntaxCase("a = \"\\uD800\"", 1, 6, "invalid escape: U+D800 is not a Unicode scalar value"),
        SyntaxCase("a = \"\\U00110000\"", 1, 6, "invalid escape: U+110000 is not a Unicode scalar value"),
        SyntaxCase("a = \"x\\\ny\"", 1, 7, "a `\\` at the end of a line is only allowed in a multi-line string"),
        SyntaxCase("a = \"\u{7}\"", 1, 6, "control character U+0007 must be escaped in a string"),
        SyntaxCase("a = '''\u{0}'''", 1, 8, "control character U+0000 must be escaped in a string"),
        SyntaxCase("a = \"\"\"x\ry\"\"\"", 1, 9, "a carriage return must be followed by a line feed"),
        SyntaxCase("a = \"\"\"x\"\"\"\"\"\"", 1, 14, "expected the end of the line, found `\"`"),
        // Numbers.
        SyntaxCase("a = 1__0", 1, 5, "invalid number `1__0`: `_` must sit between two digits"),
        SyntaxCase("a = _1", 1, 5, "invalid number `_1`: `_` must sit between two digits"),
        SyntaxCase("a = 1_", 1, 5, "invalid number `1_`: `_` must sit between two digits"),
        SyntaxCase("a = 0123", 1, 5, "invalid number `0123`: leading zeros are not allowed"),
        SyntaxCase("a = 1.", 1, 5, "invalid number `1.`: a decimal point must be followed by a digit"),
        SyntaxCase("a = .5", 1, 5, "invalid number `.5`"),
        SyntaxCase("a = 1e", 1, 5, "invalid number `1e`: an exponent needs digits"),
        SyntaxCase("a = 1.2.3", 1, 5, "invalid number `1.2.3`"),
        SyntaxCase("a = 0xG1", 1, 5, "invalid number `0xG1`"),
        SyntaxCase("a = +0x10", 1, 5, "invalid number `+0x10`"),
        SyntaxCase("a = 0b102", 1, 5, "invalid number `0b102`"),
        SyntaxCase("a = 9223372036854775808", 1, 5, "integer `9223372036854775808` does not fit in 64 bits"),
        SyntaxCase("a = 0x8000000000000000", 1, 5, "integer `0x8000000000000000` does not fit in 64 bits"),
        SyntaxCase("a = 1e400", 1, 5, "float `1e400` is out of range"),
        SyntaxCase("a = 12abc", 1, 5, "invalid number `12abc`"),
        // Arrays and inline tables.
        SyntaxCase("a = [1, 2", 1, 5, "unterminated array: missing `]`"),
        SyntaxCase("a = [1 2]", 1, 8, "expected `,` or `]` after an array element, found `2`"),
        SyntaxCase("a = [1,,2]", 1, 8, "expected a value, found `,`"),
        SyntaxCase("a = [\n  1,\n  x\n]", 3, 3, "expected a value, found `x`; strings must be quoted: \"x\""),
        SyntaxCase("a = {x = 1", 1, 5, "unterminated inline table: missing `}`"),
        SyntaxCase("a = {x = 1,}", 1, 12, "a trailing comma is not allowed in an inline table"),
        SyntaxCase("a = {x = 1\n}", 1, 11, "an inline table must be on one line: missing `}` before end of line"),
        SyntaxCase("a = {x = 1 y = 2}", 1, 12, "expected `,` or `}` in an inline table, found `y`"),
        SyntaxCase("a = {,}", 1, 6, "expected a key, found `,`"),
        // Characters and encoding.
        SyntaxCase("a = 1 # bell \u{7}", 1, 14, "control character U+0007 is not allowed in a comment"),
        SyntaxCase("a = 1\r b = 2", 1, 6, "a carriage return must be followed by a line feed"),
        SyntaxCase("\u{1}a = 1", 1, 1, "expected a key, found control character U+0001"),
        SyntaxCase("a = [" + String(repeating: "[", count: 64), 1, 69, "values nest too deeply (limit 64)"),
    ]

    @Test(arguments: cases)
    func rejectsWithPosition(_ test: SyntaxCase) throws {
        let error = try #require(tomlError(test.source))
        #expect(error.message == test.message)
        #expect(error.position == at(test.line, test.column))
        #expect(error.kind == .syntax)
        #expect(error.description == "\(testFile):\(test.line):\(test.column): \(test.message)")
    }

    @Test func invalidUTF8IsReportedAtItsByte() throws {
        let bytes: [UInt8] = Array("a = 1\nb = \"x".utf8) + [0xFF] + Array("\"".utf8)
        let error = try #require(tomlError(bytes: bytes))
        #expect(error.description == "\(testFile):2:7: invalid UTF-8 (byte 0xFF)")
    }

    @Test(arguments: [
        [0xC0, 0x80] as [UInt8],      // overlong encoding of NUL
        [0xED, 0xA0, 0x80],           // UTF-16 surrogate
        [0xF4, 0x90, 0x80, 0x80],     // above U+10FFFF
        [0xE6, 0x97],                 // truncated sequence
        [0x80],                       // lone continuation byte
    ])
    func rejectsInvalidUTF8Sequences(_ bad: [UInt8]) throws {
        let error = try #require(tomlError(bytes: Array("# ok\nk = 'é".utf8) + bad + [0x27]))
        #expect(error.position == at(2, 7))
        #expect(error.message.hasPrefix("invalid UTF-8"))
    }

    @Test func tableHeadersNestingTooDeeplyAreRejected() throws {
        let keys = (0...TOMLParser.maxDepth).map { "k\($0)" }.joined(separator: ".")
        let error = try #require(tomlError("[\(keys)]"))
        #expect(error.message == "tables nest too deeply (limit 64)")
    }
}
