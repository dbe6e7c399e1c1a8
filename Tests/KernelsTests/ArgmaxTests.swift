import Testing
import Kernels

@Suite struct ArgmaxTests {
    @Test("argmaxRows equals the reference exactly, with ties and NaNs", arguments: awkwardSizes)
    func matchesReference(cols: Int) {
        var rng = SplitMix64(seed: UInt64(cols) + 5)
        let rows = 13
        let ld = cols + 2
        // Few distinct values so that ties are common.
        var x = (0..<max(rows * ld, 1)).map { _ in Float(Int.random(in: -3...3, using: &rng)) }
        if cols > 0 {
            x[2 * ld + cols - 1] = .nan
            x[5 * ld] = .nan
            x[7 * ld + cols / 2] = .infinity
        }
        var fast = [Int32](repeating: 99, count: rows)
        var slow = fast
        argmaxRows(x, rows: rows, cols: cols, ld: ld, into: &fast)
        argmaxRowsReference(x, rows: rows, cols: cols, ld: ld, into: &slow)
        #expect(fast == slow)
    }

    @Test("first maximum wins, NaN wins, empty rows give -1")
    func rules() {
        let x: [Float] = [1, 3, 3, 2, -.infinity, -.infinity, .nan, 5, 0, 4, .nan, .nan]
        var out = [Int32](repeating: 99, count: 3)
        argmaxRows(x, rows: 3, cols: 4, ld: 4, into: &out)
        #expect(out == [1, 2, 2])
        argmaxRows(x, rows: 3, cols: 0, ld: 4, into: &out)
        #expect(out == [-1, -1, -1])
    }
}
