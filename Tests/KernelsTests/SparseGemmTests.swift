import Testing
import Kernels
import TestSupport

@Suite struct SparseGemmTests {
    /// A random CSR matrix with m rows over k columns, about `density` full, repeats allowed.
    private static func randomCSR(m: Int, k: Int, density: Double, rng: inout SplitMix64)
        -> (rowStart: [UInt32], columns: [UInt32], values: [Float]) {
        var rowStart: [UInt32] = [0]
        var columns: [UInt32] = []
        var values: [Float] = []
        for _ in 0..<m {
            if k > 0 {
                let count = Int(Double(k) * density * Double.random(in: 0...2, using: &rng))
                for _ in 0..<count {
                    columns.append(UInt32.random(in: 0..<UInt32(k), using: &rng))
                    values.append(Float.random(in: -1...1, using: &rng))
                }
            }
            rowStart.append(UInt32(columns.count))
        }
        columns.append(0)  // never empty: the kernels take non-optional pointers
        values.append(0)
        return (rowStart, columns, values)
    }

    @Test("sparseGemm matches the reference", arguments: [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 143])
    func matchesReference(n: Int) {
        var rng = SplitMix64(seed: UInt64(n) &+ 99)
        for (shape, (m, k)) in [(0, 5), (1, 1), (7, 40), (9, 300), (33, 17), (4, 4099)].enumerated() {
            let csr = Self.randomCSR(m: m, k: k, density: 0.05, rng: &rng)
            let b = rng.floats(max(k * n, 1))
            let ldc = n + 1
            for withBias in [false, true] {
                let bias: [Float]? = withBias ? rng.floats(n) : nil
                // Two activations per setting, all four per n across the shapes (debug-build time).
                for offset in [0, 2] {
                    let activation = allActivations[(shape + (withBias ? 1 : 0) + offset) % allActivations.count]
                    var fast = [Float](repeating: 7, count: max(m * ldc, 1))
                    var slow = fast
                    bias.withOptionalPointer { bias in
                        sparseGemm(m: m, rowStart: csr.rowStart, columns: csr.columns, values: csr.values,
                                   b: b, n: n, bias: bias, activation: activation, c: &fast, ldc: ldc, k: k)
                        sparseGemmReference(m: m, rowStart: csr.rowStart, columns: csr.columns,
                                            values: csr.values, b: b, n: n, bias: bias,
                                            activation: activation, c: &slow, ldc: ldc)
                    }
                    var bad = 0
                    for i in 0..<m {
                        let entries = Int(csr.rowStart[i])..<Int(csr.rowStart[i + 1])
                        for j in 0..<n {
                            var absSum = Double(bias?[j].magnitude ?? 0)
                            for e in entries {
                                absSum += Double((csr.values[e] * b[Int(csr.columns[e]) * n + j]).magnitude)
                            }
                            let want = slow[i * ldc + j]
                            let tolerance = dotProductTolerance(k: entries.count, absSum: absSum,
                                                                activation: activation, reference: want)
                            if !((fast[i * ldc + j] - want).magnitude <= tolerance) { bad += 1 }
                        }
                        if ldc > n { #expect(fast[i * ldc + n] == 7, "padding overwritten") }
                    }
                    #expect(bad == 0, "m=\(m) k=\(k) n=\(n) bias=\(withBias) \(activation)")
                }
            }
        }
    }

    @Test("an out-of-range column stops the process when k is given")
    func columnOutOfRange() async {
        await #expect(processExitsWith: .failure) {
            var c: [Float] = [0, 0]
            sparseGemm(m: 1, rowStart: [0, 1], columns: [2], values: [1], b: [1, 2, 3, 4], n: 2,
                       bias: nil, activation: .identity, c: &c, ldc: 2, k: 2)
        }
    }

    @Test("rowStart may start past 0 (a slice of a bigger CSR matrix)")
    func sliceOfCSR() {
        // Rows 1 and 2 of a 3-row matrix: entries 2..<3 and 3..<5.
        let rowStart: [UInt32] = [2, 3, 5]
        let columns: [UInt32] = [9, 9, 1, 0, 2]
        let values: [Float] = [99, 99, 2, 3, -1]
        let b: [Float] = [1, 10, 2, 20, 3, 30]  // 3 × 2
        var c = [Float](repeating: 0, count: 4)
        sparseGemm(m: 2, rowStart: rowStart, columns: columns, values: values, b: b, n: 2, bias: [0.5, 0],
                   activation: .identity, c: &c, ldc: 2, k: 3)
        #expect(c == [4.5, 40, 0.5, 0])
    }
}
