import EngineTestSupport
import Testing
@testable import Engine

/// The engine's copy of Messages' `counted` (it depends on Kernels only): the same cases.
@Suite struct CountedTests {
    @Test func regularPlurals() {
        let cases: [(Int, String, String)] = [
            (0, "column", "0 columns"), (1, "column", "1 column"), (2, "class", "2 classes"), (1, "class", "1 class"),
            (1, "entry", "1 entry"), (7, "entry", "7 entries"), (2, "day", "2 days"), (2, "match", "2 matches"),
        ]
        for (count, noun, text) in cases {
            #expect(counted(count, noun) == text)
        }
        #expect(counted(2, "child", "children") == "2 children")
    }

    /// A binary linear classifier (one coefficient row) whose coefficients do not fit its input.
    @Test func oneCoefficientRowIsSingular() {
        let node = Node(op: "LinearClassifier", inputs: ["x"], outputs: ["l", "y"], name: "lc", domain: "ai.onnx.ml",
                        attributes: [.floats("coefficients", [1, 2, 3, 4, 5]), .floats("intercepts", [0]),
                                     .ints("classlabels_ints", [0, 1])])
        let bytes = ModelBuilder.model(nodes: [node], inputs: [("x", ["N", 3])], outputs: ["y"])
        let error = #expect(throws: ModelError.self) { try ModelBuilder.load(bytes) }
        #expect(error?.description.contains("5 coefficients do not make 1 row of 3 features") == true, "\(error?.description ?? "")")
    }
}
