import Config
import Messages
import Testing
@testable import IngestStage

/// One bad CSV record and the reject it must give.
struct CSVRejectCase: Sendable, CustomTestStringConvertible {
    let record: String
    let code: RejectCode
    let field: String
    let message: String
    init(_ record: String, _ code: RejectCode, _ field: String = "", _ message: String) {
        self.record = record
        self.code = code
        self.field = field
        self.message = message
    }
    var testDescription: String { "\(code.name): \(record)" }
}

let csvRejectCases: [CSVRejectCase] = [
    .init(#"1,2.5,ab"c,true"#, .csvSyntax, "",
          "at byte 9 of the line: quote inside an unquoted field (quote the whole field and double the quotes in it)"),
    .init(#"1,2.5,"ab"c,true"#, .csvSyntax, "",
          "at byte 11 of the line: unexpected 'c' after the closing quote (expected ',' or the end of the line)"),
    .init(#"1,2.5, "ab",true"#, .csvSyntax, "",
          "at byte 8 of the line: quote inside an unquoted field (quote the whole field and double the quotes in it)"),
    .init("1,2.5,x,true,extra", .tooManyColumns, "", "at byte 14 of the line: the record has 5 fields but the header has 4"),
    .init("1,2.5,x,true,", .tooManyColumns, "", "at byte 14 of the line: the record has 5 fields but the header has 4"),
    .init("1,2.5,x", .missingColumns, "", "at byte 8 of the line: the record has 3 fields but the header has 4"),
    .init("1", .missingColumns, "", "at byte 2 of the line: the record has 1 field but the header has 4"),
    .init(",2.5,x,true", .missingField, "id", "required field 'id' is empty"),
    .init("  ,2.5,x,true", .missingField, "id", "required field 'id' is empty"),
    .init("1.5,2.5,x,true", .type, "id", #"field 'id' at byte 1 of the line: expected an integer, found "1.5""#),
    .init("99999999999999999999,2.5,x,true", .type, "id",
          #"field 'id' at byte 1 of the line: expected an integer within the 64-bit range, found "99999999999999999999""#),
    .init("1,abc,x,true", .type, "amount", #"field 'amount' at byte 3 of the line: expected a number, found "abc""#),
    .init("1,nan,x,true", .type, "amount", #"field 'amount' at byte 3 of the line: expected a number, found "nan""#),
    .init("1,inf,x,true", .type, "amount", #"field 'amount' at byte 3 of the line: expected a number, found "inf""#),
    .init("1,1e999,x,true", .type, "amount",
          #"field 'amount' at byte 3 of the line: expected a number within the range of a 64-bit float, found "1e999""#),
    .init("1,2 5,x,true", .type, "amount", #"field 'amount' at byte 3 of the line: expected a number, found "2 5""#),
    .init(#"1,"2""5",x,true"#, .type, "amount", #"field 'amount' at byte 4 of the line: expected a number, found "2""5""#),
    .init("1,2.5,x,yes", .type, "flag", #"field 'flag' at byte 9 of the line: expected true, false, 1 or 0, found "yes""#),
    .init("1,2.5,x,2", .type, "flag", #"field 'flag' at byte 9 of the line: expected true, false, 1 or 0, found "2""#),
    // Priorities: syntax, then column count, then type, then missing.
    .init(#"x,,"a"b,1,2"#, .csvSyntax, "",
          "at byte 7 of the line: unexpected 'b' after the closing quote (expected ',' or the end of the line)"),
    .init("x,2.5,x,true,1", .tooManyColumns, "", "at byte 14 of the line: the record has 5 fields but the header has 4"),
    .init(",abc,x,true", .type, "amount", #"field 'amount' at byte 2 of the line: expected a number, found "abc""#),
]

@Suite struct CSVTests {
    static let fields = [
        FieldSpec(name: "id", type: .int), FieldSpec(name: "amount", type: .float),
        FieldSpec(name: "name", type: .string, required: false), FieldSpec(name: "flag", type: .bool, required: false),
    ]
    static let header = "id,amount,name,flag"

    static func csv(_ body: String, header: String = CSVTests.header, fields: [FieldSpec] = CSVTests.fields,
                    firstLine: UInt64 = 2, byteOffset: UInt64 = 20) throws -> Ingested {
        try ingest(body, fields: fields, format: .csv, header: header, firstLine: firstLine, byteOffset: byteOffset)
    }

    @Test(arguments: csvRejectCases)
    func reject(_ c: CSVRejectCase) throws {
        let good = "7,0.5,ok,1"
        let result = try Self.csv(good + "\n" + c.record + "\n" + good + "\n", firstLine: 10, byteOffset: 1000)
        #expect(result.rows == 2 && result.recordCount == 3 && result.texts(2) == ["ok", "ok"])
        let r = try #require(result.reject)
        #expect(r.code == c.code)
        #expect(r.field == c.field)
        #expect(r.message == c.message)
        #expect(r.line == 11 && r.byteOffset == 1000 + UInt64(good.utf8.count + 1))
        #expect(r.input == Array(c.record.utf8))
    }

    @Test func quotingRules() throws {
        let body = #"""
            1,2.5,"a,b",true
            2,-1e3,"say ""hi""",FALSE
            3,.5,"",0
            4,5.,"",1
            5, +3 ,plain text ,True
            """#
        let result = try Self.csv(body)
        #expect(result.rejects.isEmpty, "\(result.rejects.map(\.message))")
        #expect(result.ints(0) == [1, 2, 3, 4, 5])
        #expect(result.doubles(1) == [2.5, -1000, 0.5, 5, 3])
        #expect(result.texts(2) == ["a,b", #"say "hi""#, "", "", "plain text "])
        #expect(result.missing(2) == [false, false, false, false, false])
        #expect(result.bools(3) == [true, false, false, true, true])
    }

    /// Numbers take a fast path where they stand; every case it does not take must still come
    /// out as the general path says.
    @Test(arguments: [
        ("1.5", 1.5), ("-0.0", -0.0), ("+5", 5), (" 1.5", 1.5), ("1.5 ", 1.5), ("\"1.5\"", 1.5), ("1.5e3", 1500),
        ("1e5", 100_000), (".5", 0.5), ("5.", 5), ("007", 7), ("12345678.5", 12_345_678.5), ("-9.25", -9.25),
        ("123456789012345678901", 123_456_789_012_345_678_901.0), ("0.000001", 0.000001), ("99999999", 99_999_999),
    ] as [(String, Double)])
    func numberFields(_ text: String, _ value: Double) throws {
        let fields = [FieldSpec(name: "f", type: .float), FieldSpec(name: "i", type: .int, required: false)]
        // As the last field (the fast path near the end of the record) and followed by another.
        let result = try Self.csv("\(text)\n\(text),1\n", header: "f", fields: fields)
        let second = try Self.csv("1,\(text)\n", header: "i,f", fields: fields)
        #expect(result.rows == 1 && result.rejects.map(\.code) == [.tooManyColumns])
        #expect(result.doubles(0).first?.bitPattern == value.bitPattern)
        #expect(second.doubles(0) == [value] && second.ints(1) == [1])
        let ints = try Self.csv("\(text)\n", header: "i", fields: [FieldSpec(name: "i", type: .int)])
        let integral = value == value.rounded() && abs(value) < 1e18
        #expect(ints.rows == (integral ? 1 : 0))
        if integral { #expect(ints.ints(0) == [Int64(value)]) }
    }

    @Test func quotedLineBreaksSpanLinesAndKeepLaterLineNumbersRight() throws {
        let body = "1,2.5,\"line one\nline two\r\nline three\",true\n2,x,y,0\n3,3,\"\n\",1\n4,y,z,0\n"
        let result = try Self.csv(body, firstLine: 2, byteOffset: 0)
        #expect(result.recordCount == 4 && result.rows == 2)
        #expect(result.texts(2) == ["line one\nline two\r\nline three", "\n"])
        #expect(result.rejects.map(\.line) == [5, 8])
        #expect(result.rejects[0].byteOffset == UInt64(Array(body.utf8).count - "2,x,y,0\n3,3,\"\n\",1\n4,y,z,0\n".utf8.count))
        #expect(result.rejects.map(\.message) == [
            #"field 'amount' at byte 3 of the line: expected a number, found "x""#,
            #"field 'amount' at byte 3 of the line: expected a number, found "y""#,
        ])
    }

    @Test func errorsInsideAMultiLineRecordNameTheirLine() throws {
        let result = try Self.csv("1,2,\"a\nb\"x,1\n", firstLine: 4)
        #expect(result.reject?.line == 4)
        #expect(result.reject?.message == "at byte 3 of line 5: unexpected 'x' after the closing quote (expected ',' or the end of the line)")
    }

    @Test func crlfEmptyFieldsAndBlankLines() throws {
        let fields = [FieldSpec(name: "id", type: .int), FieldSpec(name: "amount", type: .float, required: false),
                      FieldSpec(name: "name", type: .string, required: false), FieldSpec(name: "flag", type: .bool, required: false)]
        let result = try Self.csv("1,,,\r\n\r\n  \r\n2,\"\",\"\",\"\"\r\n3, , ,\t\r\n", fields: fields)
        #expect(result.rejects.isEmpty && result.rows == 3 && result.recordCount == 3)
        #expect(result.missing(1) == [true, true, true] && result.doubles(1).allSatisfy(\.isNaN))
        #expect(result.missing(2) == [false, false, false] && result.texts(2) == ["", "", " "])
        #expect(result.missing(3) == [true, true, true])
    }

    @Test func headerNamesMapByBytesWhateverTheOrder() throws {
        let header = "\u{FEFF}flag,\"ignored, really\",\"amo\"\"unt\",id,name\r"
        let fields = [FieldSpec(name: "id", type: .int), FieldSpec(name: "amo\"unt", type: .float),
                      FieldSpec(name: "flag", type: .bool)]
        let result = try Self.csv("true,zzz,1.5,7,x\n0,,2,8,y\n", header: header, fields: fields)
        #expect(result.rejects.isEmpty)
        #expect(result.ints(0) == [7, 8] && result.doubles(1) == [1.5, 2] && result.bools(2) == [true, false])
    }

    @Test func fieldsAbsentFromTheHeaderAreMissingInEveryRecord() throws {
        let optional = try Self.csv("1,2\n", header: "id,amount", fields: Self.fields)
        #expect(optional.rows == 1 && optional.missing(2) == [true] && optional.missing(3) == [true])
        let required = try Self.csv("1\n2\n", header: "amount",
                                    fields: [FieldSpec(name: "amount", type: .float), FieldSpec(name: "id", type: .int)])
        #expect(required.kind == .errors && required.rejects.count == 2)
        #expect(required.rejects.allSatisfy {
            $0.code == .missingField && $0.field == "id" && $0.message == "required field 'id' is not a column of the CSV header"
        })
    }

    @Test func duplicateHeaderNamesTheLaterColumnWins() throws {
        let result = try Self.csv("1,2,3\n", header: "id,amount,id")
        #expect(result.ints(0) == [3] && result.doubles(1) == [2])
    }

    @Test func aBadHeaderRejectsEveryRecordWithItsReason() throws {
        let result = try Self.csv("1,2\n3,4\n", header: "id,\"amount")
        #expect(result.kind == .errors && result.rejects.count == 2)
        #expect(result.rejects[0].code == .csvSyntax && result.rejects[1].line == 3)
        #expect(result.rejects[0].message
            == "the CSV header line is not valid CSV: at byte 4: unterminated quoted field (this quote is never closed)")
    }

    @Test func aStrayQuoteDoesNotSwallowTheNextLine() throws {
        let result = try Self.csv("1,2,a\"b,1\n2,3,c,0\n")
        #expect(result.recordCount == 2 && result.rows == 1 && result.ints(0) == [2])
        #expect(result.reject?.code == .csvSyntax && result.reject?.line == 2)
    }

    @Test func anUnterminatedQuoteRunsToTheEndOfTheChunk() throws {
        let body = "1,2,ok,1\n2,3,\"never closed,0\n3,4,c,1\n"
        let result = try Self.csv(body, firstLine: 2, byteOffset: 100)
        #expect(result.recordCount == 2 && result.rows == 1)
        let r = try #require(result.reject)
        #expect(r.code == .csvSyntax && r.line == 3 && r.byteOffset == 109)
        #expect(r.message == "at byte 5 of the line: unterminated quoted field (this quote is never closed)")
        #expect(r.input == Array("2,3,\"never closed,0\n3,4,c,1".utf8))
    }

    @Test func invalidUTF8AnywhereInAMultiLineRecord() throws {
        var body = Array("1,2,\"a\nb".utf8)
        body += [0xC3, 0x28]
        body += Array("\",1\n2,3,d,0\n".utf8)
        var processor = try IngestProcessor(config: makeConfig(Self.fields, format: .csv))
        let result = try ingest(&processor, body: body, header: Array(Self.header.utf8), format: .csv, firstLine: 2)
        #expect(result.rows == 1 && result.reject?.code == .invalidUTF8 && result.reject?.line == 2)
        #expect(result.reject?.message == "at byte 2 of line 3: invalid UTF-8 (byte 0xC3); the input must be UTF-8")
    }
}
