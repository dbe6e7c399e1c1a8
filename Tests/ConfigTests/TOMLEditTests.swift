import Config
import Testing

/// Edits that change one value of a config and keep every other byte as written.
@Suite struct TOMLEditTests {
    static let file = "/cfg/pipeline.toml"

    /// The value at `model.path` after the edit, as the parser reads it.
    static func modelPath(_ text: String) throws -> String? {
        try TOMLParser.parse(text, file: file)["model"]?.table?["path"]?.string
    }

    @Test(arguments: [
        // Every way TOML can write the key, and every string form.
        ("[model]\npath = \"../models/a.onnx\"   # comment\n", "[model]\npath = \"/models/a.onnx\"   # comment\n"),
        ("[model]\npath = '../models/a.onnx'\n", "[model]\npath = \"/models/a.onnx\"\n"),
        ("[model]\npath = \"\"\"\n../models/a.onnx\"\"\"\nversion = \"v\"\n", "[model]\npath = \"/models/a.onnx\"\nversion = \"v\"\n"),
        ("[model]\npath = '''../a\n.onnx'''\n", "[model]\npath = \"/models/a.onnx\"\n"),
        ("model.path = \"x\\\"y.onnx\"\n", "model.path = \"/models/a.onnx\"\n"),
        ("model = { path = \"a.onnx\", precision = \"int8\" }\n", "model = { path = \"/models/a.onnx\", precision = \"int8\" }\n"),
        ("\u{FEFF}[model]\r\npath = \"é/ü.onnx\" # ü\r\n", "\u{FEFF}[model]\r\npath = \"/models/a.onnx\" # ü\r\n"),
    ])
    func replacesTheStringWhereverItIsWritten(_ before: String, _ after: String) throws {
        let edited = try TOMLEdit.replacingString(at: ["model", "path"], in: before, file: Self.file, with: "/models/a.onnx")
        #expect(edited == after)
        #expect(try Self.modelPath(edited) == "/models/a.onnx")
    }

    @Test func theNewValueIsEscaped() throws {
        let value = "/m/\"quoted\" \\ tab\there\u{7}.onnx"
        let edited = try TOMLEdit.replacingString(at: ["model", "path"], in: "[model]\npath = \"a\"\n", file: Self.file, with: value)
        #expect(try Self.modelPath(edited) == value)
        #expect(TOMLEdit.basicString("a\"b\\c\u{1F}") == "\"a\\\"b\\\\c\\u001F\"")
    }

    @Test func aMissingKeyOrANonStringIsAnError() {
        #expect(throws: ConfigError.self) {
            try TOMLEdit.replacingString(at: ["model", "path"], in: "[model]\ninput = \"x\"\n", file: Self.file, with: "/a")
        }
        #expect(throws: ConfigError.self) {
            try TOMLEdit.replacingString(at: ["model", "path"], in: "[model]\npath = 3\n", file: Self.file, with: "/a")
        }
        #expect(throws: ConfigError.self) {
            try TOMLEdit.replacingString(at: ["model", "path"], in: "[model\npath = \"a\"\n", file: Self.file, with: "/a")
        }
    }

    @Test func aKeyGoesOnTheLineAfterItsTablesHeader() throws {
        let text = "[autoscale]   # sized by the pod\ntarget = 0.6\n\n[stage.infer]\nmax_replicas = 4\n"
        let edited = try TOMLEdit.addingKey("cores", literal: "2", toTable: "autoscale", in: text, file: Self.file)
        #expect(edited == "[autoscale]   # sized by the pod\ncores = 2\ntarget = 0.6\n\n[stage.infer]\nmax_replicas = 4\n")
        // A header on the last line, without its newline.
        #expect(try TOMLEdit.addingKey("cores", literal: "1.5", toTable: "autoscale", in: "a = 1\n[autoscale]", file: Self.file)
                == "a = 1\n[autoscale]\ncores = 1.5\n")
    }

    @Test func aMissingTableIsAddedAtTheEnd() throws {
        #expect(try TOMLEdit.addingKey("cores", literal: "2", toTable: "autoscale", in: "a = 1", file: Self.file)
                == "a = 1\n\n[autoscale]\ncores = 2\n")
        #expect(try TOMLEdit.addingKey("cores", literal: "2", toTable: "autoscale", in: "[x]\na = 1\n", file: Self.file)
                == "[x]\na = 1\n\n[autoscale]\ncores = 2\n")
    }

    @Test func tablesWithoutAHeaderOrWithTheKeyAreLeftAlone() throws {
        for text in ["autoscale = { target = 0.6 }\n", "autoscale.target = 0.6\n", "[autoscale]\ncores = 4\n"] {
            #expect(try TOMLEdit.addingKey("cores", literal: "2", toTable: "autoscale", in: text, file: Self.file) == nil, "\(text)")
        }
    }
}
