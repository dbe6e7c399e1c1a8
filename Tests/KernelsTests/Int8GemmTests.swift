import Testing
import Kernels
import TestSupport

/// One int8 GEMM problem: random A (uint8, with many 0s and 255s), B (int8 or uint8, with many
/// extremes) and zero points, strides with padding.
struct Int8Case: CustomStringConvertible {
    let m: Int, k: Int, n: Int, lda: Int, ldc: Int
    let a: [UInt8]
    let rowZeroPoints: [Int32]
    let b: [Int32]
    let zeroPoints: [Int32]

    enum Weights { case int8, uint8 }

    init(m: Int, k: Int, n: Int, weights: Weights, perColumn: Bool, pad: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        self.m = m; self.k = k; self.n = n
        lda = k + pad
        ldc = n + pad
        // Extremes a third of the time: they are where overflow or saturation would show.
        func byte(_ rng: inout SplitMix64) -> UInt8 {
            switch rng.next() % 6 {
            case 0: return 255
            case 1: return 0
            default: return UInt8.random(in: 0...255, using: &rng)
            }
        }
        a = (0..<max(m * lda, 1)).map { _ in byte(&rng) }
        rowZeroPoints = (0..<max(m, 1)).map { _ in Int32(byte(&rng)) }
        let range: ClosedRange<Int32> = weights == .int8 ? -128...127 : 0...255
        b = (0..<(k * n)).map { _ in
            switch rng.next() % 6 {
            case 0: return range.lowerBound
            case 1: return range.upperBound
            default: return Int32.random(in: range, using: &rng)
            }
        }
        zeroPoints = (0..<(perColumn ? n : 1)).map { _ in
            rng.next() % 4 == 0 ? range.upperBound : Int32.random(in: range, using: &rng)
        }
    }

    var description: String { "m=\(m) k=\(k) n=\(n) lda=\(lda) ldc=\(ldc) zeroPoints=\(zeroPoints.count)" }

    func pack(_ kernel: Int8Kernel) -> QuantizedWeights {
        QuantizedWeights(b, k: k, n: n, zeroPoints: zeroPoints, kernel: kernel)
    }

    /// C from `int8Gemm` on weights packed for `kernel`, sentinels between rows.
    func run(_ weights: QuantizedWeights, reference: Bool = false) -> [Int32] {
        var c = [Int32](repeating: Self.sentinel, count: max(m * ldc, 1))
        a.withUnsafeBufferPointer { a in
            rowZeroPoints.withUnsafeBufferPointer { z in
                c.withUnsafeMutableBufferPointer { c in
                    if reference {
                        int8GemmReference(m: m, a: a.baseAddress!, lda: lda, rowZeroPoints: z.baseAddress!, b: weights,
                                          c: c.baseAddress!, ldc: ldc)
                    } else {
                        int8Gemm(m: m, a: a.baseAddress!, lda: lda, rowZeroPoints: z.baseAddress!, b: weights,
                                 c: c.baseAddress!, ldc: ldc)
                    }
                }
            }
        }
        return c
    }

    /// The exact product computed here from the unpacked values, in Int64, with the same
    /// sentinels: what every path must give.
    func exact() -> [Int32] {
        var c = [Int32](repeating: Self.sentinel, count: max(m * ldc, 1))
        for i in 0..<m {
            for j in 0..<n {
                var sum: Int64 = 0
                let z = zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[j]
                for p in 0..<k {
                    sum += Int64(Int32(a[i * lda + p]) - rowZeroPoints[i]) * Int64(b[p * n + j] - z)
                }
                c[i * ldc + j] = Int32(sum)
            }
        }
        return c
    }

    static let sentinel: Int32 = -0x1234_5678
}

/// Every (m, k, n) the kernels must get right: m 0...20 and 256, k 0...70 (every residue of 4
/// and of 2), n from 1 to 40 and 10, 256 (full panels, narrow last panels, single columns).
let int8Shapes: [(m: Int, k: Int, n: Int)] = {
    let ms = Array(0...20) + [256]
    let ns = Array(1...40) + [10, 256]
    var shapes: [(Int, Int, Int)] = []
    for k in 0...70 {
        for (index, m) in ms.enumerated() where m < 256 || k % 9 == 0 {
            shapes.append((m, k, ns[(k * 7 + index * 5) % ns.count]))
        }
    }
    // Every n at least once with a full 8-row tile and a tail, and with a large m.
    for n in ns { shapes.append((13, 37, n)) }
    for n in [1, 10, 16, 17, 31, 32, 33, 256] { shapes.append((256, 64, n)) }
    return shapes
}()

/// All shapes with int8 and uint8 weights, per-tensor and per-column zero points, with and
/// without padding between rows: C must equal the exact product, bit for bit.
func checkAllShapes(_ kernel: Int8Kernel) -> [String] {
    var failures: [String] = []
    for (index, shape) in int8Shapes.enumerated() {
        let weights: Int8Case.Weights = index % 2 == 0 ? .int8 : .uint8
        let test = Int8Case(m: shape.m, k: shape.k, n: shape.n, weights: weights, perColumn: index % 3 != 0,
                            pad: index % 4 == 0 ? 0 : 3, seed: UInt64(index))
        if test.run(test.pack(kernel)) != test.exact() { failures.append(test.description) }
    }
    return failures
}

@Suite struct Int8GemmTests {
    @Test("VNNI path equals the exact product on every shape",
          .enabled(if: Int8Kernel.vnni.isSupported, "this CPU has no AVX-512 VNNI: the path is built but not run"))
    func vnniShapes() {
        #expect(checkAllShapes(.vnni) == [])
    }

    @Test("AVX2 path equals the exact product on every shape",
          .enabled(if: Int8Kernel.avx2.isSupported, "this CPU has no AVX2: the path is built but not run"))
    func avx2Shapes() {
        #expect(checkAllShapes(.avx2) == [])
    }

    @Test("scalar path equals the exact product on every shape")
    func scalarShapes() {
        #expect(checkAllShapes(.scalar) == [])
    }

    @Test("int8GemmReference equals the exact product, from every layout", arguments: Int8Kernel.allCases)
    func reference(kernel: Int8Kernel) {
        for (index, shape) in [(3, 5, 7), (9, 70, 33), (20, 4, 40), (1, 0, 5), (256, 13, 10)].enumerated() {
            let test = Int8Case(m: shape.0, k: shape.1, n: shape.2, weights: index % 2 == 0 ? .int8 : .uint8,
                                perColumn: true, pad: 2, seed: 100 + UInt64(index))
            #expect(test.run(test.pack(kernel), reference: true) == test.exact(), "\(test)")
        }
    }

    @Test("the largest magnitudes: a = 255 or 0 against B − z = ±255, summed over k", arguments: Int8Kernel.allCases)
    func extremes(kernel: Int8Kernel) throws {
        try skipUnlessSupported(kernel)
        // Up to the exact-sum limit itself: 255 · 255 · maxK still fits in Int32.
        for k in [1, 3, 4, 5, 64, 67, 1000, QuantizedWeights.maxK] {
            let n = 33
            // uint8 weights: 255 with zero point 0 (+255) and 0 with zero point 255 (−255);
            // int8 weights: 127 − (−128) = +255 and −128 − 127 = −255.
            let cases: [(b: [Int32], z: [Int32])] = [
                ((0..<(k * n)).map { $0 % n < 16 ? 255 : 0 }, (0..<n).map { $0 < 16 ? 0 : 255 }),
                ((0..<(k * n)).map { $0 % n < 16 ? 127 : -128 }, (0..<n).map { $0 < 16 ? -128 : 127 }),
            ]
            for (b, z) in cases {
                let weights = QuantizedWeights(b, k: k, n: n, zeroPoints: z, kernel: kernel)
                for (value, zero) in [(UInt8(255), Int32(0)), (UInt8(0), Int32(255))] {
                    let m = 9
                    let a = [UInt8](repeating: value, count: m * k)
                    let zeros = [Int32](repeating: zero, count: m)
                    var c = [Int32](repeating: 0, count: m * n)
                    int8Gemm(m: m, a: a, lda: k, rowZeroPoints: zeros, b: weights, c: &c, ldc: n)
                    let side = Int32(value) - zero
                    let want = (0..<(m * n)).map { side * ($0 % n < 16 ? 255 : -255) * Int32(k) }
                    #expect(c == want, "k=\(k) a=\(value) z=\(zero)")
                }
            }
        }
    }

    @Test("every row zero point and every weight zero point, one at a time", arguments: Int8Kernel.allCases)
    func allZeroPoints(kernel: Int8Kernel) throws {
        try skipUnlessSupported(kernel)
        var rng = SplitMix64(seed: 7)
        let (m, k, n) = (256, 11, 256)
        let a = (0..<(m * k)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let rowZeros = (0..<m).map { Int32($0) }  // every value 0...255, one per row
        let b = (0..<(k * n)).map { _ in Int32.random(in: 0...255, using: &rng) }
        let columnZeros = (0..<n).map { Int32(255 - $0) }
        let test = Int8Case(m: m, k: k, n: n, lda: k, ldc: n, a: a, rowZeroPoints: rowZeros, b: b, zeroPoints: columnZeros)
        #expect(test.run(test.pack(kernel)) == test.exact())
    }

    @Test("fused dequantization equals int8Gemm then dequantizeRowsReference, bit for bit",
          arguments: Int8Kernel.allCases)
    func fused(kernel: Int8Kernel) throws {
        try skipUnlessSupported(kernel)
        for (index, shape) in [(1, 64, 256), (20, 37, 10), (256, 256, 33), (7, 3, 1), (9, 70, 40), (0, 5, 5)].enumerated() {
            let test = Int8Case(m: shape.0, k: shape.1, n: shape.2, weights: index % 2 == 0 ? .int8 : .uint8,
                                perColumn: true, pad: index % 2 * 5, seed: 300 + UInt64(index))
            let weights = test.pack(kernel)
            let sums = test.run(weights)
            var rng = SplitMix64(seed: UInt64(index))
            let rowScales = rng.floats(max(test.m, 1), in: 1e-4...0.05)
            let bias = rng.floats(test.n, in: -3...3)
            for perColumn in [false, true] {
                let columnScales = rng.floats(perColumn ? test.n : 1, in: 1e-3...0.02)
                for activation in allActivations {
                    for withBias in [false, true] {
                        var want = [Float](repeating: -7, count: max(test.m * test.ldc, 1))
                        var got = want
                        bias.withUnsafeBufferPointer { biasBuffer in
                            let biasPointer = withBias ? biasBuffer.baseAddress : nil
                            dequantizeRowsReference(sums, rows: test.m, cols: test.n, ldc: test.ldc, rowScales: rowScales,
                                                    columnScales: columnScales, columnScaleCount: columnScales.count,
                                                    bias: biasPointer, activation: activation, &want, ldo: test.ldc)
                            int8GemmDequantized(m: test.m, a: test.a, lda: test.lda, rowZeroPoints: test.rowZeroPoints,
                                                rowScales: rowScales, b: weights, columnScales: columnScales,
                                                columnScaleCount: columnScales.count, bias: biasPointer,
                                                activation: activation, &got, ldo: test.ldc)
                        }
                        #expect(got.map(\.bitPattern) == want.map(\.bitPattern),
                                "\(test) \(activation) bias=\(withBias) perColumn=\(perColumn)")
                    }
                }
            }
        }
    }
}

extension Int8Case {
    /// A case with given values.
    init(m: Int, k: Int, n: Int, lda: Int, ldc: Int, a: [UInt8], rowZeroPoints: [Int32], b: [Int32], zeroPoints: [Int32]) {
        self.m = m; self.k = k; self.n = n; self.lda = lda; self.ldc = ldc
        self.a = a; self.rowZeroPoints = rowZeroPoints; self.b = b; self.zeroPoints = zeroPoints
    }
}

/// Cancels the current test case, visibly (reported as skipped with this note), when this CPU
/// cannot run `kernel`'s path: it is still compiled here, and runs on a machine that has it.
func skipUnlessSupported(_ kernel: Int8Kernel) throws {
    if !kernel.isSupported {
        try Test.cancel("this CPU cannot run the \(kernel) path; it is built but only tested on a CPU that has it")
    }
}
