import Testing
@testable import Engine

/// Models quantized by onnxruntime's own tools (tools/quantize_models.py) against onnxruntime's
/// outputs: dynamic models against onnxruntime run one row at a time (the engine quantizes each
/// row on its own), static QDQ and QLinearMatMul models against onnxruntime on the whole batch.
@Suite struct QuantizedModelTests {
    static let dynamic = ["q_dyn_mlp", "q_dyn_mlp_pc", "q_dyn_mlp_u8", "q_dyn_matmul", "q_dyn_lr"]
    static let qdq = ["q_qdq_mlp", "q_qdq_mlp_pc", "q_qdq_matmul", "q_qdq_lr"]

    /// Outputs of the dynamic models: float rounding only (onnxruntime's fused kernel may use
    /// an FMA where the graph says Mul then Add; a softmax of such logits moves by a few ulp).
    static let dynamicTolerance: Float = 5e-7

    /// The largest difference from onnxruntime over every output, and the rows whose argmax differs.
    static func compare(_ fixture: String) throws -> (diff: Float, labelMismatches: Int, rows: Int) {
        let model = try Fixture.model(fixture)
        let tensors = try Fixture.tensors(fixture)
        let input = tensors[0]
        var worst: Float = 0
        var mismatches = 0
        for expected in tensors.dropFirst() {
            var session = try InferenceSession(model: model, output: expected.name, maxBatch: 128)
            #expect(session.outputWidth == expected.width, "\(fixture)/\(expected.name)")
            let got = try Fixture.run(&session, input, rows: input.rows)
            worst = max(worst, Fixture.maxAbsDiff(got[...], expected.values[...]))
            let width = expected.width
            for row in 0..<input.rows where argmax(got[(row * width)..<((row + 1) * width)]) != argmax(expected.values[(row * width)..<((row + 1) * width)]) {
                mismatches += 1
            }
        }
        return (worst, mismatches, input.rows)
    }

    static func argmax(_ values: ArraySlice<Float>) -> Int {
        var best = values.startIndex
        for i in values.indices where values[i] > values[best] { best = i }
        return best - values.startIndex
    }

    @Test(arguments: dynamic)
    func dynamicModelsMatchOnnxRuntimeRowByRow(fixture: String) throws {
        let (diff, mismatches, rows) = try Self.compare(fixture)
        print("\(fixture): max |diff| \(diff), labels differ on \(mismatches) of \(rows) rows")
        #expect(mismatches == 0, "\(fixture): \(mismatches) labels differ")
        #expect(diff <= Self.dynamicTolerance, "\(fixture): max |diff| \(diff)")
    }

    /// Every dynamic layer is one fused integer step: no DynamicQuantizeLinear, Cast, Mul, Add or
    /// Relu step is left.
    @Test(arguments: dynamic)
    func dynamicChainsBecomeOneStepPerLayer(fixture: String) throws {
        let session = try InferenceSession(model: try Fixture.model(fixture))
        let kinds = session.plan.steps.map { step -> String in
            if case .quantizedLinear = step.kind { return "q" }
            return step.opType
        }
        #expect(kinds.allSatisfy { $0 == "q" || $0 == "Softmax" }, "\(fixture): \(kinds)")
    }

    /// Static models: the same integers and the same float steps as onnxruntime's fused kernels
    /// (QGemm, QLinearMatMul, QLinearSoftmax), so the same bits.
    @Test(arguments: qdq + ["q_qlinear"])
    func staticModelsMatchOnnxRuntimeExactly(fixture: String) throws {
        let (diff, mismatches, rows) = try Self.compare(fixture)
        print("\(fixture): max |diff| \(diff), labels differ on \(mismatches) of \(rows) rows")
        #expect(mismatches == 0, "\(fixture): \(mismatches) labels differ")
        #expect(diff == 0, "\(fixture): max |diff| \(diff)")
    }

    /// A static MLP plans one integer step per layer (requantizing into the next layer's input
    /// grid), the QLinearSoftmax step, and nothing else: the Q/DQ pairs are all absorbed.
    @Test(arguments: ["q_qdq_mlp", "q_qdq_mlp_pc", "q_qdq_lr"])
    func staticLayersAbsorbTheirQDQPairs(fixture: String) throws {
        let session = try InferenceSession(model: try Fixture.model(fixture))
        var kinds: [String] = []
        for step in session.plan.steps {
            switch step.kind {
            case .quantizedLinear(let layer):
                if case .requantized(_, _, _, _, .dequantized) = layer.output, case .quantize = layer.input { kinds.append("qgemm") }
            case .quantizedSoftmax: kinds.append("qsoftmax")
            default: kinds.append(step.opType)
            }
        }
        #expect(kinds == [String](repeating: "qgemm", count: kinds.count - 1) + ["qsoftmax"], "\(fixture): \(kinds)")
    }

    @Test func mlpLayersFuseTheirBiasAndRelu() throws {
        let session = try InferenceSession(model: try Fixture.model("q_dyn_mlp"))
        let layers = session.plan.steps.compactMap { step -> QuantizedLinearLayer? in
            if case .quantizedLinear(let layer) = step.kind { layer } else { nil }
        }
        #expect(layers.count == 3)
        #expect(layers.map(\.input) == [.dynamicRows, .dynamicRows, .dynamicRows])
        let activations = layers.map { layer -> String? in
            if case .scaled(let bias, let activation) = layer.output, bias?.count == layer.n { "\(activation)" } else { nil }
        }
        #expect(activations == ["relu", "relu", "identity"])
    }
}
