import Testing
import Kernels
import TestSupport

/// One gemm problem with random data, checked against `gemmReference` and the maths.
private struct GemmCase {
    let m: Int, k: Int, n: Int, lda: Int, ldc: Int
    let a: [Float], b: [Float], bias: [Float]?
    /// Σ|a·b| + |bias| for every output: the scale of its rounding error.
    let absSums: [Double]

    init(m: Int, k: Int, n: Int, padA: Int, padC: Int, withBias: Bool, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        self.m = m; self.k = k; self.n = n
        lda = k + padA
        ldc = n + padC
        a = rng.floats(max(m * lda, 1))  // never empty: the kernels take non-optional pointers
        b = rng.floats(k * n)
        let bias = withBias ? rng.floats(n) : nil
        self.bias = bias
        var absSums = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var absSum = Double(bias?[j].magnitude ?? 0)
                for p in 0..<k {
                    absSum += Double((a[i * lda + p] * b[p * n + j]).magnitude)
                }
                absSums[i * n + j] = absSum
            }
        }
        self.absSums = absSums
    }

    /// Runs the fast kernel (on `packed`) and the reference; returns the number of outputs out of
    /// bound and whether the padding between C rows survived.
    func check(_ packed: PackedWeights, activation: Activation) -> (bad: Int, paddingKept: Bool) {
        let sentinel: Float = -12345
        var fast = [Float](repeating: sentinel, count: max(m * ldc, 1))
        var slow = fast
        a.withUnsafeBufferPointer { a in
            bias.withOptionalPointer { bias in
                fast.withUnsafeMutableBufferPointer { c in
                    gemm(m: m, a: a.baseAddress!, lda: lda, b: packed, bias: bias, activation: activation,
                         c: c.baseAddress!, ldc: ldc)
                }
                (b.isEmpty ? [0] : b).withUnsafeBufferPointer { b in
                    slow.withUnsafeMutableBufferPointer { c in
                        gemmReference(m: m, k: k, n: n, a: a.baseAddress!, lda: lda, b: b.baseAddress!,
                                      bias: bias, activation: activation, c: c.baseAddress!, ldc: ldc)
                    }
                }
            }
        }
        var bad = 0
        var paddingKept = true
        for i in 0..<m {
            for j in 0..<ldc {
                let got = fast[i * ldc + j]
                if j >= n {
                    paddingKept = paddingKept && got == sentinel
                    continue
                }
                let want = slow[i * ldc + j]
                let tolerance = dotProductTolerance(k: k, absSum: absSums[i * n + j], activation: activation,
                                                    reference: want)
                if !((got - want).magnitude <= tolerance) { bad += 1 }
            }
        }
        return (bad, paddingKept)
    }
}

extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}

@Suite struct GemmTests {
    static let ms = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33]
    static let ns = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 65]
    static let ks = [0, 1, 7, 8, 9, 16, 17, 33]

    @Test("gemm matches the reference on a grid of m, n, k, all activations, with and without bias",
          arguments: ms, ns)
    func grid(m: Int, n: Int) {
        for (index, k) in Self.ks.enumerated() {
            for withBias in [false, true] {
                let seed = UInt64(m * 1_000_000 + n * 1000 + k * 2 + (withBias ? 1 : 0))
                let problem = GemmCase(m: m, k: k, n: n, padA: (m + k) % 3, padC: n % 2 * 3,
                                       withBias: withBias, seed: seed)
                let packed = PackedWeights(problem.b, k: k, n: n)
                // Each (m, n) meets every activation 4 times across the k values and bias
                // settings: the full product made this suite take 20 s in debug builds.
                let activation = allActivations[(2 * index + (withBias ? 1 : 0)) % allActivations.count]
                let (bad, paddingKept) = problem.check(packed, activation: activation)
                #expect(bad == 0, "m=\(m) n=\(n) k=\(k) bias=\(withBias) \(activation)")
                #expect(paddingKept, "m=\(m) n=\(n) k=\(k): wrote into C's row padding")
            }
        }
    }

    @Test("gemm on large awkward dimensions",
          arguments: [(3, 4099, 17), (9, 5, 4099), (4099, 9, 33), (31, 257, 100), (64, 64, 256)])
    func large(m: Int, k: Int, n: Int) {
        let problem = GemmCase(m: m, k: k, n: n, padA: 1, padC: 2, withBias: true, seed: UInt64(m + k + n))
        let packed = PackedWeights(problem.b, k: k, n: n)
        for activation in allActivations {
            let (bad, paddingKept) = problem.check(packed, activation: activation)
            #expect(bad == 0, "m=\(m) n=\(n) k=\(k) \(activation)")
            #expect(paddingKept)
        }
    }

    @Test("large inputs saturate sigmoid and tanh instead of producing NaN")
    func saturation() {
        let k = 4, n = 3
        let a: [Float] = [100, 100, 100, 100, -100, -100, -100, -100]
        let b = [Float](repeating: 1, count: k * n)
        let packed = PackedWeights(b, k: k, n: n)
        var c = [Float](repeating: 0, count: 2 * n)
        gemm(m: 2, a: a, lda: k, b: packed, bias: nil, activation: .sigmoid, c: &c, ldc: n)
        #expect(c == [1, 1, 1, 0, 0, 0])
        gemm(m: 2, a: a, lda: k, b: packed, bias: nil, activation: .tanh, c: &c, ldc: n)
        #expect(c == [1, 1, 1, -1, -1, -1])
    }

    @Test("a bad leading dimension stops the process")
    func badLeadingDimension() async {
        await #expect(processExitsWith: .failure) {
            let packed = PackedWeights([Float](repeating: 1, count: 6), k: 2, n: 3)
            var c = [Float](repeating: 0, count: 9)
            let a = [Float](repeating: 1, count: 6)
            gemm(m: 3, a: a, lda: 1, b: packed, bias: nil, activation: .identity, c: &c, ldc: 3)
        }
    }

    @Test("with one row, lda and ldc are not used (0 is accepted)")
    func singleRowIgnoresStrides() {
        var rng = SplitMix64(seed: 3)
        let k = 37, n = 21
        let a = rng.floats(k), b = rng.floats(k * n)
        let packed = PackedWeights(b, k: k, n: n)
        var fast = [Float](repeating: 0, count: n)
        var slow = fast
        gemm(m: 1, a: a, lda: 0, b: packed, bias: nil, activation: .identity, c: &fast, ldc: 0)
        gemmReference(m: 1, k: k, n: n, a: a, lda: k, b: b, bias: nil, activation: .identity, c: &slow, ldc: n)
        for j in 0..<n {
            var absSum = 0.0
            for p in 0..<k { absSum += Double((a[p] * b[p * n + j]).magnitude) }
            #expect((fast[j] - slow[j]).magnitude
                    <= dotProductTolerance(k: k, absSum: absSum, activation: .identity, reference: slow[j]))
        }
    }

    @Test("weights packed from a transposed (PyTorch Linear) buffer give the same product")
    func transposedWeights() {
        var rng = SplitMix64(seed: 4)
        let m = 13, k = 19, n = 27
        let a = rng.floats(m * k), b = rng.floats(k * n), bias = rng.floats(n)
        var bt = [Float](repeating: 0, count: k * n)
        for row in 0..<k {
            for column in 0..<n { bt[column * k + row] = b[row * n + column] }
        }
        var plain = [Float](repeating: 0, count: m * n)
        var transposed = plain
        gemm(m: m, a: a, lda: k, b: PackedWeights(b, k: k, n: n), bias: bias, activation: .tanh,
             c: &plain, ldc: n)
        gemm(m: m, a: a, lda: k, b: PackedWeights(bt, k: k, n: n, transposed: true), bias: bias,
             activation: .tanh, c: &transposed, ldc: n)
        // Same packed panels, same kernel, same order: the results are identical.
        #expect(plain == transposed)
    }
}
