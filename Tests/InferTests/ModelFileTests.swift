import Engine
import Testing
@testable import InferStage

/// Loading a model from its file: what the stage and `pipeline check` do.
@Suite struct ModelFileTests {
    @Test func missingFile() {
        let error = #expect(throws: ModelError.self) { try OnnxModel.load(path: "/nonexistent/model.onnx") }
        #expect(error?.kind == .io)
        #expect(error?.description == "/nonexistent/model.onnx: cannot open the model file: No such file or directory")
    }
}
