import Config
import Messages
import Testing

/// The reference profile: read, checked against the schema, written back the same.
@Suite struct DriftProfileTests {
    static let schema = InputSpec(fields: [FieldSpec(name: "amount", type: .float), FieldSpec(name: "country", type: .string),
                                           FieldSpec(name: "new", type: .bool), FieldSpec(name: "text", type: .string)])

    static let text = """
        {"profile": "pipeline drift reference", "version": 1, "records": 10,
         "fields": [
          {"name": "amount", "type": "float", "kind": "numeric", "edges": [1.5, 1e-05], "counts": [1, 2, 3], "missing": 4},
          {"name": "country", "type": "string", "kind": "categorical", "values": ["US", "\\u00e9\\ud83d\\ude00"], "counts": [5, 3], "other": 2},
          {"name": "new", "type": "bool", "kind": "categorical", "values": ["false", "true"], "counts": [4, 6], "other": 0, "missing": 0},
          {"name": "text", "type": "string", "kind": "text_length", "edges": [3], "counts": [9, 1]}
         ],
         "predictions": [{"name": "score", "kind": "numeric", "edges": [0.5], "counts": [4, 6]},
                         {"name": "label", "kind": "categorical", "values": ["0", "1"], "counts": [7, 3], "other": 0}]}
        """

    func parse(_ text: String) throws(DriftProfile.Problem) -> DriftProfile {
        try DriftProfile.parse(Array(text.utf8), file: "/r.json", schema: Self.schema)
    }

    func problem(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no problem"
        } catch {
            return error.message
        }
    }

    @Test func readsEveryKind() throws {
        // Edges must increase: 1e-05 after 1.5 is refused; fixed, the profile reads.
        #expect(problem(Self.text) == "/r.json: fields[0].edges[1]: must be above the edge before it (1.5)")
        let p = try parse(Self.text.replacingOccurrences("[1.5, 1e-05]", with: "[1e-05, 1.5]"))
        #expect(p.records == 10 && p.fields.count == 4)
        #expect(p.fields[0].bins.edges == [1e-05, 1.5] && p.fields[0].counts == [1, 2, 3, 4])
        #expect(p.fields[1].bins.values == ["US", "é😀"] && p.fields[1].counts == [5, 3, 2, 0])
        #expect(p.fields[3].bins.kind == .textLength && p.fields[3].counts == [9, 1, 0])
        #expect(p.predictions.map(\.bins.name) == ["label", "score"], "label first, then score")
        // Written and read again: the same profile.
        #expect(try parse(p.json()) == p)
        // Slots: 2 edges → 3 bins + missing; 2 values + other + missing (twice); 1 edge → 2 + missing;
        // the label 2 + 2; the score 2 + 1.
        #expect(p.plan.slotCount == 4 + 4 + 4 + 3 + 4 + 3)
    }

    @Test func problemsAreNamed() {
        let fixed = Self.text.replacingOccurrences("[1.5, 1e-05]", with: "[1e-05, 1.5]")
        #expect(problem("[1, 2]") == "/r.json: the document: must be an object, found an array")
        #expect(problem("{\"profile\": 1") == "/r.json:1:14: unexpected end of the document in an object: not a JSON profile")
        #expect(problem(fixed.replacingOccurrences("\"amount\", \"type\"", with: "\"amont\", \"type\"")).hasPrefix(
            "/r.json: fields[0]: \"amont\" is not an input field; did you mean"))
        #expect(problem(fixed.replacingOccurrences("\"float\", \"kind\"", with: "\"int\", \"kind\""))
            == "/r.json: fields[0].type: \"amount\" is float in the config, int here")
        #expect(problem(fixed.replacingOccurrences("\"counts\": [1, 2, 3]", with: "\"counts\": [1, 2]"))
            == "/r.json: fields[0].counts: has 2 counts where 2 edges make 3 bins")
        #expect(problem(fixed.replacingOccurrences("\"counts\": [5, 3]", with: "\"counts\": [5, 4]"))
            == "/r.json: fields[1].counts: add up to 11 records (with other and missing), not the profile's 10")
        #expect(problem(fixed.replacingOccurrences("\"kind\": \"text_length\"", with: "\"kind\": \"numeric\""))
            == "/r.json: fields[3].kind: a string field is profiled as \"categorical\" or \"text_length\", not \"numeric\"")
        #expect(problem(fixed.replacingOccurrences("\"version\": 1", with: "\"version\": 2")) == "/r.json: version: must be 1")
        #expect(problem(fixed.replacingOccurrences("\"other\": 2}", with: "\"other\": 2, \"bins\": 3}"))
            == "/r.json: fields[1].bins: unknown key for a categorical field (it has name, kind, type, counts, missing, values, other)")
    }

    @Test func jsonReaderFollowsTheGrammar() throws {
        #expect(try JSONDocument.parse(Array(" {\"a\": [1, -2.5e3, true, null, \"x\\n\"]} ".utf8))
                == .object([("a", .array([.number(1), .number(-2500), .bool(true), .null, .string("x\n")]))]))
        for bad in ["", "01", "1.", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "[1] 2", "nul", "\"a\u{1}\"", "1e400"] {
            #expect(throws: JSONDocument.SyntaxError.self, "\(bad)") { try JSONDocument.parse(Array(bad.utf8)) }
        }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONDocument.SyntaxError.self) { try JSONDocument.parse(Array(deep.utf8)) }
    }
}
