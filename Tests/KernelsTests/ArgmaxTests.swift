import Testing
import Kernels
import TestSupport

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

    @Test("every NaN rule, tie rule and stride equals the reference", arguments: awkwardSizes)
    func optionsMatchReference(cols: Int) {
        var rng = SplitMix64(seed: UInt64(cols) + 11)
        let rows = 9
        for stride in [1, 3] {
            // Rows of `cols` values `stride` apart: stride 1 gives contiguous rows `cols + 1`
            // apart, stride 3 interleaves three rows per block (row r starts at r % 3, block r / 3).
            let ld = stride == 1 ? cols + 1 : 1
            let count = stride == 1 ? rows * ld : (rows + 2) * max(cols, 1) * stride
            var x = (0..<max(count, 1)).map { _ in Float(Int.random(in: -2...2, using: &rng)) }
            for i in Swift.stride(from: 4, to: x.count, by: 17) { x[i] = .nan }
            x.withUnsafeBufferPointer { x in
                for nan in [ArgmaxNaN.largest, .unordered] {
                    for ties in [ArgmaxTie.first, .last] {
                        var fast = [Int32](repeating: 99, count: 3)
                        var slow = fast
                        for first in Swift.stride(from: 0, to: rows, by: 3) {
                            let start = x.baseAddress! + (stride == 1 ? first * ld : first / 3 * cols * stride)
                            argmaxRows(start, rows: 3, cols: cols, ld: ld, stride: stride, nan: nan, ties: ties, into: &fast)
                            argmaxRowsReference(start, rows: 3, cols: cols, ld: ld, stride: stride, nan: nan, ties: ties,
                                                into: &slow)
                            #expect(fast == slow, "stride \(stride), \(nan), \(ties), rows from \(first)")
                        }
                    }
                }
            }
        }
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

    @Test("the last maximum with .last; a NaN passed over unless first with .unordered")
    func otherRules() {
        let x: [Float] = [1, 3, 3, 2, -.infinity, -.infinity, .nan, 5, 0, 4, .nan, .nan, .nan, 1, 7, 7]
        var out = [Int32](repeating: 99, count: 4)
        argmaxRows(x, rows: 4, cols: 4, ld: 4, ties: .last, into: &out)
        #expect(out == [2, 2, 3, 0])
        argmaxRows(x, rows: 4, cols: 4, ld: 4, nan: .unordered, into: &out)
        #expect(out == [1, 3, 1, 0])
        argmaxRows(x, rows: 4, cols: 4, ld: 4, nan: .unordered, ties: .last, into: &out)
        #expect(out == [2, 3, 1, 0])
        let zeros: [Float] = [-0.0, 0.0, -0.0]
        argmaxRows(zeros, rows: 1, cols: 3, ld: 3, into: &out)
        #expect(out[0] == 0, "-0 and +0 are equal")
    }

    @Test("values `stride` apart: one axis of a row-major tensor")
    func strided() {
        // A [2, 3] tensor per item; the argmax over axis 0 of each column (3 rows one float apart).
        let x: [Float] = [1, 9, 3,
                          4, 2, 3]
        var out = [Int32](repeating: 99, count: 3)
        argmaxRows(x, rows: 3, cols: 2, ld: 1, stride: 3, into: &out)
        #expect(out == [1, 0, 0])
        argmaxRows(x, rows: 3, cols: 2, ld: 1, stride: 3, ties: .last, into: &out)
        #expect(out == [1, 0, 1])
    }
}
