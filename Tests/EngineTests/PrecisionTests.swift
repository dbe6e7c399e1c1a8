import Testing
@testable import Engine
import EngineTestSupport
import Kernels
import TestSupport

/// `precision = "int8"` and `"bf16"` on float models: the int8 layer against a scalar reference
/// written from its definition (weights per column, symmetric; each row's activations as
/// DynamicQuantizeLinear makes them; onnxruntime's order of float operations), bit for bit.
@Suite struct PrecisionTests {
    static func floats(_ rng: inout SplitMix64, _ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &rng) }
    }

    static let k = 6, n = 3

    static func gemm(weights: [Float], bias: [Float]) -> [UInt8] {
        ModelBuilder.model(
            nodes: [Node(op: "Gemm", inputs: ["x", "w", "b"], outputs: ["h"], name: "fc"),
                    Node(op: "Relu", inputs: ["h"], outputs: ["y"], name: "relu")],
            inputs: [("x", ["N", k])], outputs: ["y"],
            initializers: [Tensor(name: "w", dims: [Int64(k), Int64(n)], floats: weights),
                           Tensor(name: "b", dims: [Int64(n)], floats: bias)])
    }

    static func run(_ bytes: [UInt8], _ x: [Float], rows: Int, precision: LinearPrecision) throws -> (out: [Float], plan: SessionPlan) {
        var session = try InferenceSession(model: try ModelBuilder.load(bytes), maxBatch: 16, precision: precision)
        var out = [Float](repeating: .nan, count: rows * session.outputWidth)
        try x.withUnsafeBufferPointer { input in
            try out.withUnsafeMutableBufferPointer { try session.run(rows: rows, input: input.baseAddress!, output: $0.baseAddress!) }
        }
        return (out, session.plan)
    }

    /// The int8 layer by its definition.
    static func reference(_ x: [Float], rows: Int, weights w: [Float], bias: [Float]) -> [Float] {
        var scales = [Float](repeating: 1, count: n)
        for j in 0..<n {
            let largest = (0..<k).map { w[$0 * n + j].magnitude }.max()!
            if largest / 127 > 0 { scales[j] = largest / 127 }  // 0 or underflowing: 1
        }
        let q = (0..<(k * n)).map { Int32(min(max((w[$0] / scales[$0 % n]).rounded(.toNearestOrEven), -127), 127)) }
        var out: [Float] = []
        for r in 0..<rows {
            let row = x[(r * k)..<((r + 1) * k)]
            let low = min(0, row.min()!), high = max(0, row.max()!)
            let scale: Float = high == low ? 1 : (high - low) / 255
            let zero = min(max(0 - low / scale, 0), 255).rounded(.toNearestOrAwayFromZero)
            let a = row.map { Int32(min(max(($0 / scale).rounded(.toNearestOrEven) + zero, 0), 255)) }
            for j in 0..<n {
                var sum: Int32 = 0
                for p in 0..<k { sum += (a[p] - Int32(zero)) * q[p * n + j] }
                out.append(max(Float(sum) * (scale * scales[j]) + bias[j], 0))
            }
        }
        return out
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func int8LayerMatchesItsDefinition(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var w = Self.floats(&rng, Self.k * Self.n, in: -2...2)
        w[1] = 0; w[4] = 0; w[7] = 0; w[10] = 0; w[13] = 0; w[16] = 0  // a column of zeros (scale 1)
        if seed == 2 { w[4] = .leastNonzeroMagnitude; w[13] = -2 * .leastNonzeroMagnitude }  // a column whose max / 127 underflows to 0 (scale 1)
        let bias = Self.floats(&rng, Self.n)
        let rows = 37
        var x = Self.floats(&rng, rows * Self.k, in: -5...5)
        for j in 0..<Self.k { x[j] = 0; x[Self.k + j] = -Float(j + 1) }  // an all-zero row, an all-negative one
        let (got, plan) = try Self.run(Self.gemm(weights: w, bias: bias), x, rows: rows, precision: .int8)
        #expect(plan.steps.count == 1)
        guard case .quantizedLinear = plan.steps[0].kind else { Issue.record("not an int8 step: \(plan.steps[0].kind)"); return }
        let expected = Self.reference(x, rows: rows, weights: w, bias: bias)
        #expect(got.map { $0.bitPattern } == expected.map { $0.bitPattern })
        // And not the float32 result: the precision did something.
        let (float, _) = try Self.run(Self.gemm(weights: w, bias: bias), x, rows: rows, precision: .float32)
        #expect(float != got)
    }

    /// A record with a NaN or an infinity among a layer's inputs scores NaN (as float32 would),
    /// and the other records of its batch are not affected.
    @Test func int8RowsWithANaNOrAnInfinityScoreNaN() throws {
        var rng = SplitMix64(seed: 4)
        let w = Self.floats(&rng, Self.k * Self.n, in: -2...2), bias = Self.floats(&rng, Self.n)
        var x = Self.floats(&rng, 4 * Self.k, in: -3...3)
        x[Self.k + 2] = .nan
        x[2 * Self.k] = -.infinity
        let (got, _) = try Self.run(Self.gemm(weights: w, bias: bias), x, rows: 4, precision: .int8)
        let expected = Self.reference(Array(x[0..<Self.k]) + Array(x[(3 * Self.k)...]), rows: 2, weights: w, bias: bias)
        #expect(got[0..<Self.n].map(\.bitPattern) == expected[0..<Self.n].map(\.bitPattern))
        #expect(got[(3 * Self.n)...].map(\.bitPattern) == expected[Self.n...].map(\.bitPattern))
        let nans = got[Self.n..<(3 * Self.n)].allSatisfy { $0.isNaN }
        #expect(nans, "\(got)")
    }

    @Test func int8RefusesWeightsWithoutAnInt8Value() throws {
        var w = [Float](repeating: 0.5, count: Self.k * Self.n)
        w[4] = .infinity
        do {
            _ = try Self.run(Self.gemm(weights: w, bias: [0, 0, 0]), [Float](repeating: 1, count: Self.k), rows: 1, precision: .int8)
            Issue.record("int8 took an infinite weight")
        } catch {
            let message = "\(error)"
            #expect(message.contains("precision int8: the weights hold inf") && message.contains("fc"), "\(message)")
        }
        // float32 runs it as written.
        _ = try Self.run(Self.gemm(weights: w, bias: [0, 0, 0]), [Float](repeating: 1, count: Self.k), rows: 1, precision: .float32)
    }

    @Test func bf16RoundsTheWeightsOnly() throws {
        var rng = SplitMix64(seed: 9)
        let w = Self.floats(&rng, Self.k * Self.n, in: -2...2), bias = Self.floats(&rng, Self.n)
        let x = Self.floats(&rng, 20 * Self.k, in: -3...3)
        let rounded = w.map { Float(bitPattern: UInt32(bfloat16($0)) << 16) }
        let (half, _) = try Self.run(Self.gemm(weights: w, bias: bias), x, rows: 20, precision: .bf16)
        let (expected, _) = try Self.run(Self.gemm(weights: rounded, bias: bias), x, rows: 20, precision: .float32)
        #expect(half.map { $0.bitPattern } == expected.map { $0.bitPattern })
    }
}
