import Testing
@testable import Engine
import EngineTestSupport

/// Load- and plan-time errors for forms of supported ops the engine does not implement, and
/// for inconsistent graphs, on small models built in the test.
@Suite struct GraphErrorTests {
    static let w = Tensor(name: "w", dims: [3, 2], floats: [1, 2, 3, 4, 5, 6])

    private func loadError(_ nodes: [Node], inputs: [(String, [Any])] = [("x", ["N", 3])], outputs: [String] = ["y"],
                           initializers: [Tensor] = [w], opsets: [(String, Int64)] = [("", 13), ("ai.onnx.ml", 1)],
                           inputType: Int64 = 1) -> ModelError? {
        let bytes = ModelBuilder.model(nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers,
                                       opsets: opsets, inputType: inputType)
        return #expect(throws: ModelError.self) { try ModelBuilder.load(bytes) }
    }

    private func expectUnsupported(_ error: ModelError?, node: String, op: String, _ text: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.kind == .unsupported, sourceLocation: sourceLocation)
        #expect(error?.node == node, sourceLocation: sourceLocation)
        #expect(error?.opType == op, sourceLocation: sourceLocation)
        #expect(error?.description.contains(text) == true, "\(error?.description ?? "no error")", sourceLocation: sourceLocation)
        #expect(error?.description.hasPrefix("test.onnx: node '\(node)' (\(op)): ") == true, sourceLocation: sourceLocation)
    }

    @Test func gemmForms() {
        let transA = loadError([Node(op: "Gemm", inputs: ["x", "w"], outputs: ["y"], name: "g", attributes: [.int("transA", 1)])])
        expectUnsupported(transA, node: "g", op: "Gemm", "transA=1 is not supported")
        let weights = loadError([Node(op: "Gemm", inputs: ["x", "x"], outputs: ["y"], name: "g")])
        expectUnsupported(weights, node: "g", op: "Gemm", "must be a constant")
        let bias = loadError([Node(op: "Gemm", inputs: ["x", "w", "c"], outputs: ["y"], name: "g")],
                             initializers: [Self.w, Tensor(name: "c", dims: [2, 2], floats: [1, 2, 3, 4])])
        expectUnsupported(bias, node: "g", op: "Gemm", "must be a scalar, [2] or [1, 2]")
        let shape = loadError([Node(op: "Gemm", inputs: ["x", "w"], outputs: ["y"], name: "g", attributes: [.int("transB", 1)])])
        #expect(shape?.kind == .invalidGraph)
    }

    @Test func matMulOfTwoActivations() {
        let error = loadError([Node(op: "MatMul", inputs: ["x", "x"], outputs: ["y"], name: "mm")])
        expectUnsupported(error, node: "mm", op: "MatMul", "MatMul of two activations")
    }

    @Test func axesOverTheBatch() {
        expectUnsupported(loadError([Node(op: "Softmax", inputs: ["x"], outputs: ["y"], name: "s", attributes: [.int("axis", 0)])]),
                          node: "s", op: "Softmax", "axis 0 (the batch)")
        expectUnsupported(loadError([Node(op: "ArgMax", inputs: ["x"], outputs: ["y"], name: "a")]),
                          node: "a", op: "ArgMax", "axis 0 (the batch)")
        expectUnsupported(loadError([Node(op: "Softmax", inputs: ["x"], outputs: ["y"], name: "s", attributes: [.int("axis", 1)])],
                                    inputs: [("x", ["N", 2, 3])]),
                          node: "s", op: "Softmax", "only the last axis")
        expectUnsupported(loadError([Node(op: "Flatten", inputs: ["x"], outputs: ["y"], name: "f", attributes: [.int("axis", 2)])],
                                    inputs: [("x", ["N", 2, 3])]),
                          node: "f", op: "Flatten", "would merge the batch")
    }

    @Test func reshapesThatMoveTheBatch() {
        let toRow = loadError([Node(op: "Reshape", inputs: ["x", "s"], outputs: ["y"], name: "r")],
                              initializers: [Tensor(name: "s", dims: [2], dataType: 7, ints: [1, -1])])
        expectUnsupported(toRow, node: "r", op: "Reshape", "must stay the batch")
        let merge = loadError([Node(op: "Reshape", inputs: ["x", "s"], outputs: ["y"], name: "r")], inputs: [("x", ["N", 6])],
                              initializers: [Tensor(name: "s", dims: [2], dataType: 7, ints: [-1, 3])])
        expectUnsupported(merge, node: "r", op: "Reshape", "would merge items of the batch")
    }

    @Test func unsupportedAttributeValues() {
        expectUnsupported(loadError([Node(op: "Cast", inputs: ["x"], outputs: ["y"], name: "c", attributes: [.int("to", 11)])]),
                          node: "c", op: "Cast", "Cast to double is not supported; supported targets: float, int64, int32")
        let probit = Node(op: "LinearClassifier", inputs: ["x"], outputs: ["l", "y"], name: "lc", domain: "ai.onnx.ml",
                          attributes: [.floats("coefficients", [1, 2, 3]), .floats("intercepts", [0]),
                                       .ints("classlabels_ints", [0, 1]), .string("post_transform", "PROBIT")])
        expectUnsupported(loadError([probit]), node: "lc", op: "LinearClassifier",
                          "post_transform 'PROBIT' is not supported; supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO")
        let dropout = loadError([Node(op: "Dropout", inputs: ["x", "", "t"], outputs: ["y"], name: "d")],
                                initializers: [Tensor(name: "t", dims: [], dataType: 9, raw: [1])])
        expectUnsupported(dropout, node: "d", op: "Dropout", "training-mode Dropout is not supported")
        let expand = loadError([Node(op: "Add", inputs: ["x", "c"], outputs: ["y"], name: "add")], inputs: [("x", ["N", 1])],
                               initializers: [Tensor(name: "c", dims: [3], floats: [1, 2, 3])])
        expectUnsupported(expand, node: "add", op: "Add", "does not broadcast onto the activation")
        let wrongType = loadError([Node(op: "Softmax", inputs: ["x"], outputs: ["y"], name: "s", attributes: [.float("axis", 1)])])
        #expect(wrongType?.kind == .invalidGraph)
        #expect(wrongType?.description.contains("attribute 'axis' must be int") == true)
    }

    @Test func unsupportedOpsAndDomains() {
        let custom = loadError([Node(op: "FusedGemm", inputs: ["x", "w"], outputs: ["y"], name: "fg", domain: "com.microsoft")])
        expectUnsupported(custom, node: "fg", op: "com.microsoft.FusedGemm", "domain 'com.microsoft' is not implemented")
        let lstm = loadError([Node(op: "LSTM", inputs: ["x"], outputs: ["y"], name: "rnn")])
        expectUnsupported(lstm, node: "rnn", op: "LSTM", "supported operators: Add, ArgMax, BatchNormalization, Cast, Concat")
    }

    @Test func unsupportedTypesAndShapes() {
        let half = loadError([Node(op: "MatMul", inputs: ["x", "h"], outputs: ["y"], name: "mm")],
                             initializers: [Tensor(name: "h", dims: [3, 2], dataType: 10, raw: [UInt8](repeating: 0, count: 12))])
        #expect(half?.kind == .unsupported)
        #expect(half?.description.contains("tensor 'h' has element type float16; supported tensor types: float, double") == true)
        let symbolic = loadError([Node(op: "Relu", inputs: ["x"], outputs: ["y"])], inputs: [("x", ["N", "features"])])
        #expect(symbolic?.description.contains("only the first (batch) dimension may be symbolic") == true)
        let short = loadError([Node(op: "MatMul", inputs: ["x", "w"], outputs: ["y"])],
                              initializers: [Tensor(name: "w", dims: [3, 2], floats: [1, 2, 3])])
        #expect(short?.kind == .malformed)
        #expect(short?.description.contains("has 3 values in float_data, but its dims [3, 2] need 6") == true)
    }

    @Test func missingOpsetImport() {
        let error = loadError([Node(op: "Relu", inputs: ["x"], outputs: ["y"], name: "r")], opsets: [("ai.onnx.ml", 1)])
        #expect(error?.kind == .invalidGraph)
        #expect(error?.description.contains("imports no opset for domain ''") == true)
    }

    @Test func outputsNothingProduces() {
        let error = loadError([Node(op: "Relu", inputs: ["x"], outputs: ["r"])], outputs: ["nothing"])
        #expect(error?.description.contains("graph output 'nothing' is not produced by any node") == true)
    }

    @Test func secondInputAndIdentityGraphs() throws {
        let bytes = ModelBuilder.model(nodes: [Node(op: "Add", inputs: ["a", "b"], outputs: ["sum"]),
                                               Node(op: "Identity", inputs: ["b"], outputs: ["same"])],
                                       inputs: [("a", ["N", 2]), ("b", ["N", 2])], outputs: ["sum", "same"])
        let model = try ModelBuilder.load(bytes)
        #expect(model.inputs.map(\.name) == ["a", "b"])
        let error = #expect(throws: ModelError.self) { try InferenceSession(model: model) }
        #expect(error?.description.contains("output 'sum' depends on input 'b', but the session feeds only 'a'") == true)
        var session = try InferenceSession(model: model, input: "b", output: "same")
        var out: [Float] = [0, 0, 0, 0]
        try session.run(rows: 2, input: [1, 2, 3, 4], output: &out)
        #expect(out == [1, 2, 3, 4])
    }

    @Test func nonFloatInputIsRefusedAtSessionCreation() throws {
        let bytes = ModelBuilder.model(nodes: [Node(op: "Cast", inputs: ["x"], outputs: ["y"], attributes: [.int("to", 1)])],
                                       inputs: [("x", ["N", 2])], outputs: ["y"], inputType: 7)
        let model = try ModelBuilder.load(bytes)
        let error = #expect(throws: ModelError.self) { try InferenceSession(model: model) }
        #expect(error?.description.contains("input 'x' is tensor(int64); the engine feeds float32 tensors only") == true)
    }
}
