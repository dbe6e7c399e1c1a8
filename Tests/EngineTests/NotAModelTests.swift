import EngineTestSupport
import Testing
@testable import Engine

/// A file that is not an ONNX model is said to be one, with what it looks like; a model damaged
/// inside keeps the decoder's precise message and offset.
@Suite struct NotAModelTests {
    private func loadError(_ bytes: [UInt8]) -> ModelError? {
        #expect(throws: ModelError.self) { try bytes.withUnsafeBytes { try OnnxModel.load(bytes: $0, name: "/m/model.onnx") } }
    }

    /// A real model's first 300 bytes: cut inside its graph.
    private func truncatedModel() throws -> [UInt8] { Array(try Fixture.bytes("mlp_gemm.onnx").prefix(300)) }

    @Test(arguments: [
        ([], "the file is empty"),
        (Array("hello, these are my notes\nsecond line".utf8), #"it starts with text: "hello, these are my notes""#),
        (Array("\n\n  {\"id\": 1, \"amount\": \"12\\u00e9\"}\n".utf8), #"it starts with text: "  {\"id\": 1, \"amount\": \"12\\u00e9\"}""#),
        (Array(String(repeating: "é", count: 300).utf8), "it starts with text: \"" + String(repeating: "é", count: 40) + "…\""),
        ([0x80, 0x04, 0x95, 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8C, 0x08], "it is a Python pickle, as joblib.dump and pickle.dump write: export the model to ONNX, e.g. with tools/export_sklearn.py"),
        ([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], "it is a zip archive, as torch.save writes: export the model to ONNX, e.g. with torch.onnx.export"),
        ([0x1F, 0x8B, 0x08, 0x00], "it is gzip-compressed: decompress it first"),
        ([0x0E, 0x00], "its protobuf encoding breaks at byte 1: invalid wire type 6"),
        ([0x0A, 0x01, 0x41], "its protobuf encoding breaks at byte 1: field 1 (ir_version) has wire type 2, where ONNX has 0"),
        ([0x08, 0x08], "it has no graph"),
        (Array(": a line of text that opens like a graph field".utf8), #"it starts with text: ": a line of text that opens like a graph…""#),
    ] as [([UInt8], String)])
    func foreignBytesAreNotAModel(bytes: [UInt8], detail: String) {
        let error = loadError(bytes)
        #expect(error?.kind == .notAModel)
        #expect(error?.description == "/m/model.onnx is not an ONNX model (\(detail))")
    }

    @Test func aCutModelIsATruncatedFile() throws {
        let error = loadError(try truncatedModel())
        #expect(error?.kind == .notAModel)
        let text = error?.description ?? ""
        #expect(text.hasPrefix("/m/model.onnx is not an ONNX model (it ends at byte 300, in the middle of its graph, which needs "),
                "\(text)")
        #expect(text.hasSuffix(": a truncated file?)"), "\(text)")
    }

    /// Damage inside the graph of a model whose top level is sound is reported precisely.
    @Test func corruptionInsideTheGraphKeepsItsOffset() {
        var w = ProtoWriter()
        w.int(1, 8)
        w.message(7) { g in g.data(1, [0x0A, 0x7F]) }   // a node whose first input claims 127 bytes
        let error = loadError(w.bytes)
        #expect(error?.kind == .malformed)
        #expect(error?.offset == 7)
        #expect(error?.description == "/m/model.onnx: length 127 exceeds the 0 bytes left (at byte 7)")
        #expect(error?.detail == "length 127 exceeds the 0 bytes left (at byte 7)")
    }

    /// Unknown top-level fields are skipped (newer ONNX versions add some); known ones must
    /// have ONNX's wire types.
    @Test func unknownTopLevelFieldsAreSkipped() throws {
        var bytes = ModelBuilder.model(nodes: [Node(op: "Relu", inputs: ["x"], outputs: ["y"])], inputs: [("x", ["N", 3])], outputs: ["y"])
        var extra = ProtoWriter()
        extra.string(99, "from the future")
        extra.int(98, 7)
        bytes += extra.bytes
        let model = try ModelBuilder.load(bytes)
        #expect(model.inputs.map(\.name) == ["x"])
    }

    @Test func leadingTextIsTheFirstNonBlankLine() {
        #expect(ForeignContent.leadingText(Array("a\tb\r\nc".utf8)) == "a b")
        #expect(ForeignContent.leadingText(Array("a\u{1}b".utf8)) == nil, "control characters: binary")
        #expect(ForeignContent.leadingText(Array(" \n\t\n".utf8)) == nil)
        #expect(ForeignContent.leadingText([0xC3]) == nil)
        // A character cut by the end of the 256-byte window is still text.
        #expect(ForeignContent.leadingText(Array(("x" + String(repeating: "é", count: 200)).utf8).prefix(256).map { $0 }) != nil)
    }
}
