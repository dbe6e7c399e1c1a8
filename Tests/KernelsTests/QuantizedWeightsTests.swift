import Testing
import Kernels
import TestSupport

@Suite struct QuantizedWeightsTests {
    @Test("centeredValues() is B − z for every layout, plain and transposed", arguments: Int8Kernel.allCases)
    func centered(kernel: Int8Kernel) {
        var rng = SplitMix64(seed: 11)
        for (k, n) in [(0, 3), (1, 1), (5, 17), (7, 33), (4, 10), (9, 48)] {
            for uint8 in [false, true] {
                let range: ClosedRange<Int32> = uint8 ? 0...255 : -128...127
                let b = (0..<(k * n)).map { _ in Int32.random(in: range, using: &rng) }
                let z = (0..<n).map { _ in Int32.random(in: range, using: &rng) }
                let want = (0..<(k * n)).map { b[$0] - z[$0 % n] }
                #expect(QuantizedWeights(b, k: k, n: n, zeroPoints: z, kernel: kernel).centeredValues() == want)
                var bt = [Int32](repeating: 0, count: k * n)
                for row in 0..<k {
                    for column in 0..<n { bt[column * k + row] = b[row * n + column] }
                }
                let transposed = QuantizedWeights(bt, k: k, n: n, zeroPoints: z, transposed: true, kernel: kernel)
                #expect(transposed.centeredValues() == want)
            }
        }
    }

    @Test("the default packing is for the best path, or AVX2 when no int8 offset fits the values")
    func defaultKernel() {
        #expect(QuantizedWeights([1, 2, 3, 4], k: 2, n: 2, zeroPoints: [0]).kernel == Int8Kernel.best)
        let mixed = QuantizedWeights([-100, 200, 3, 4], k: 2, n: 2, zeroPoints: [50])
        #expect(mixed.kernel == (Int8Kernel.best == .vnni ? .avx2 : Int8Kernel.best))
        #expect(mixed.centeredValues() == [-150, 150, -47, -46])
    }

    @Test("weights rebuilt from their buffers (a weight cache) compute the same C", arguments: Int8Kernel.allCases)
    func fromBuffers(kernel: Int8Kernel) throws {
        try skipUnlessSupported(kernel)
        let test = Int8Case(m: 19, k: 70, n: 45, weights: .uint8, perColumn: true, pad: 1, seed: 3)
        let packed = test.pack(kernel)
        // Copies in memory this side does not own, as a mapped file would be.
        let copies = packed.buffers.map { buffer in
            let owner = WeightBuffer(byteCount: buffer.byteCount) { $0.copyMemory(from: buffer.bytes) }
            return WeightBuffer(borrowing: owner.base, byteCount: owner.byteCount, owner: owner)
        }
        let rebuilt = try #require(QuantizedWeights(k: test.k, n: test.n, kernel: kernel, buffers: copies))
        #expect(rebuilt.buffers.allSatisfy { $0.isBorrowed })
        #expect(rebuilt.centeredValues() == packed.centeredValues())
        #expect(test.run(rebuilt) == test.exact())
    }

    @Test("buffers that do not fit are refused", arguments: Int8Kernel.allCases)
    func invalidBuffers(kernel: Int8Kernel) throws {
        try skipUnlessSupported(kernel)
        let packed = QuantizedWeights((0..<(5 * 20)).map { Int32($0 % 256) }, k: 5, n: 20, zeroPoints: [3], kernel: kernel)
        let buffers = packed.buffers
        #expect(QuantizedWeights(k: 5, n: 20, kernel: kernel, buffers: buffers) != nil)
        #expect(QuantizedWeights(k: 9, n: 20, kernel: kernel, buffers: buffers) == nil)
        #expect(QuantizedWeights(k: 5, n: 40, kernel: kernel, buffers: buffers) == nil)
        #expect(QuantizedWeights(k: 5, n: 20, kernel: kernel, buffers: Array(buffers.dropLast())) == nil)
        #expect(QuantizedWeights(k: 5, n: 20, kernel: kernel, buffers: buffers + buffers) == nil)
        // A nonzero byte in the padding (k = 5 pads to 6 or 8; n = 20 pads to 32 or 24 columns).
        let corrupted = WeightBuffer(byteCount: buffers[0].byteCount) { bytes in
            bytes.copyMemory(from: buffers[0].bytes)
            bytes[bytes.count - 1] = 1
        }
        #expect(QuantizedWeights(k: 5, n: 20, kernel: kernel, buffers: [corrupted] + buffers.dropFirst()) == nil)
        // Misaligned panels.
        let shifted = WeightBuffer(byteCount: buffers[0].byteCount + 1) { $0.baseAddress!.advanced(by: 1).copyMemory(
            from: buffers[0].bytes.baseAddress!, byteCount: buffers[0].byteCount) }
        let misaligned = WeightBuffer(borrowing: shifted.base + 1, byteCount: buffers[0].byteCount, owner: shifted)
        #expect(QuantizedWeights(k: 5, n: 20, kernel: kernel, buffers: [misaligned] + buffers.dropFirst()) == nil)
    }

    @Test("a k past the exact Int32 range stops the process")
    func tooDeep() async {
        await #expect(processExitsWith: .failure) {
            _ = QuantizedWeights([Int32](repeating: 1, count: QuantizedWeights.maxK + 1), k: QuantizedWeights.maxK + 1,
                                 n: 1, zeroPoints: [0])
        }
    }

    @Test("a value minus its zero point outside -255...255 stops the process")
    func outOfRange() async {
        await #expect(processExitsWith: .failure) {
            _ = QuantizedWeights([-128, 0], k: 1, n: 2, zeroPoints: [200])
        }
    }
}
