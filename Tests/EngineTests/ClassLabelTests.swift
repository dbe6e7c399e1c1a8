import EngineTestSupport
import Testing
import Engine

/// The classes a model names, as the output writes them when the config names none.
@Suite struct ClassLabelTests {
    /// Classifiers of every family skl2onnx and the boosting libraries make: the classes of the
    /// classifier node, of the ZipMap after it (the same), or of an MLP's label table.
    @Test(arguments: [
        ("lr_binary", ModelClassLabels.ints([0, 1])),
        ("lr_multi_zipmap", .ints([0, 1, 2])),
        ("lr_strings", .strings(["cat", "dog", "emu"])),
        ("sk_tree_clf", .ints([0, 1, 2])),
        ("lgbm_multi", .ints([0, 1, 2])),
        ("mlp_strings", .strings(["cat", "dog", "emu"])),
    ])
    func classifiersNameTheirClasses(_ fixture: String, _ expected: ModelClassLabels) throws {
        let model = try Fixture.model(fixture)
        #expect(model.classLabels == expected)
        let session = try InferenceSession(model: model)
        #expect(session.outputWidth == expected.count && session.classLabels == expected, "\(session.outputName)")
    }

    /// Regressors and bare networks name no classes; several classifiers that disagree name none
    /// either (which one the output belongs to is not said).
    @Test(arguments: ["linreg", "sk_rf_reg", "mlp_gemm", "ml_ops"])
    func modelsWithoutOneSetOfClassesNameNone(_ fixture: String) throws {
        #expect(try Fixture.model(fixture).classLabels == nil)
    }

    /// Classes that are not one per column of the output read are not the output's.
    @Test func classesOnlyFitAnOutputWithOneColumnPerClass() throws {
        let classifier = Node(op: "LinearClassifier", inputs: ["x"], outputs: ["label", "scores"], name: "lc",
                              domain: "ai.onnx.ml",
                              attributes: [.floats("coefficients", [1, 2, 3, 4, 5, 6]), .floats("intercepts", [0, 0]),
                                           .ints("classlabels_ints", [3, 7]), .string("post_transform", "SOFTMAX")])
        let model = try ModelBuilder.load(ModelBuilder.model(nodes: [classifier], inputs: [("x", ["N", 3])],
                                                             outputs: ["label", "scores"]))
        #expect(model.classLabels == .ints([3, 7]))
        #expect(try InferenceSession(model: model).classLabels == .ints([3, 7]))
        #expect(try InferenceSession(model: model, output: "label").classLabels == nil, "one column: the label itself")
    }
}
