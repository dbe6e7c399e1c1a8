import Testing
import Kernels
import TestSupport

@Suite struct SoftmaxTests {
    static let shapes: [(rows: Int, cols: Int)] =
        [(0, 5), (1, 0), (3, 1), (2, 7), (5, 8), (4, 9), (3, 15), (3, 16), (3, 17), (2, 31), (2, 33), (2, 4099),
         (300, 7), (1100, 1), (150, 15)]  // the last three span several chunks of the narrow path

    private static func input(rows: Int, cols: Int, ld: Int) -> [Float] {
        var rng = SplitMix64(seed: UInt64(rows * 7919 + cols))
        return rng.floats(max(rows * ld, 1), in: -30...30)
    }

    /// Each output is e^(x - max) (a few ulp) divided by a sum of `cols` such terms
    /// (relative error <= cols * u): allow (exp ulps + 2 + cols) ulps of the result.
    @Test("softmaxRows vs the reference, strided", arguments: shapes)
    func softmax(rows: Int, cols: Int) {
        let ld = cols + 3
        let original = Self.input(rows: rows, cols: cols, ld: ld)
        var fast = original
        var slow = original
        softmaxRows(&fast, rows: rows, cols: cols, ld: ld)
        softmaxRowsReference(&slow, rows: rows, cols: cols, ld: ld)
        var bad = 0
        for r in 0..<rows {
            var sum: Float = 0
            for j in 0..<ld {
                let i = r * ld + j
                if j >= cols {
                    #expect(fast[i] == original[i], "padding overwritten")
                    continue
                }
                let tolerance = Float(ExpTests.maxUlps + 2 + Float(cols)) * ulp(slow[i])
                if !((fast[i] - slow[i]).magnitude <= tolerance) { bad += 1 }
                sum += fast[i]
            }
            if cols > 0 { #expect((sum - 1).magnitude <= Float(cols + 2) * .ulpOfOne) }
        }
        #expect(bad == 0)
    }

    /// (x - max) - log(sum): each part rounds once, and a relative error e in the sum moves
    /// log(sum) by e, so the bound is absolute.
    @Test("logSoftmaxRows vs the reference, strided", arguments: shapes)
    func logSoftmax(rows: Int, cols: Int) {
        let ld = cols + 1
        let original = Self.input(rows: rows, cols: cols, ld: ld)
        var fast = original
        var slow = original
        logSoftmaxRows(&fast, rows: rows, cols: cols, ld: ld)
        logSoftmaxRowsReference(&slow, rows: rows, cols: cols, ld: ld)
        var bad = 0
        for r in 0..<rows {
            for j in 0..<ld {
                let i = r * ld + j
                if j >= cols {
                    #expect(fast[i] == original[i], "padding overwritten")
                    continue
                }
                let tolerance = 4 * (ulp(slow[i]) + ulp(original[i]) + 60 * .ulpOfOne)
                    + Float(cols + 4) * .ulpOfOne
                if !((fast[i] - slow[i]).magnitude <= tolerance) { bad += 1 }
            }
        }
        #expect(bad == 0)
    }

    @Test("extreme rows: huge spreads stay finite, +inf and NaN rows become NaN")
    func extremes() {
        var x: [Float] = [1000, -1000, 0, 88, 1e30, -1e30, 3, 3, .infinity, 1, 2, 3, .nan, 1, 2, 3]
        softmaxRows(&x, rows: 4, cols: 4, ld: 4)
        #expect(x[0] == 1 && x[1] == 0 && x[2] == 0 && x[3] == 0)
        #expect(x[4] == 1 && x[5] == 0 && x[6] == 0 && x[7] == 0)
        #expect(x[8...15].allSatisfy { $0.isNaN })
        var y: [Float] = [1000, -1000, 0, 88]
        logSoftmaxRows(&y, rows: 1, cols: 4, ld: 4)
        #expect(y == [0, -2000, -1000, -912])
    }

    @Test("rows of 20 (the vector path) follow the same special-value rules")
    func wideExtremes() {
        var x = [Float](repeating: 0, count: 4 * 20)
        x[0] = 1000                                    // row 0: one huge value wins outright
        x[20 + 17] = .infinity                         // row 1: +inf → NaN
        x[40 + 19] = .nan                              // row 2: NaN → NaN
        for j in 60..<80 { x[j] = -.infinity }         // row 3: all -inf → NaN
        softmaxRows(&x, rows: 4, cols: 20, ld: 20)
        #expect(x[0] == 1 && x[1..<20].allSatisfy { $0 == 0 })
        #expect(x[20..<80].allSatisfy { $0.isNaN })
    }
}
