import Testing
@testable import Engine

/// Every fixture output against onnxruntime's, through a session that selects that output.
@Suite struct OperatorTests {
    static let fixtures = [
        "mlp_gemm", "mlp_matmul", "mlp_act", "axes13", "softmax11", "shape_ops", "ml_ops",
        "lr_binary", "lr_multi", "lr_multi_zipmap", "linreg", "mlp_sklearn", "mlp_sklearn_binary",
        "lr_strings", "mlp_strings",
    ]
    static let tolerance: Float = 1e-5

    @Test(arguments: fixtures)
    func matchesOnnxRuntime(fixture: String) throws {
        let model = try Fixture.model(fixture)
        let tensors = try Fixture.tensors(fixture)
        let input = tensors[0]
        var report: [String] = []
        for expected in tensors.dropFirst() {
            var session = try InferenceSession(model: model, output: expected.name, maxBatch: 128)
            #expect(session.inputWidth == input.width)
            #expect(session.outputWidth == expected.width, "\(fixture)/\(expected.name)")
            let got = try Fixture.run(&session, input, rows: input.rows)
            let diff = Fixture.maxAbsDiff(got[...], expected.values[...])
            #expect(diff <= Self.tolerance, "\(fixture)/\(expected.name): max |diff| \(diff)")
            report.append("\(expected.name) \(diff)")
        }
        print("max |diff| \(fixture): " + report.joined(separator: ", "))
    }

    /// Without an output name, a session reads the first float output (the probabilities).
    @Test(arguments: [
        ("mlp_gemm", "output"), ("mlp_matmul", "output"), ("lr_binary", "probabilities"),
        ("lr_multi_zipmap", "probabilities"), ("mlp_sklearn", "probabilities"), ("linreg", "variable"),
        ("lr_strings", "probabilities"), ("mlp_strings", "probabilities"),
    ])
    func defaultOutputIsTheFirstFloatTensor(fixture: String, output: String) throws {
        let session = try InferenceSession(model: try Fixture.model(fixture))
        #expect(session.outputName == output)
    }

    @Test func fusedLinearLayersLeaveFewSteps() throws {
        // MatMul + Add + Relu + MatMul + Add + Softmax: two fused GEMMs and the softmax.
        let session = try InferenceSession(model: try Fixture.model("mlp_matmul"))
        #expect(session.plan.steps.count == 3)
        guard case .linear(let first) = session.plan.steps[0].kind else {
            Issue.record("first step is not linear")
            return
        }
        #expect(first.activation == .relu)
        #expect(first.bias != nil)
        // The softmax runs in place in the caller's output buffer.
        #expect(session.plan.steps[2].isInPlace)
        #expect(session.plan.steps[2].output == Step.outputSlot)
    }

    @Test func constantSubgraphsAreFolded() throws {
        let model = try Fixture.model("shape_ops")
        // Cast of the constant shape and the Concat of constants leave no steps behind.
        let session = try InferenceSession(model: model, output: "gemm_out")
        #expect(!session.plan.steps.contains { $0.opType == "Concat" || $0.opType == "Cast" })
    }
}
