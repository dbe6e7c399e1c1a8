import AggregateStage
import Config
import Messages
import Testing
import TestSupport

/// Passthrough fields of every type, missing values and text that needs escaping.
@Suite struct PassthroughTests {
    let fields = [FieldSpec(name: "i", type: .int, required: false), FieldSpec(name: "f", type: .float, required: false),
                  FieldSpec(name: "s", type: .string, required: false), FieldSpec(name: "b", type: .bool, required: false)]
    let names = ["s", "i", "f", "b"]

    func columns() -> [Column] {
        [
            stringColumn(["plain", "q\"uo\\te", "ctl\u{1}\u{1F}\n\t\r", "Zürich 日本 🎉", "a,b", "", "x"],
                         missing: [false, false, false, false, false, false, true]),
            Column(.int([Int64.min, Int64.max, 0, -1, 42, 7, 0]), missing: [false, false, false, false, false, false, true]),
            Column(.float([52.3, 1e-300, -0.0, 1e16, .nan, .infinity, .nan]),
                   missing: [false, false, false, false, false, false, true]),
            Column(.bool([true, false, true, false, true, false, false]),
                   missing: [false, false, false, false, false, false, true]),
        ]
    }

    @Test func jsonValues() throws {
        var p = try AggregateProcessor(config: makeConfig(fields: fields, passthrough: names, outputFields: [.prediction]))
        let out = try aggregate(&p, Array(repeating: 1, count: 7), rows: 7, cols: 1, passthrough: columns())
        #expect(out.lines == [
            #"{"s":"plain","i":-9223372036854775808,"f":52.3,"b":true,"prediction":1.0}"#,
            #"{"s":"q\"uo\\te","i":9223372036854775807,"f":1e-300,"b":false,"prediction":1.0}"#,
            #"{"s":"ctl\u0001\u001f\u000a\u0009\u000d","i":0,"f":-0.0,"b":true,"prediction":1.0}"#,
            #"{"s":"Zürich 日本 🎉","i":-1,"f":1e+16,"b":false,"prediction":1.0}"#,
            #"{"s":"a,b","i":42,"f":null,"b":true,"prediction":1.0}"#,
            #"{"s":"","i":7,"f":null,"b":false,"prediction":1.0}"#,
            #"{"s":null,"i":null,"f":null,"b":null,"prediction":1.0}"#,
        ])
    }

    @Test func csvValues() throws {
        var p = try AggregateProcessor(config: makeConfig(fields: fields, format: .csv, passthrough: names,
                                                          outputFields: [.prediction]))
        let out = try aggregate(&p, Array(repeating: 1, count: 7), rows: 7, cols: 1, passthrough: columns())
        #expect(out.text == """
            plain,-9223372036854775808,52.3,true,1.0
            "q""uo\\te",9223372036854775807,1e-300,false,1.0
            "ctl\u{1}\u{1F}\n\t\r",0,-0.0,true,1.0
            Zürich 日本 🎉,-1,1e+16,false,1.0
            "a,b",42,,true,1.0
            ,7,,false,1.0
            ,,,,1.0

            """)
    }

    /// Keys are JSON-escaped too.
    @Test func jsonKeysAreEscaped() throws {
        let config = makeConfig(fields: [FieldSpec(name: "we\"ird", type: .int)], passthrough: ["we\"ird"],
                                outputFields: [.label])
        var p = try AggregateProcessor(config: config)
        #expect(try aggregate(&p, [1], rows: 1, cols: 1, passthrough: [Column(.int([3]))]).lines
                == [#"{"we\"ird":3,"label":0}"#])
    }

    /// Every JSON line parses with a strict parser and gives back the strings (Foundation's, here).
    @Test func jsonLinesParseBack() throws {
        var p = try AggregateProcessor(config: makeConfig(fields: fields, passthrough: names, outputFields: [.probabilities]))
        let out = try aggregate(&p, Array(repeating: 0.5, count: 14), rows: 7, cols: 2, passthrough: columns())
        guard case .string(let offsets, let bytes) = columns()[0].values else { return }
        for (r, line) in out.lines.enumerated() {
            let object = try JSONLine.parse(line)
            if r < 6 {
                let sent = String(decoding: bytes[Int(offsets[r])..<Int(offsets[r + 1])], as: UTF8.self)
                #expect(object["s"] as? String == sent, "row \(r)")
            }
        }
    }

    /// Passthrough columns that do not match `[output] passthrough` are malformed input.
    @Test func mismatchedColumnsAreFrameErrors() throws {
        var p = try AggregateProcessor(config: makeConfig(fields: fields, passthrough: ["i"], outputFields: [.label]))
        #expect(throws: FrameError.self) { try aggregate(&p, [1], rows: 1, cols: 1) }
        #expect(throws: FrameError.self) {
            try aggregate(&p, [1], rows: 1, cols: 1, passthrough: [Column(.float([1]))])
        }
    }
}
