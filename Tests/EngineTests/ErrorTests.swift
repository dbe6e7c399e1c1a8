import Foundation
import Testing
@testable import Engine

@Suite struct ErrorTests {
    private func loadError(_ file: String) throws -> ModelError? {
        let path = try Fixture.path(file)
        let bytes = try Fixture.bytes(file)
        return #expect(throws: ModelError.self) { try bytes.withUnsafeBytes { try OnnxModel.load(bytes: $0, name: path) } }
    }

    @Test func unsupportedOpNamesOpNodeAndSupportedList() throws {
        let error = try loadError("unsupported_op.onnx")
        #expect(error?.kind == .unsupported)
        #expect(error?.opType == "Conv")
        #expect(error?.node == "/conv1/Conv")
        let text = error?.description ?? ""
        #expect(text.contains("unsupported_op.onnx"))
        #expect(text.contains("node '/conv1/Conv' (Conv)"))
        #expect(text.contains("supported operators: Add, ArgMax"))
        #expect(text.contains("ai.onnx.ml: ArrayFeatureExtractor, Imputer, LinearClassifier"))
    }

    /// The fixture is a real model cut short, its last bytes made into a length that overruns the
    /// file: a truncated file, said so with where it ends (NotAModelTests has damage inside a graph).
    @Test func malformedFileThrows() throws {
        let error = try loadError("malformed.onnx")
        #expect(error?.kind == .notAModel)
        #expect(error?.offset != nil)
        #expect(error?.description.contains("malformed.onnx is not an ONNX model (it ends at byte 700, in the middle of its graph") == true,
                "\(error?.description ?? "")")
    }

    @Test func undefinedInputAndCycle() throws {
        let undefined = try loadError("undefined_input.onnx")
        #expect(undefined?.kind == .invalidGraph)
        #expect(undefined?.description.contains("'ghost'") == true)
        #expect(undefined?.node == "add_ghost")
        let cycle = try loadError("cycle.onnx")
        #expect(cycle?.kind == .invalidGraph)
        #expect(cycle?.description.contains("cycle") == true)
    }

    @Test func externalDataIsAClearError() throws {
        let error = try loadError("external_data.onnx")
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("tensor 'w'") == true)
        #expect(error?.description.contains("external") == true)
    }

    @Test func emptyAndGarbageBytes() {
        for bytes in [[], [0x08], Array("not a model at all".utf8)] as [[UInt8]] {
            let error = #expect(throws: ModelError.self) {
                try bytes.withUnsafeBytes { try OnnxModel.load(bytes: $0, name: "junk") }
            }
            #expect(error?.kind == .notAModel)
            #expect(error?.description.hasPrefix("junk is not an ONNX model (") == true, "\(error?.description ?? "")")
        }
    }

    @Test func unknownInputOrOutputName() throws {
        let model = try Fixture.model("mlp_gemm")
        let input = #expect(throws: ModelError.self) { try InferenceSession(model: model, input: "features") }
        #expect(input?.kind == .invalidArgument)
        #expect(input?.description.contains("no input named 'features'; inputs: input") == true)
        let output = #expect(throws: ModelError.self) { try InferenceSession(model: model, output: "scores") }
        #expect(output?.description.contains("no tensor named 'scores'; outputs: output") == true)
        #expect(throws: ModelError.self) { try InferenceSession(model: model, maxBatch: 0) }
    }

    @Test func zipMapOutputPointsToTheProbabilityTensor() throws {
        let model = try Fixture.model("lr_multi_zipmap")
        let error = #expect(throws: ModelError.self) { try InferenceSession(model: model, output: "output_probability") }
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("ZipMap") == true)
        #expect(error?.description.contains("select its input 'probabilities'") == true)
        let session = try InferenceSession(model: model)
        #expect(session.outputName == "probabilities")
        #expect(session.outputWidth == 3)
    }

    /// String class labels load (the probabilities are computable) but cannot be selected.
    @Test(arguments: [("lr_strings", "output_label"), ("mlp_strings", "label")])
    func stringLabelOutputsAreRefused(fixture: String, output: String) throws {
        let model = try Fixture.model(fixture)
        let error = #expect(throws: ModelError.self) { try InferenceSession(model: model, output: output) }
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("string class labels") == true)
    }

    @Test func constantOutputIsRefused() throws {
        let model = try Fixture.model("shape_ops")
        let error = #expect(throws: ModelError.self) { try InferenceSession(model: model, output: "shape_i") }
        #expect(error?.description.contains("constant") == true)
    }

    @Test func descriptionFormat() {
        let error = ModelError(.unsupported, "transA=1 is not supported", node: "fc", opType: "Gemm", file: "m.onnx")
        #expect(error.description == "m.onnx: node 'fc' (Gemm): transA=1 is not supported")
        let malformed = ModelError(.malformed, "truncated varint", offset: 12)
        #expect(malformed.description == "truncated varint (at byte 12)")
        let foreign = ModelError(.notAModel, "the file is empty", file: "m.onnx")
        #expect(foreign.description == "m.onnx is not an ONNX model (the file is empty)")
        #expect(foreign.detail == "not an ONNX model (the file is empty)")
        #expect(error.detail == "node 'fc' (Gemm): transA=1 is not supported")
    }
}
