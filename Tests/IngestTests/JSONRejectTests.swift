import Config
import Messages
import Testing
@testable import IngestStage

/// One bad JSON line and the reject it must give.
struct JSONRejectCase: Sendable, CustomTestStringConvertible {
    let line: [UInt8]
    let code: RejectCode
    let field: String
    /// The exact message.
    let message: String

    init(_ line: String, _ code: RejectCode, _ field: String = "", _ message: String) {
        self.init(bytes: Array(line.utf8), code, field, message)
    }

    init(bytes: [UInt8], _ code: RejectCode, _ field: String = "", _ message: String) {
        self.line = bytes
        self.code = code
        self.field = field
        self.message = message
    }

    var testDescription: String { "\(code.name): \(String(decoding: line.prefix(60), as: UTF8.self))" }
}

private let nest64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)

let jsonRejectCases: [JSONRejectCase] = [
    // JSON_SYNTAX
    .init(#"{"id":1,"amount":2"#, .jsonSyntax, "", "at byte 19 of the line: expected ',' or '}', found the end of the line"),
    .init("[1,2]", .jsonSyntax, "", "at byte 1 of the line: each line must be one JSON object, found an array"),
    .init(#""abc""#, .jsonSyntax, "", "at byte 1 of the line: each line must be one JSON object, found a string"),
    .init(#"{"id":1,"amount":2} x"#, .jsonSyntax, "",
          "at byte 21 of the line: unexpected 'x' after the end of the object (one object per line)"),
    .init(#"{"id":1,"amount":2}{"id":2}"#, .jsonSyntax, "",
          "at byte 20 of the line: unexpected '{' after the end of the object (one object per line)"),
    .init(#"{"id":1,"amount":2,"name":"a\qb"}"#, .jsonSyntax, "",
          #"at byte 29 of the line: invalid escape '\q' (valid: \" \\ \/ \b \f \n \r \t \uXXXX)"#),
    .init(#"{"id":1,"amount":2,"name":"\uD800"}"#, .jsonSyntax, "",
          #"at byte 28 of the line: unpaired surrogate \uD800 (a high surrogate must be followed by \uDC00-\uDFFF)"#),
    .init(#"{"id":1,"amount":2,"name":"\uD83D\u0041"}"#, .jsonSyntax, "",
          #"at byte 28 of the line: unpaired surrogate \uD83D (a high surrogate must be followed by \uDC00-\uDFFF)"#),
    .init(#"{"id":1,"amount":2,"name":"\uDC00x"}"#, .jsonSyntax, "",
          #"at byte 28 of the line: unpaired surrogate \uDC00 (a low surrogate must follow a high one)"#),
    .init(#"{"id":1,"amount":2,"name":"\u12G4"}"#, .jsonSyntax, "", #"at byte 28 of the line: a \u escape needs 4 hex digits"#),
    .init("{\"id\":1,\"amount\":2,\"name\":\"a\tb\"}", .jsonSyntax, "",
          "at byte 29 of the line: control character U+0009 in a string (write it as an escape)"),
    .init("{\"id\":1,\"amount\":2,\"x\":{\"y\":\"a\u{1}b\"}}", .jsonSyntax, "",
          "at byte 31 of the line: control character U+0001 in a string (write it as an escape)"),
    .init(#"{"id":1,"amount":2,"name":"abc"#, .jsonSyntax, "",
          #"at byte 31 of the line: the line ends inside a string (missing closing '"')"#),
    .init(#"{"id":01,"amount":2}"#, .jsonSyntax, "", "at byte 7 of the line: a number must not start with a leading zero"),
    .init(#"{"id":1,"amount":+2}"#, .jsonSyntax, "", "at byte 18 of the line: expected a value, found '+'"),
    .init(#"{"id":1,"amount":.5}"#, .jsonSyntax, "", "at byte 18 of the line: expected a value, found '.'"),
    .init(#"{"id":1,"amount":NaN}"#, .jsonSyntax, "", "at byte 18 of the line: expected a value, found 'N'"),
    .init(#"{"id":1,"amount":Infinity}"#, .jsonSyntax, "", "at byte 18 of the line: expected a value, found 'I'"),
    .init(#"{"id":1,"amount":-}"#, .jsonSyntax, "", "at byte 19 of the line: expected a digit after '-'"),
    .init(#"{"id":1,"amount":1.}"#, .jsonSyntax, "", "at byte 20 of the line: expected a digit after the decimal point"),
    .init(#"{"id":1,"amount":1e}"#, .jsonSyntax, "", "at byte 20 of the line: expected a digit in the exponent"),
    .init(#"{"id":1,"amount":2,}"#, .jsonSyntax, "", "at byte 20 of the line: expected a key in double quotes, found '}'"),
    .init("{'id':1}", .jsonSyntax, "", "at byte 2 of the line: expected a key in double quotes, found '''"),
    .init(#"{"id":1 "amount":2}"#, .jsonSyntax, "", #"at byte 9 of the line: expected ',' or '}', found '"'"#),
    .init(#"{"id" 1}"#, .jsonSyntax, "", "at byte 7 of the line: expected ':' after the key, found '1'"),
    .init(#"{"id":1,"amount":tru}"#, .jsonSyntax, "", "at byte 18 of the line: invalid literal (expected true, false or null)"),
    .init(#"{"id":1,"amount":2,"x":[1,2,]}"#, .jsonSyntax, "", "at byte 29 of the line: expected a value, found ']'"),
    .init(#"{"id":1,"amount":2,"x":[1 2]}"#, .jsonSyntax, "", "at byte 27 of the line: expected ',' or ']', found '2'"),
    .init(#"{"id":1,"amount":2,"x":{"a" 1}}"#, .jsonSyntax, "", "at byte 29 of the line: expected ':' after the key, found '1'"),
    .init(#"{"id":1,"amount":2,"x":{"a":1,}}"#, .jsonSyntax, "",
          "at byte 31 of the line: expected a key in double quotes, found '}'"),
    .init(#"{"i\d":1}"#, .jsonSyntax, "", #"at byte 4 of the line: invalid escape '\d' (valid: \" \\ \/ \b \f \n \r \t \uXXXX)"#),
    // A syntax error later in the line wins over a type error before it.
    .init(#"{"id":"x","amount":2,}"#, .jsonSyntax, "", "at byte 22 of the line: expected a key in double quotes, found '}'"),
    // DEPTH: the record's object is level 1; 64 more levels are one too many, ignored field or not.
    .init(#"{"id":1,"amount":2,"x":"# + nest64 + "}", .depth, "", "at byte 87 of the line: nesting deeper than 64 levels"),
    .init(#"{"id":1,"amount":"# + nest64 + "}", .depth, "", "at byte 81 of the line: nesting deeper than 64 levels"),
    // INVALID_UTF8: checked before parsing, so it wins over everything.
    .init(bytes: Array(#"{"id":1,"amount":2,"name":""#.utf8) + [0xFF] + Array(#""}"#.utf8), .invalidUTF8, "",
          "at byte 28 of the line: invalid UTF-8 (byte 0xFF); the input must be UTF-8"),
    .init(bytes: Array(#"{"id":1,"amount":2,"name":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), .invalidUTF8, "",
          "at byte 28 of the line: invalid UTF-8 (byte 0xC0); the input must be UTF-8"),
    .init(bytes: Array(#"{"id":1,"amount":2,"name":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), .invalidUTF8, "",
          "at byte 28 of the line: invalid UTF-8 (byte 0xED); the input must be UTF-8"),
    .init(bytes: Array(#"{"id":1,"amount":2,"name":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8), .invalidUTF8, "",
          "at byte 28 of the line: invalid UTF-8 (byte 0xF4); the input must be UTF-8"),
    .init(bytes: Array(#"{"id":1,"amount":2,"name":""#.utf8) + [0xE2, 0x82], .invalidUTF8, "",
          "at byte 28 of the line: invalid UTF-8 (byte 0xE2); the input must be UTF-8"),
    .init(bytes: Array(#"{"id":01,"x":""#.utf8) + [0x80] + Array(#""}"#.utf8), .invalidUTF8, "",
          "at byte 15 of the line: invalid UTF-8 (byte 0x80); the input must be UTF-8"),
    // TYPE
    .init(#"{"id":1.5,"amount":2}"#, .type, "id", "field 'id' at byte 7 of the line: expected an integer, found 1.5"),
    .init(#"{"id":1e19,"amount":2}"#, .type, "id",
          "field 'id' at byte 7 of the line: expected an integer within the 64-bit range, found 1e19"),
    .init(#"{"id":9223372036854775808,"amount":1}"#, .type, "id",
          "field 'id' at byte 7 of the line: expected an integer within the 64-bit range, found 9223372036854775808"),
    .init(#"{"id":-9223372036854775809,"amount":1}"#, .type, "id",
          "field 'id' at byte 7 of the line: expected an integer within the 64-bit range, found -9223372036854775809"),
    .init(#"{"id":1e-400,"amount":1}"#, .type, "id", "field 'id' at byte 7 of the line: expected an integer, found 1e-400"),
    .init(#"{"id":true,"amount":1}"#, .type, "id", "field 'id' at byte 7 of the line: expected an integer, found true"),
    .init(#"{"id":1,"amount":"2"}"#, .type, "amount", "field 'amount' at byte 18 of the line: expected a number, found a string"),
    .init(#"{"id":1,"amount":1e400}"#, .type, "amount",
          "field 'amount' at byte 18 of the line: expected a number within the range of a 64-bit float, found 1e400"),
    .init(#"{"id":1,"amount":-1e400}"#, .type, "amount",
          "field 'amount' at byte 18 of the line: expected a number within the range of a 64-bit float, found -1e400"),
    .init(#"{"id":1,"amount":[1],"flag":"x"}"#, .type, "amount",
          "field 'amount' at byte 18 of the line: expected a number, found an array"),
    .init(#"{"id":1,"amount":{}}"#, .type, "amount", "field 'amount' at byte 18 of the line: expected a number, found an object"),
    .init(#"{"id":1,"amount":2,"flag":1}"#, .type, "flag", "field 'flag' at byte 27 of the line: expected true or false, found 1"),
    .init(#"{"id":1,"amount":2,"flag":"true"}"#, .type, "flag",
          "field 'flag' at byte 27 of the line: expected true or false, found a string"),
    .init(#"{"id":1,"amount":2,"name":5}"#, .type, "name", "field 'name' at byte 27 of the line: expected a string, found 5"),
    .init(#"{"id":1,"amount":2,"name":false}"#, .type, "name", "field 'name' at byte 27 of the line: expected a string, found false"),
    // A type error wins over a missing field; the last duplicate key decides.
    .init(#"{"id":"x"}"#, .type, "id", "field 'id' at byte 7 of the line: expected an integer, found a string"),
    .init(#"{"id":1,"amount":2,"id":"7"}"#, .type, "id", "field 'id' at byte 25 of the line: expected an integer, found a string"),
    // MISSING_FIELD
    .init(#"{"amount":2}"#, .missingField, "id", "required field 'id' is missing"),
    .init(#"{}"#, .missingField, "id", "required field 'id' is missing"),
    .init(#"{"id":null,"amount":2}"#, .missingField, "id", "required field 'id' is null"),
    .init(#"{"id":1,"id":null,"amount":2}"#, .missingField, "id", "required field 'id' is null"),
    .init(#"{"id":1,"amount":"x","amount":null}"#, .missingField, "amount", "required field 'amount' is null"),
]

@Suite struct JSONRejectTests {
    static let fields = [
        FieldSpec(name: "id", type: .int), FieldSpec(name: "amount", type: .float),
        FieldSpec(name: "name", type: .string, required: false), FieldSpec(name: "flag", type: .bool, required: false),
    ]

    /// The bad line sits between two good ones: its line, offset and neighbours must all be right.
    @Test(arguments: jsonRejectCases)
    func reject(_ c: JSONRejectCase) throws {
        let good = Array(#"{"id":0,"amount":0.5,"name":"ok"}"#.utf8)
        let body = good + [0x0A] + c.line + [0x0A] + good + [0x0A]
        let result = try ingest(bytes: body, fields: Self.fields, firstLine: 10, byteOffset: 1000)
        #expect(result.kind == .records && result.rows == 2 && result.recordCount == 3)
        #expect(result.texts(2) == ["ok", "ok"])
        let r = try #require(result.reject)
        #expect(r.code == c.code)
        #expect(r.field == c.field)
        #expect(r.message == c.message)
        #expect(r.line == 11)
        #expect(r.byteOffset == 1000 + UInt64(good.count + 1))
        #expect(r.stage == .ingest)
        #expect(r.input == Array(c.line.prefix(Reject.maxInputBytes)))
    }

    /// Records cut short at the very end of the chunk (no line feed after them): the parsers
    /// must stop at the body's end, not read past it.
    @Test(arguments: [#"{"id":"#, #"{"id":-"#, #"{"id":1,"amount":"#, #"{"id":1,"amount":-"#, #"{"id":1,"amount":1."#,
                      #"{"id":1,"name":"#, #"{"id":1,"name":"x"#, #"{"id":1,"flag":t"#, "{", #"{""#, #"{"id""#])
    func truncatedAtTheEndOfTheChunk(_ line: String) throws {
        let result = try ingest(line, fields: Self.fields)
        #expect(result.reject?.code == .jsonSyntax, "\(result.rejects.map(\.message))")
    }

    @Test func inputExcerptIsTheFirst200BytesWithoutLineEnd() throws {
        let long = #"{"id":"# + String(repeating: "1", count: 300) + "}"
        let result = try ingest(long + "\r\n" + #"{"id":"x"}"# + "\r\n", fields: Self.fields)
        #expect(result.rejects.count == 2)
        #expect(result.rejects[0].input == Array(long.utf8.prefix(200)))
        #expect(result.rejects[1].input == Array(#"{"id":"x"}"#.utf8))
        #expect(result.rejects[1].line == 2 && result.rejects[1].byteOffset == UInt64(long.utf8.count + 2))
    }
}
