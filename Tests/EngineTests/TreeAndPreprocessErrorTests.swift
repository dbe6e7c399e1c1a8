import Testing
@testable import Engine
import EngineTestSupport

/// Load-time errors for tree ensembles and the preprocessing / PyTorch ops: an unsupported
/// attribute value is one error naming the value, the node and its op; an inconsistent
/// ensemble is an invalid graph.
@Suite struct TreeAndPreprocessErrorTests {
    private func load(_ nodes: [Node], inputs: [(String, [Any])] = [("x", ["N", 3])], initializers: [Tensor] = [],
                      opsets: [(String, Int64)] = [("", 13), ("ai.onnx.ml", 1)]) throws(ModelError) -> OnnxModel {
        try ModelBuilder.load(ModelBuilder.model(nodes: nodes, inputs: inputs, outputs: ["y"], initializers: initializers,
                                                 opsets: opsets))
    }

    private func loadError(_ nodes: [Node], initializers: [Tensor] = [],
                           opsets: [(String, Int64)] = [("", 13), ("ai.onnx.ml", 1)]) -> ModelError? {
        #expect(throws: ModelError.self) { try load(nodes, initializers: initializers, opsets: opsets) }
    }

    private func expect(_ error: ModelError?, _ kind: ModelError.Kind, node: String, op: String, _ text: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.kind == kind, sourceLocation: sourceLocation)
        #expect(error?.node == node, sourceLocation: sourceLocation)
        #expect(error?.opType == op, sourceLocation: sourceLocation)
        #expect(error?.description.contains(text) == true, "\(error?.description ?? "no error")", sourceLocation: sourceLocation)
    }

    /// One stump (a root and two leaves) on feature 0, with `extra` attributes.
    static func stump(_ op: String, mode: String = "BRANCH_LEQ", prefix: String = "target", child: Int64 = 2,
                      _ extra: [Attr] = []) -> Node {
        var attributes: [Attr] = [
            .ints("nodes_treeids", [0, 0, 0]), .ints("nodes_nodeids", [0, 1, 2]), .ints("nodes_featureids", [0, 0, 0]),
            .strings("nodes_modes", [mode, "LEAF", "LEAF"]), .floats("nodes_values", [0.5, 0, 0]),
            .ints("nodes_truenodeids", [1, 0, 0]), .ints("nodes_falsenodeids", [child, 0, 0]),
            .ints("\(prefix)_treeids", [0, 0]), .ints("\(prefix)_nodeids", [1, 2]), .ints("\(prefix)_ids", [0, 1]),
            .floats("\(prefix)_weights", [0.25, 0.75]),
        ]
        if op == "TreeEnsembleClassifier" { attributes.append(.ints("classlabels_int64s", [0, 1])) } else {
            attributes.append(.int("n_targets", 2))
        }
        return Node(op: op, inputs: ["x"], outputs: op == "TreeEnsembleClassifier" ? ["label", "y"] : ["y"], name: "trees",
                    domain: "ai.onnx.ml", attributes: attributes + extra)
    }

    @Test func aStumpRuns() throws {
        var session = try InferenceSession(model: try load([Self.stump("TreeEnsembleRegressor")]))
        var out = [Float](repeating: .nan, count: 6)
        try session.run(rows: 3, input: [0.5, 9, 9, 0.6, 9, 9, .nan, 9, 9], output: &out)
        #expect(out == [0.25, 0, 0, 0.75, 0, 0.75])  // 0.5 <= 0.5 goes true; NaN goes false
    }

    @Test func unsupportedTreeAttributeValues() {
        expect(loadError([Self.stump("TreeEnsembleRegressor", mode: "BRANCH_MEMBER")]), .unsupported, node: "trees",
               op: "TreeEnsembleRegressor", "nodes_modes value 'BRANCH_MEMBER' is not supported; supported: BRANCH_LEQ")
        expect(loadError([Self.stump("TreeEnsembleClassifier", prefix: "class", [.string("post_transform", "PROBIT")])]),
               .unsupported, node: "trees", op: "TreeEnsembleClassifier",
               "post_transform 'PROBIT' is not supported; supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO")
        expect(loadError([Self.stump("TreeEnsembleRegressor", [.string("aggregate_function", "MEDIAN")])]), .unsupported,
               node: "trees", op: "TreeEnsembleRegressor", "aggregate_function 'MEDIAN' is not supported; supported: SUM, AVERAGE, MIN, MAX")
        let member = Node(op: "TreeEnsemble", inputs: ["x"], outputs: ["y"], name: "te", domain: "ai.onnx.ml", attributes: [
            .int("n_targets", 1), .ints("tree_roots", [0]), .ints("nodes_featureids", [0]),
            .tensor("nodes_splits", Tensor(dims: [1], floats: [0])), .tensor("nodes_modes", Tensor(dims: [1], dataType: 2, raw: [6])),
            .ints("nodes_truenodeids", [0]), .ints("nodes_trueleafs", [1]), .ints("nodes_falsenodeids", [1]),
            .ints("nodes_falseleafs", [1]), .ints("leaf_targetids", [0, 0]), .tensor("leaf_weights", Tensor(dims: [2], floats: [1, 2])),
        ])
        expect(loadError([member], opsets: [("", 21), ("ai.onnx.ml", 5)]), .unsupported, node: "te", op: "TreeEnsemble",
               "node mode 6 is not supported")
    }

    @Test func inconsistentEnsembles() {
        expect(loadError([Self.stump("TreeEnsembleRegressor", child: 7)]), .invalidGraph, node: "trees",
               op: "TreeEnsembleRegressor", "has a child that is not in the tree")
        expect(loadError([Self.stump("TreeEnsembleRegressor", [.ints("target_ids", [0, 5])])]), .invalidGraph, node: "trees",
               op: "TreeEnsembleRegressor", "outside 0..<2")
        expect(loadError([Self.stump("TreeEnsembleRegressor", [.ints("nodes_featureids", [3, 0, 0])])]), .invalidGraph,
               node: "trees", op: "TreeEnsembleRegressor", "reads feature 3, but X has 3 columns")
    }

    @Test func unsupportedPreprocessingAndTorchForms() {
        let strings = Node(op: "OneHotEncoder", inputs: ["x"], outputs: ["y"], name: "ohe", domain: "ai.onnx.ml",
                           attributes: [.strings("cats_strings", ["a", "b"])])
        expect(loadError([strings]), .unsupported, node: "ohe", op: "OneHotEncoder", "cats_int64s only")
        let gelu = Node(op: "Gelu", inputs: ["x"], outputs: ["y"], name: "g", attributes: [.string("approximate", "fast")])
        expect(loadError([gelu], opsets: [("", 20)]), .unsupported, node: "g", op: "Gelu", "approximate='fast' is not supported")
        let params = ["s", "b", "m", "v"].map { Tensor(name: $0, dims: [3], floats: [1, 1, 1]) }
        let bn = Node(op: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["y"], name: "bn",
                      attributes: [.int("training_mode", 1)])
        expect(loadError([bn], initializers: params, opsets: [("", 15)]), .unsupported, node: "bn", op: "BatchNormalization",
               "training_mode=1 is not supported")
        let gather = Node(op: "Gather", inputs: ["x", "i"], outputs: ["y"], name: "ga", attributes: [.int("axis", 0)])
        expect(loadError([gather], initializers: [Tensor(name: "i", dims: [1], dataType: 7, ints: [0])]), .unsupported,
               node: "ga", op: "Gather", "only axis 1 of a 2-D [N, C] input is")
    }

    @Test func oneHotWithoutZerosRejectsUnknownValuesAtRunTime() throws {
        let node = Node(op: "OneHotEncoder", inputs: ["x"], outputs: ["y"], name: "ohe", domain: "ai.onnx.ml",
                        attributes: [.ints("cats_int64s", [1, 2]), .int("zeros", 0)])
        var session = try InferenceSession(model: try load([node]))
        var out = [Float](repeating: .nan, count: 6)
        try session.run(rows: 1, input: [1, 2, 2.7], output: &out)
        #expect(out == [1, 0, 0, 1, 0, 1])  // 2.7 truncates to 2, as onnxruntime's cast to int64
        let error = #expect(throws: ModelError.self) { try session.run(rows: 1, input: [1, 2, 3], output: &out) }
        #expect(error?.description.contains("value 3.0 is not one of the 2 categories") == true, "\(error?.description ?? "")")
    }
}
