import Testing
@testable import Engine
import EngineTestSupport
import Kernels
import TestSupport

/// The quantization operators on small models built here, against a scalar reference written
/// from the ONNX definitions (and onnxruntime's order of float operations), plus their errors.
@Suite struct QuantizedOperatorTests {
    static func int8(_ name: String, _ dims: [Int64], _ values: [Int8]) -> Tensor {
        Tensor(name: name, dims: dims, dataType: 3, raw: values.map { UInt8(bitPattern: $0) })
    }

    static func uint8(_ name: String, _ dims: [Int64], _ values: [UInt8]) -> Tensor {
        Tensor(name: name, dims: dims, dataType: 2, raw: values)
    }

    static func int32(_ name: String, _ dims: [Int64], _ values: [Int32]) -> Tensor {
        Tensor(name: name, dims: dims, dataType: 6, raw: values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
    }

    static func scalar(_ name: String, _ value: Float) -> Tensor { Tensor(name: name, dims: [], floats: [value]) }

    static func run(_ bytes: [UInt8], _ x: [Float], rows: Int, output: String? = nil) throws -> [Float] {
        let model = try ModelBuilder.load(bytes)
        var session = try InferenceSession(model: model, output: output, maxBatch: 32)
        var out = [Float](repeating: .nan, count: rows * session.outputWidth)
        try x.withUnsafeBufferPointer { input in
            try out.withUnsafeMutableBufferPointer { try session.run(rows: rows, input: input.baseAddress!, output: $0.baseAddress!) }
        }
        return out
    }

    static func input(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var x = (0..<(rows * cols)).map { _ in Float.random(in: -3...3, using: &rng) }
        // Awkward rows: all zeros (scale 1), all negative, all positive, one value.
        for j in 0..<cols {
            x[j] = 0
            x[cols + j] = -Float(j + 1) * 0.25
            x[2 * cols + j] = Float(j + 1) * 0.5
        }
        return x
    }

    // MARK: - Dynamic quantization

    static let k = 5, n = 3
    static let w: [Int8] = [12, -128, 7, 127, -3, 0, -60, 45, 99, 1, -1, 33, 80, -90, 5]
    static let bias: [Float] = [0.25, -0.5, 0.125]

    static func dynamicChain(weightScales: [Float], weightZero: [Int8]) -> [UInt8] {
        let perColumn = weightScales.count > 1
        return ModelBuilder.model(
            nodes: [
                Node(op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"], name: "dql"),
                Node(op: "Mul", inputs: ["xs", "ws"], outputs: ["s"], name: "scales"),
                Node(op: "MatMulInteger", inputs: ["xq", "w", "xz", "wz"], outputs: ["acc"], name: "mmi"),
                Node(op: "Cast", inputs: ["acc"], outputs: ["accf"], name: "cast", attributes: [.int("to", 1)]),
                Node(op: "Mul", inputs: ["accf", "s"], outputs: ["m"], name: "scale"),
                Node(op: "Add", inputs: ["m", "b"], outputs: ["h"], name: "bias"),
                Node(op: "Relu", inputs: ["h"], outputs: ["y"], name: "relu"),
            ],
            inputs: [("x", ["N", k])], outputs: ["y"],
            initializers: [int8("w", [Int64(k), Int64(n)], w), int8("wz", perColumn ? [Int64(n)] : [], weightZero),
                           Tensor(name: "ws", dims: perColumn ? [Int64(n)] : [], floats: weightScales),
                           Tensor(name: "b", dims: [Int64(n)], floats: bias)])
    }

    /// The chain by its definition, one row at a time.
    static func dynamicReference(_ x: [Float], rows: Int, weightScales: [Float], weightZero: [Int8]) -> [Float] {
        var out: [Float] = []
        for r in 0..<rows {
            let row = x[(r * k)..<((r + 1) * k)]
            let low = min(0, row.min()!), high = max(0, row.max()!)
            let scale: Float = high == low ? 1 : (high - low) / 255
            let zero = (0 - low / scale).clamped(0, 255).rounded(.toNearestOrAwayFromZero)
            let q = row.map { ((($0 / scale).rounded(.toNearestOrEven)) + zero).clamped(0, 255) }
            for j in 0..<n {
                var acc: Int32 = 0
                for p in 0..<k {
                    acc += (Int32(q[q.startIndex + p]) - Int32(zero)) * (Int32(w[p * n + j]) - Int32(weightZero[weightZero.count > 1 ? j : 0]))
                }
                let s = scale * weightScales[weightScales.count > 1 ? j : 0]
                out.append(max(Float(acc) * s + bias[j], 0))
            }
        }
        return out
    }

    @Test(arguments: [([Float(0.01)], [Int8(0)]), ([0.01, 0.002, 0.03], [0, 3, -7])])
    func dynamicChainMatchesItsDefinition(weightScales: [Float], weightZero: [Int8]) throws {
        let rows = 40
        let x = Self.input(rows: rows, cols: Self.k, seed: 7)
        let got = try Self.run(Self.dynamicChain(weightScales: weightScales, weightZero: weightZero), x, rows: rows)
        let expected = Self.dynamicReference(x, rows: rows, weightScales: weightScales, weightZero: weightZero)
        #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func dynamicChainIsOneStep() throws {
        let model = try ModelBuilder.load(Self.dynamicChain(weightScales: [0.01], weightZero: [0]))
        let session = try InferenceSession(model: model)
        #expect(session.plan.steps.count == 1)
        #expect(session.plan.steps.first?.scratch != nil)
    }

    // MARK: - Static quantization

    /// x → Q → DQ → MatMul(DQ(int8 W, per-column)) + DQ(int32 bias) as Gemm → Q → DQ.
    static func staticGemm(requantize: Bool) -> [UInt8] {
        var nodes = [
            Node(op: "QuantizeLinear", inputs: ["x", "xs", "xz"], outputs: ["xq"], name: "qx"),
            Node(op: "DequantizeLinear", inputs: ["xq", "xs", "xz"], outputs: ["xd"], name: "dqx"),
            Node(op: "DequantizeLinear", inputs: ["w", "ws", "wz"], outputs: ["wd"], name: "dqw", attributes: [.int("axis", 1)]),
            Node(op: "DequantizeLinear", inputs: ["b", "bs"], outputs: ["bd"], name: "dqb", attributes: [.int("axis", 0)]),
            Node(op: "Gemm", inputs: ["xd", "wd", "bd"], outputs: [requantize ? "g" : "y"], name: "gemm"),
        ]
        if requantize {
            nodes += [Node(op: "QuantizeLinear", inputs: ["g", "ys", "yz"], outputs: ["gq"], name: "qy"),
                      Node(op: "DequantizeLinear", inputs: ["gq", "ys", "yz"], outputs: ["y"], name: "dqy")]
        }
        return ModelBuilder.model(
            nodes: nodes, inputs: [("x", ["N", k])], outputs: ["y"],
            initializers: [scalar("xs", xScale), uint8("xz", [], [xZero]), int8("w", [Int64(k), Int64(n)], w),
                           Tensor(name: "ws", dims: [Int64(n)], floats: wScales), int8("wz", [Int64(n)], [0, 0, 0]),
                           int32("b", [Int64(n)], intBias), Tensor(name: "bs", dims: [Int64(n)], floats: wScales.map { xScale * $0 }),
                           scalar("ys", yScale), uint8("yz", [], [yZero])])
    }

    static let xScale: Float = 0.025, xZero: UInt8 = 120, yScale: Float = 0.04, yZero: UInt8 = 100
    static let wScales: [Float] = [0.01, 0.003, 0.02]
    static let intBias: [Int32] = [400, -1234, 77]

    static func staticReference(_ x: [Float], rows: Int, requantize: Bool) -> [Float] {
        var out: [Float] = []
        for r in 0..<rows {
            let q = (0..<k).map { ((x[r * k + $0] / xScale).rounded(.toNearestOrEven) + Float(xZero)).clamped(0, 255) }
            for j in 0..<n {
                var acc = intBias[j]
                for p in 0..<k { acc += (Int32(q[p]) - Int32(xZero)) * Int32(w[p * n + j]) }
                if requantize {
                    let y = (Float(acc) * (xScale * wScales[j] / yScale)).rounded(.toNearestOrEven) + Float(yZero)
                    out.append((y.clamped(0, 255) - Float(yZero)) * yScale)
                } else {
                    out.append(Float(acc) * (xScale * wScales[j]))
                }
            }
        }
        return out
    }

    @Test(arguments: [false, true])
    func staticGemmMatchesQGemmArithmetic(requantize: Bool) throws {
        let rows = 40
        let x = Self.input(rows: rows, cols: Self.k, seed: 11)
        let bytes = Self.staticGemm(requantize: requantize)
        let got = try Self.run(bytes, x, rows: rows)
        #expect(got.map(\.bitPattern) == Self.staticReference(x, rows: rows, requantize: requantize).map(\.bitPattern))
        let session = try InferenceSession(model: try ModelBuilder.load(bytes))
        #expect(session.plan.steps.count == 1, "\(session.plan.steps.map(\.opType))")
    }

    /// Q, DQ and the pair on an activation with int8 per-axis parameters.
    @Test func quantizeAndDequantizePerAxis() throws {
        let scales: [Float] = [0.1, 0.02, 0.5]
        let zeros: [Int8] = [-3, 0, 100]
        let bytes = ModelBuilder.model(
            nodes: [Node(op: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["q"], name: "q", attributes: [.int("axis", 1)]),
                    Node(op: "DequantizeLinear", inputs: ["q", "s", "z"], outputs: ["pair"], name: "dq", attributes: [.int("axis", -1)]),
                    Node(op: "DequantizeLinear", inputs: ["q", "s2"], outputs: ["other"], name: "dq2"),
                    Node(op: "Cast", inputs: ["q"], outputs: ["qf"], name: "cast", attributes: [.int("to", 1)])],
            inputs: [("x", ["N", 3])], outputs: ["pair", "q"],
            initializers: [Tensor(name: "s", dims: [3], floats: scales), Self.int8("z", [3], zeros),
                           Tensor(name: "s2", dims: [], floats: [0.5])])
        let rows = 30
        var x = Self.input(rows: rows, cols: 3, seed: 5).map { $0 * 20 }
        x[9] = .nan
        let q = (0..<(rows * 3)).map { i -> Float in
            let v = (x[i] / scales[i % 3]).rounded(.toNearestOrEven) + Float(zeros[i % 3])
            return v.isNaN ? -128 : v.clamped(-128, 127)
        }
        #expect(try Self.run(bytes, x, rows: rows, output: "q") == q)
        let pair = try Self.run(bytes, x, rows: rows, output: "pair")
        #expect(pair == q.indices.map { (q[$0] - Float(zeros[$0 % 3])) * scales[$0 % 3] })
        // A DQ with other parameters (no zero point: 0) dequantizes the values as they are.
        #expect(try Self.run(bytes, x, rows: rows, output: "other") == q.map { $0 * 0.5 })
        let session = try InferenceSession(model: try ModelBuilder.load(bytes), output: "pair")
        #expect(session.plan.steps.map { $0.opType } == ["DequantizeLinear"])
    }

    // MARK: - Errors

    private func loadError(_ nodes: [Node], outputs: [String] = ["y"], initializers: [Tensor]) -> ModelError? {
        let bytes = ModelBuilder.model(nodes: nodes, inputs: [("x", ["N", 5])], outputs: outputs, initializers: initializers)
        return #expect(throws: ModelError.self) { try ModelBuilder.load(bytes) }
    }

    private func expectError(_ error: ModelError?, node: String, op: String, _ text: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.node == node, sourceLocation: sourceLocation)
        #expect(error?.opType == op, sourceLocation: sourceLocation)
        #expect(error?.description.contains(text) == true, "\(error?.description ?? "no error")", sourceLocation: sourceLocation)
        #expect(error?.description.contains("\n") == false, sourceLocation: sourceLocation)
    }

    static let weights = [int8("w", [5, 3], w), int8("wz", [], [0]), scalar("ws", 0.01)]

    @Test func matMulIntegerOutsideTheChain() {
        let error = loadError([
            Node(op: "QuantizeLinear", inputs: ["x", "ws"], outputs: ["xq"], name: "q"),
            Node(op: "MatMulInteger", inputs: ["xq", "w"], outputs: ["y"], name: "mmi"),
        ], initializers: Self.weights)
        expectError(error, node: "mmi", op: "MatMulInteger", "is not DynamicQuantizeLinear's output")
        #expect(error?.kind == .unsupported)
    }

    @Test func chainValueUsedByAnotherOp() {
        let error = loadError([
            Node(op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"], name: "dql"),
            Node(op: "Relu", inputs: ["xs"], outputs: ["y"], name: "relu"),
        ], initializers: Self.weights)
        expectError(error, node: "relu", op: "Relu", "is DynamicQuantizeLinear's scale")
    }

    @Test func castOfTheSumsToAnIntegerType() {
        let error = loadError([
            Node(op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"], name: "dql"),
            Node(op: "MatMulInteger", inputs: ["xq", "w", "xz", "wz"], outputs: ["acc"], name: "mmi"),
            Node(op: "Cast", inputs: ["acc"], outputs: ["y"], name: "cast", attributes: [.int("to", 7)]),
        ], initializers: Self.weights)
        expectError(error, node: "cast", op: "Cast", "is MatMulInteger's integer sums")
    }

    @Test func unfinishedChainAsGraphOutput() {
        let error = loadError([
            Node(op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"], name: "dql"),
            Node(op: "MatMulInteger", inputs: ["xq", "w", "xz", "wz"], outputs: ["y"], name: "mmi"),
        ], initializers: Self.weights)
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("graph output 'y' is MatMulInteger's integer sums") == true, "\(String(describing: error))")
    }

    @Test func floatWeightsInMatMulInteger() {
        let error = loadError([
            Node(op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"], name: "dql"),
            Node(op: "MatMulInteger", inputs: ["xq", "wf", "xz"], outputs: ["y"], name: "mmi"),
        ], initializers: [Tensor(name: "wf", dims: [5, 3], floats: [Float](repeating: 1, count: 15))])
        expectError(error, node: "mmi", op: "MatMulInteger", "B must be a constant 2-D int8 or uint8 matrix")
    }

    @Test func sixteenBitQuantization() {
        let error = loadError([Node(op: "QuantizeLinear", inputs: ["x", "ws", "z16"], outputs: ["y"], name: "q")],
                              initializers: Self.weights + [Tensor(name: "z16", dims: [], dataType: 4, raw: [0, 0])])
        expectError(error, node: "q", op: "QuantizeLinear", "quantized type uint16 is not supported")
    }

    @Test func dequantizeOfAFloatActivation() {
        let error = loadError([Node(op: "DequantizeLinear", inputs: ["x", "ws"], outputs: ["y"], name: "dq")], initializers: Self.weights)
        expectError(error, node: "dq", op: "DequantizeLinear", "needs quantized integers")
        #expect(error?.kind == .invalidGraph)
    }

    @Test func microsoftQuantizedOpsAreNamed() {
        let error = loadError([Node(op: "QGemm", inputs: ["x"], outputs: ["y"], name: "qg", domain: "com.microsoft")],
                              initializers: Self.weights)
        expectError(error, node: "qg", op: "com.microsoft.QGemm", "domain 'com.microsoft' is not implemented")
    }

    /// int32_data widens int8 values; one outside -128...127 is a damaged file, not a weight.
    @Test func int8ValuesOutOfRangeAreMalformed() {
        let bad = Tensor(name: "w", dims: [2], dataType: 3, int32s: [7, 300])
        let bytes = ModelBuilder.model(nodes: [Node(op: "Identity", inputs: ["x"], outputs: ["y"])], inputs: [("x", ["N", 5])],
                                       outputs: ["y"], initializers: [bad])
        let error = #expect(throws: ModelError.self) { try ModelBuilder.load(bytes) }
        #expect(error?.kind == .malformed)
        #expect(error?.description.contains("tensor 'w' holds 300 in int32_data, outside the range of int8") == true,
                "\(String(describing: error))")
    }

    @Test func innerDimensionTooLargeForInt32Sums() {
        let k = QuantizedWeights.maxK + 1
        let bytes = ModelBuilder.model(
            nodes: [Node(op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"], name: "dql"),
                    Node(op: "MatMulInteger", inputs: ["xq", "w", "xz"], outputs: ["acc"], name: "mmi"),
                    Node(op: "Cast", inputs: ["acc"], outputs: ["y"], name: "cast", attributes: [.int("to", 1)])],
            inputs: [("x", ["N", k])], outputs: ["y"], initializers: [Self.int8("w", [Int64(k), 1], [Int8](repeating: 1, count: k))])
        let error = #expect(throws: ModelError.self) { try ModelBuilder.load(bytes) }
        expectError(error, node: "mmi", op: "MatMulInteger", "too large for exact Int32 sums")
    }

    // MARK: - Weight cache

    /// The quantized weights are records of a weight cache: a replayed model asks for the same
    /// keys and scores the same bits.
    @Test(arguments: ["q_dyn_mlp_u8", "q_qdq_mlp_pc", "q_qlinear"])
    func quantizedWeightsGoThroughTheWeightStore(fixture: String) throws {
        let bytes = try Fixture.bytes(fixture + ".onnx")
        let recorder = WeightStore(.record)
        let modelBytes = bytes.withUnsafeBytes { ModelBytes(copying: $0) }
        let recorded = try OnnxModel.load(modelBytes, name: fixture, store: recorder)
        let records = try #require(recorder.records)
        let quantized = records.filter { $0.key.hasPrefix("quantized:") }
        #expect(quantized.count >= 2)
        let replay = WeightStore(.replay(Dictionary(uniqueKeysWithValues: records.map { ($0.key, $0.record) })))
        let replayed = try OnnxModel.load(modelBytes, name: fixture, store: replay)
        let input = try Fixture.tensors(fixture)[0]
        var a = try InferenceSession(model: recorded)
        var b = try InferenceSession(model: replayed)
        let first = try Fixture.run(&a, input, rows: input.rows)
        let second = try Fixture.run(&b, input, rows: input.rows)
        #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
        // The replayed session reads the recorded buffers themselves (here the recorder's own
        // memory, so not "borrowed"): the same panels, not a rebuilt copy.
        if case .quantizedLinear(let layer) = b.plan.steps.first(where: { if case .quantizedLinear = $0.kind { true } else { false } })?.kind,
           case .quantizedLinear(let original) = a.plan.steps.first(where: { if case .quantizedLinear = $0.kind { true } else { false } })?.kind {
            #expect(layer.weights.buffers.map { $0.base } == original.weights.buffers.map { $0.base })
        } else {
            Issue.record("\(fixture): no quantized step")
        }
    }
}

extension Float {
    fileprivate func clamped(_ low: Float, _ high: Float) -> Float { Swift.min(Swift.max(self, low), high) }
}
