import Testing
@testable import Kernels
import TestSupport

/// A row's result must not depend on the rows around it: the pipeline cuts batches by timing
/// (linger, idle input, replays after a crash), and its output must be byte-identical whatever
/// the cut. So every kernel that works on rows gives each row the same bits alone, in a small
/// batch, or at any position of a large one.
@Suite struct BatchInvarianceTests {
    @Test(arguments: [Activation.identity, .relu, .sigmoid, .tanh], [(k: 7, n: 3), (k: 64, n: 10), (k: 33, n: 17), (k: 256, n: 256)])
    func gemmRowsAreIndependentOfTheBatch(activation: Activation, shape: (k: Int, n: Int)) {
        var rng = SplitMix64(seed: UInt64(shape.k * 1000 + shape.n))
        let m = 37
        let a = rng.floats(m * shape.k, in: -3...3)
        let w = rng.floats(shape.k * shape.n, in: -1...1)
        let bias = rng.floats(shape.n)
        let packed = PackedWeights(w, k: shape.k, n: shape.n)
        func run(_ rows: Range<Int>) -> [Float] {
            var c = [Float](repeating: 0, count: rows.count * shape.n)
            a.withUnsafeBufferPointer { ap in
                bias.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        gemm(m: rows.count, a: ap.baseAddress! + rows.lowerBound * shape.k, lda: shape.k, b: packed,
                             bias: bp.baseAddress, activation: activation, c: cp.baseAddress!, ldc: shape.n)
                    }
                }
            }
            return c
        }
        let whole = run(0..<m)
        for split in [1, 2, 3, 5, 7, 11] {
            var pieces: [Float] = []
            var start = 0
            while start < m {
                let end = min(m, start + split)
                pieces += run(start..<end)
                start = end
            }
            #expect(pieces.map(\.bitPattern) == whole.map(\.bitPattern), "batches of \(split) rows")
        }
    }

    @Test(arguments: [2, 10, 16, 37])
    func softmaxRowsAreIndependentOfTheBatch(cols: Int) {
        var rng = SplitMix64(seed: UInt64(cols))
        let rows = 45
        let x = rng.floats(rows * cols, in: -20...20)
        var whole = x
        whole.withUnsafeMutableBufferPointer { softmaxRows($0.baseAddress!, rows: rows, cols: cols, ld: cols) }
        for r in 0..<rows {
            var one = Array(x[(r * cols)..<((r + 1) * cols)])
            one.withUnsafeMutableBufferPointer { softmaxRows($0.baseAddress!, rows: 1, cols: cols, ld: cols) }
            #expect(one.map(\.bitPattern) == whole[(r * cols)..<((r + 1) * cols)].map(\.bitPattern), "row \(r)")
        }
    }
}
