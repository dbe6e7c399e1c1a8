@testable import ClusterExport
import Testing

/// The YAML writer: block style, strings quoted whenever a YAML 1.1 reader (Kubernetes' among
/// them) could take them for something else, literal blocks that keep text exactly.
@Suite struct YAMLTests {
    @Test func mappingsAndSequencesNest() {
        let doc = YAML.map([
            ("a", .string("x")),
            ("b", .map([("c", .int(1)), ("d", .bool(true))])),
            ("e", .list([.map([("f", .string("g")), ("h", .list([.int(2), .int(3)]))]), .string("i"), .list([.int(4)])])),
            ("empty", .map([])),
            ("none", .list([])),
        ])
        #expect(doc.text == """
            a: x
            b:
              c: 1
              d: true
            e:
              - f: g
                h:
                  - 2
                  - 3
              - i
              -
                - 4
            empty: {}
            none: []

            """)
    }

    @Test(arguments: [
        "true", "False", "yes", "NO", "on", "Off", "y", "N", "null", "~", "",
        "9464", "0.1.0", "1:20", "-f", "--metrics", "0.0.0.0:9464", ".inf", "a: b", "a #b", "a b", "key:",
        "{x}", "[x]", "*x", "&x", "!x", "%x", "@x", "`x", "'x'", "\"x\"", "x,y", "x?", "$(JOB_COMPLETION_INDEX)/4",
    ])
    func stringsAReaderCouldMistakeAreQuoted(_ s: String) {
        #expect(YAMLWriter.scalar(s).hasPrefix("\""), "\(s) → \(YAMLWriter.scalar(s))")
    }

    @Test(arguments: ["pipeline", "pipeline:0.1.0", "/healthz", "app.kubernetes.io/name", "RuntimeDefault", "demo-config",
                      "None", "a_b", "_x", "/data/parts/part-3.jsonl"])
    func plainStringsStayPlain(_ s: String) {
        #expect(YAMLWriter.scalar(s) == s)
    }

    @Test func quotingEscapesWhatMustBe() {
        #expect(YAMLWriter.quoted("a\"b\\c\nd\te") == "\"a\\\"b\\\\c\\nd\\te\"")
        #expect(YAMLWriter.quoted("\u{1}\u{7F}\u{85}\u{2028}\u{2029}\u{FEFF}") == "\"\\u0001\\u007F\\u0085\\u2028\\u2029\\uFEFF\"")
        #expect(YAMLWriter.quoted("é ü €") == "\"é ü €\"")
    }

    @Test func multiLineTextIsALiteralBlockThatKeepsItsNewlines() {
        #expect(YAML.map([("t", .string("a\n  b\n"))]).text == "t: |\n  a\n    b\n")
        #expect(YAML.map([("t", .string("a\nb"))]).text == "t: |-\n  a\n  b\n")
        #expect(YAML.map([("t", .string("a\n\nb\n\n"))]).text == "t: |+\n  a\n\n  b\n\n")
        // A first line that starts with spaces needs the indentation said.
        #expect(YAML.map([("t", .string("  a\nb\n"))]).text == "t: |2\n    a\n  b\n")
        #expect(YAML.map([("t", .string("\n a\n"))]).text == "t: |2\n\n   a\n")
        // In a sequence, under its dash.
        #expect(YAML.list([.string("x\ny\n")]).text == "- |\n  x\n  y\n")
        #expect(YAML.map([("l", .list([.string("x\ny\n")]))]).text == "l:\n  - |\n    x\n    y\n")
    }

    @Test func textThatABlockCannotHoldIsQuoted() {
        #expect(YAML.map([("t", .string("a\r\nb\n"))]).text == "t: \"a\\u000D\\nb\\n\"\n")
        #expect(YAML.map([("t", .string("a\u{2028}b\n"))]).text == "t: \"a\\u2028b\\n\"\n")
    }

    @Test func streamsSeparateDocuments() {
        #expect(YAML.stream([.map([("a", .int(1))]), .map([("b", .int(2))])]) == "---\na: 1\n---\nb: 2\n")
    }
}
