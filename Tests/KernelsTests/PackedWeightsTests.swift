import Testing
import Kernels
import TestSupport

@Suite struct PackedWeightsTests {
    @Test("unpacked() returns B, for plain and transposed input", arguments: [0, 1, 7, 16, 17, 33, 65])
    func roundTrip(n: Int) {
        var rng = SplitMix64(seed: UInt64(n))
        for k in [0, 1, 5, 17] {
            let b = rng.floats(k * n)
            #expect(PackedWeights(b, k: k, n: n).unpacked() == b)
            var bt = [Float](repeating: 0, count: k * n)
            for row in 0..<k {
                for column in 0..<n { bt[column * k + row] = b[row * n + column] }
            }
            let packed = PackedWeights(bt, k: k, n: n, transposed: true)
            #expect(packed.unpacked() == b)
            #expect(packed.k == k && packed.n == n)
        }
    }

    @Test("a buffer of the wrong size stops the process")
    func wrongSize() async {
        await #expect(processExitsWith: .failure) {
            _ = PackedWeights([1, 2, 3], k: 2, n: 2)
        }
    }
}
