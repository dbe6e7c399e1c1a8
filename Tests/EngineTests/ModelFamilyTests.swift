import Testing
@testable import Engine

/// The models users train, exported by their usual tools (skl2onnx, onnxmltools, torch.onnx),
/// against onnxruntime's outputs on the same inputs: every output within 1e-5 absolute (tree
/// models: identical), and labels (whole numbers) identical. Tree inputs include rows whose features sit exactly on a
/// threshold or one float away, and (boosters, tree_ops) NaN features.
@Suite struct ModelFamilyTests {
    static let sklearn = [
        "sk_ridge", "sk_linsvc_binary", "sk_linsvc_multi", "sk_mlp_regressor", "sk_tree_clf", "sk_tree_reg",
        "sk_rf_clf", "sk_rf_binary", "sk_rf_reg", "sk_gb_clf", "sk_gb_binary", "sk_gb_reg", "sk_pipeline",
        "sk_pipeline_linear", "sk_columns",
    ]
    static let boosters = ["xgb_binary", "xgb_multi", "xgb_reg", "lgbm_binary", "lgbm_multi", "lgbm_reg", "lgbm_categorical"]
    static let handBuilt = ["tree_ops", "tree_ensemble5"]
    static let torch = [
        "torch_mlp_opset17", "torch_mlp_opset20", "torch_mlp_gelu_tanh", "torch_mlp_dynamo18", "torch_mlp_dynamo20",
        "torch_mlp_3d",
    ]
    static let tolerance: Float = 1e-5
    /// Tree models alone: thresholds compared in float32 and leaves summed in onnxruntime's
    /// order give the same bits (README), so no tolerance at all.
    static let exact = Set([
        "sk_tree_clf", "sk_tree_reg", "sk_rf_clf", "sk_rf_binary", "sk_rf_reg", "sk_gb_clf", "sk_gb_binary", "sk_gb_reg",
    ] + boosters + handBuilt)

    @Test(arguments: sklearn + boosters + handBuilt + torch)
    func matchesOnnxRuntime(fixture: String) throws {
        let model = try Fixture.model(fixture)
        let tensors = try Fixture.tensors(fixture)
        let input = tensors[0]
        var worst: Float = 0
        for expected in tensors.dropFirst() {
            var session = try InferenceSession(model: model, output: expected.name, maxBatch: 128)
            #expect(session.outputWidth == expected.width, "\(fixture)/\(expected.name)")
            let got = try Fixture.run(&session, input, rows: input.rows)
            let diff = Fixture.maxAbsDiff(got[...], expected.values[...])
            #expect(diff <= (Self.exact.contains(fixture) ? 0 : Self.tolerance), "\(fixture)/\(expected.name): max |diff| \(diff)")
            if model.outputs.first(where: { $0.name == expected.name })?.elementType == .int64 {
                let mismatches = zip(got, expected.values).filter { $0 != $1 }.count
                #expect(mismatches == 0, "\(fixture)/\(expected.name): \(mismatches) labels differ")
            }
            worst = max(worst, diff)
        }
        print("max |diff| \(fixture): \(worst)")
    }

    /// An eval-mode BatchNormalization after a Gemm becomes part of it: scale folded into the
    /// weight columns, shift into the bias; no step of its own is left.
    @Test(arguments: ["torch_mlp_opset17", "torch_mlp_opset20"])
    func batchNormalizationIsFoldedIntoTheGemm(fixture: String) throws {
        let session = try InferenceSession(model: try Fixture.model(fixture), output: "probabilities")
        #expect(!session.plan.steps.contains { $0.opType == "BatchNormalization" })
        #expect(session.plan.steps.filter { if case .linear = $0.kind { true } else { false } }.count == 4)
    }

    /// A tree model's session is the forest kernel plus one finalize step (and nothing for
    /// the ZipMap the session reads around).
    @Test func treeModelsPlanTheKernelAndOneFinalizeStep() throws {
        let session = try InferenceSession(model: try Fixture.model("sk_rf_binary"))
        #expect(session.outputName == "probabilities")
        #expect(session.plan.steps.map(\.opType) == ["TreeEnsembleClassifier", "TreeEnsembleClassifier"])
    }

    /// Whether a class gets a score is known at load when some tree has it in every leaf
    /// (boosted multi-class: one class per tree), so those run without per-row tracking; only
    /// leaves with a random class (tree_ops' *_mixed) need it.
    @Test(arguments: [("xgb_multi", "probabilities", false), ("sk_gb_clf", "probabilities", false),
                      ("sk_rf_clf", "probabilities", false), ("tree_ops", "bin_mixed_2", true),
                      ("tree_ops", "clf_mixed", true), ("tree_ops", "reg_mixed", true)])
    func presenceIsTrackedOnlyWhenItDependsOnTheRow(fixture: String, output: String, tracked: Bool) throws {
        let session = try InferenceSession(model: try Fixture.model(fixture), output: output)
        let trackers = session.plan.steps.compactMap { step -> Bool? in
            if case .treeScores(let scores) = step.kind { scores.presence } else { nil }
        }
        #expect(trackers == [tracked])
    }
}
