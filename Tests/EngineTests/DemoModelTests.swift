import Foundation
import Testing
@testable import Engine

/// models/demo.onnx, the default pipeline's model: the contract the pipeline config relies on.
@Suite struct DemoModelTests {
    static var demoPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/demo.onnx").path
    }

    @Test func demoModelShape() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.demoPath))
        let model = try bytes.withUnsafeBytes { try OnnxModel.load(bytes: $0, name: Self.demoPath) }
        #expect(model.inputs.map(\.name) == ["features"])
        #expect(model.inputs[0].shape == [nil, 7])
        #expect(model.outputs.map(\.name) == ["probabilities", "label"])
        var session = try InferenceSession(model: model)
        #expect(session.inputWidth == 7)
        #expect(session.outputWidth == 2)
        #expect(session.outputName == "probabilities")
        // A large night-time amount from a new customer in FR scores as more likely fraud
        // than a small daytime one from an existing customer in the US.
        let risky: [Float] = [(400 - 52) / 30, (2 - 11.5) / 6.9, 0, 0, 1, 0, 1]
        let calm: [Float] = [(20 - 52) / 30, (14 - 11.5) / 6.9, 1, 0, 0, 0, 0]
        var out = [Float](repeating: 0, count: 4)
        try session.run(rows: 2, input: risky + calm, output: &out)
        #expect(abs(out[0] + out[1] - 1) < 1e-5)
        #expect(abs(out[2] + out[3] - 1) < 1e-5)
        #expect(out[1] > out[3])
    }
}
