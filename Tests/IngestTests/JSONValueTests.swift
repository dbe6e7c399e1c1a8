import Config
import Messages
import Testing
@testable import IngestStage

/// A valid JSON line and the typed values it must give (nil: missing).
struct JSONValueCase: Sendable, CustomTestStringConvertible {
    let line: String
    var s: [UInt8]? = nil
    var f: Double? = nil
    var i: Int64? = nil
    var b: Bool? = nil
    var testDescription: String { line }
}

let jsonValueCases: [JSONValueCase] = [
    .init(line: "{}"),
    .init(line: #"{"s":"plain","f":1.5,"i":-3,"b":true}"#, s: Array("plain".utf8), f: 1.5, i: -3, b: true),
    .init(line: #"{"b":false,"i":0,"f":0,"s":""}"#, s: [], f: 0, i: 0, b: false),
    .init(line: #"{"s":null,"f":null,"i":null,"b":null}"#),
    // Escapes, surrogate pairs, raw UTF-8.
    .init(line: #"{"s":"a\"b\\c\/d\b\f\n\r\t"}"#, s: Array("a\"b\\c/d\u{8}\u{c}\n\r\t".utf8)),
    .init(line: #"{"s":"\u00e9\u4E2D\ud83d\ude00\u0000"}"#, s: Array("é中😀\u{0}".utf8)),
    .init(line: #"{"s":"Zürich 東京 😀"}"#, s: Array("Zürich 東京 😀".utf8)),
    .init(line: "{\"s\":\"\u{7F}\"}", s: [0x7F]),
    // Whitespace everywhere (JSON's four kinds, minus the line feed that ends the line).
    .init(line: " \t{ \"f\" : 1.5 ,\r\"i\" :\t2 , \"b\":true\t}\t \r", f: 1.5, i: 2, b: true),
    // Ignored keys with nested values, including one 64 levels deep in all.
    .init(line: #"{"x":{"a":[1,{"b":[true,false,null,"s\u0041",-1.5e-3]}],"c":{},"d":[]},"f":1}"#, f: 1),
    .init(line: #"{"deep":"# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + #","i":5}"#, i: 5),
    // Keys with escapes still find their field; duplicate keys: the last wins.
    .init(line: #"{"\u0066":2.5,"\u0073":"k"}"#, s: Array("k".utf8), f: 2.5),
    .init(line: #"{"i":1,"i":2,"s":"a","s":"bcd","s":"e"}"#, s: Array("e".utf8), i: 2),
    .init(line: #"{"i":"x","i":3}"#, i: 3),
    .init(line: #"{"s":"abc","s":null}"#),
    // As many duplicates as the schema has fields must not pass for a full record.
    .init(line: #"{"i":1,"i":2,"i":3,"i":4}"#, i: 4),
    .init(line: #"{"f":1,"f":null,"f":2,"f":null}"#),
    .init(line: #"{"i":"x","i":"y","i":"z","i":3}"#, i: 3),
    // Numbers.
    .init(line: #"{"f":-0}"#, f: -0.0),
    .init(line: #"{"f":-0.0e7}"#, f: -0.0),
    .init(line: #"{"f":1E+2}"#, f: 100),
    .init(line: #"{"f":1e-400}"#, f: 0),
    .init(line: #"{"f":-1e-400}"#, f: -0.0),
    .init(line: #"{"f":0.1}"#, f: 0.1),
    .init(line: #"{"f":1.7976931348623157e308}"#, f: .greatestFiniteMagnitude),
    .init(line: #"{"f":5e-324}"#, f: .leastNonzeroMagnitude),
    .init(line: #"{"f":2.2250738585072011e-308}"#, f: Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)),
    .init(line: #"{"f":123456789012345678901234567890}"#, f: 123456789012345678901234567890.0),
    .init(line: #"{"f":9007199254740993}"#, f: 9007199254740992),
    .init(line: #"{"f":0.1000000000000000055511151231257827021181583404541015625}"#, f: 0.1),
    .init(line: #"{"f":1e23}"#, f: 1e23),
    .init(line: #"{"f":123e30}"#, f: 123e30),
    .init(line: #"{"f":0.000000000000000000000000000001}"#, f: 1e-30),
    .init(line: #"{"f":7}"#, f: 7),
    .init(line: #"{"i":1.0}"#, i: 1),
    .init(line: #"{"i":1e3}"#, i: 1000),
    .init(line: #"{"i":12.50e1}"#, i: 125),
    .init(line: #"{"i":100e-2}"#, i: 1),
    .init(line: #"{"i":0.0e10}"#, i: 0),
    .init(line: #"{"i":-0}"#, i: 0),
    .init(line: #"{"i":0e999999999999999999999}"#, i: 0),
    .init(line: #"{"i":9223372036854775807}"#, i: .max),
    .init(line: #"{"i":-9223372036854775808}"#, i: .min),
    .init(line: #"{"i":922337203685477580.7e1}"#, i: .max),
    .init(line: #"{"i":1234567890123456789.000000000000}"#, i: 1_234_567_890_123_456_789),
]

@Suite struct JSONValueTests {
    static let fields = [
        FieldSpec(name: "s", type: .string, required: false), FieldSpec(name: "f", type: .float, required: false),
        FieldSpec(name: "i", type: .int, required: false), FieldSpec(name: "b", type: .bool, required: false),
    ]

    @Test(arguments: jsonValueCases)
    func value(_ c: JSONValueCase) throws {
        let result = try ingest(c.line + "\n", fields: Self.fields)
        #expect(result.rejects.isEmpty, "\(result.rejects.map(\.message))")
        try #require(result.rows == 1)
        #expect(result.missing(0)[0] == (c.s == nil) && result.strings(0)[0] == (c.s ?? []))
        #expect(result.missing(1)[0] == (c.f == nil))
        let f = result.doubles(1)[0]
        #expect(c.f.map { $0.bitPattern == f.bitPattern } ?? f.isNaN, "f = \(f)")
        #expect(result.missing(2)[0] == (c.i == nil) && result.ints(2)[0] == (c.i ?? 0))
        #expect(result.missing(3)[0] == (c.b == nil) && result.bools(3)[0] == (c.b ?? false))
    }

    @Test func blankLinesAreNotRecordsButCountAsLines() throws {
        let body = "\n  \t\r\n" + #"{"i":1}"# + "\n\n" + #"{"i":"x"}"# + "\n   "
        let result = try ingest(body, fields: Self.fields, firstLine: 5)
        #expect(result.recordCount == 2 && result.rows == 1)
        #expect(result.reject?.line == 9)
        #expect(result.reject?.byteOffset == UInt64(body.utf8.count - 13))
    }

    @Test func lastLineWithoutNewline() throws {
        let result = try ingest(#"{"i":1}"# + "\n" + #"{"i":2}"#, fields: Self.fields)
        #expect(result.ints(2) == [1, 2])
    }

    @Test func schemaFieldsComeOutInSchemaOrderWhateverTheKeyOrder() throws {
        let result = try ingest(#"{"b":true,"i":4,"f":2.5,"s":"x"}"# + "\n" + #"{"s":"y","f":1,"b":false,"i":5}"#,
                                fields: Self.fields)
        #expect(result.columns.map(\.type) == [.string, .float, .int, .bool])
        #expect(result.texts(0) == ["x", "y"] && result.doubles(1) == [2.5, 1] && result.ints(2) == [4, 5]
            && result.bools(3) == [true, false])
    }

    @Test func missingOptionalFieldsGetDefaultsAndFlags() throws {
        let result = try ingest(#"{"s":"a","f":1,"i":2,"b":true}"# + "\n{}\n" + #"{"s":null,"f":null}"#, fields: Self.fields)
        #expect(result.rows == 3)
        #expect(result.missing(0) == [false, true, true] && result.texts(0) == ["a", "", ""])
        #expect(result.missing(1) == [false, true, true] && result.doubles(1)[1].isNaN && result.doubles(1)[2].isNaN)
        #expect(result.missing(2) == [false, true, true] && result.ints(2) == [2, 0, 0])
        #expect(result.missing(3) == [false, true, true] && result.bools(3) == [true, false, false])
        // A column without missing values carries no flags at all.
        let full = try ingest(#"{"s":"a","f":1,"i":2,"b":true}"#, fields: Self.fields)
        #expect(full.columns.allSatisfy { $0.missing.isEmpty })
    }

    @Test func stringsOfRejectedRecordsDoNotLeakIntoTheColumn() throws {
        let body = [#"{"s":"aa"}"#, #"{"s":"zzzz","i":1.5}"#, #"{"s":"yy","i":"#, #"{"s":"bb"}"#].joined(separator: "\n")
        let result = try ingest(body, fields: Self.fields)
        #expect(result.texts(0) == ["aa", "bb"])
        #expect(result.rejects.map(\.code) == [.type, .jsonSyntax])
    }
}
