import Testing
import Kernels
import TestSupport

/// bfloat16 weights: rounding to the nearest bfloat16, and the GEMM on bfloat16 panels giving
/// exactly the float32 GEMM's bits on the rounded weights (the kernel widens each value exactly
/// and then runs the same operations in the same order).
@Suite struct BFloat16Tests {
    /// The float a bfloat16 stands for.
    static func float(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    @Test func roundsToNearestWithTiesToEven() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the tie goes to 1 (even mantissa).
        #expect(bfloat16(1 + 0x1p-8) == bfloat16(1))
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up.
        #expect(Self.float(bfloat16(1 + 3 * 0x1p-8)) == 1 + 0x1p-6)
        // Just above halfway rounds up, just below rounds down.
        #expect(Self.float(bfloat16(Float(bitPattern: 0x3F80_8001))) == 1 + 0x1p-7)
        #expect(Self.float(bfloat16(Float(bitPattern: 0x3F80_7FFF))) == 1)
        #expect(Self.float(bfloat16(-2.5)) == -2.5)
        #expect(Self.float(bfloat16(.infinity)) == .infinity)
        #expect(Self.float(bfloat16(-.infinity)) == -.infinity)
        #expect(Self.float(bfloat16(.greatestFiniteMagnitude)) == .infinity)  // above bfloat16's largest
        #expect(Self.float(bfloat16(.nan)).isNaN)
        #expect(Self.float(bfloat16(Float(bitPattern: 0x7F80_0001))).isNaN)  // a NaN whose top half is inf
        #expect(bfloat16(-0.0) == 0x8000)
    }

    @Test func everyRoundingIsTheNearest() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<100_000 {
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            guard x.isFinite, x.magnitude < 0x1p127 else { continue }
            let h = Self.float(bfloat16(x))
            let down = Float(bitPattern: x.bitPattern & 0xFFFF_0000)
            let up = down.nextUp.isFinite ? Float(bitPattern: (x.bitPattern & 0xFFFF_0000) &+ 0x1_0000) : down
            let best = (x - down).magnitude <= (up - x).magnitude ? down : up
            #expect((x - h).magnitude == (x - best).magnitude, "bfloat16(\(x)) = \(h)")
        }
    }

    @Test(arguments: [(1, 1, 1), (6, 64, 16), (7, 33, 10), (13, 17, 40), (256, 64, 256), (3, 0, 9), (0, 5, 5)])
    func gemmOnBFloat16PanelsEqualsFloatGemmOnRoundedWeights(m: Int, k: Int, n: Int) {
        var rng = SplitMix64(seed: UInt64(m * 1000 + k * 10 + n))
        let w = rng.floats(k * n, in: -4...4)
        let rounded = w.map { Self.float(bfloat16($0)) }
        let half = PackedWeights(w, k: k, n: n).converted(to: .bfloat16)
        #expect(half.format == .bfloat16 && half.buffer.byteCount == PackedWeights.panelFloatCount(k: k, n: n) * 2)
        #expect(half.unpacked() == rounded)
        let float = PackedWeights(rounded, k: k, n: n)
        let a = rng.floats(max(m * k, 1))
        let bias = rng.floats(n)
        for activation in [Activation.identity, .relu, .sigmoid, .tanh] {
            var c1 = [Float](repeating: .nan, count: max(m * n, 1))
            var c2 = c1
            a.withUnsafeBufferPointer { a in bias.withUnsafeBufferPointer { bias in
                c1.withUnsafeMutableBufferPointer {
                    gemm(m: m, a: a.baseAddress!, lda: k, b: half, bias: bias.baseAddress, activation: activation,
                         c: $0.baseAddress!, ldc: n)
                }
                c2.withUnsafeMutableBufferPointer {
                    gemm(m: m, a: a.baseAddress!, lda: k, b: float, bias: bias.baseAddress, activation: activation,
                         c: $0.baseAddress!, ldc: n)
                }
            } }
            #expect(zip(c1, c2).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(activation)")
        }
        // Back to float32 is exact.
        #expect(half.converted(to: .float32).unpacked() == rounded)
    }

    @Test func storedPanelsAreAcceptedOnlyWhenTheyFit() {
        let half = PackedWeights([Float](repeating: 0.5, count: 12), k: 3, n: 4).converted(to: .bfloat16)
        #expect(PackedWeights(k: 3, n: 4, format: .bfloat16, buffer: half.buffer) != nil)
        #expect(PackedWeights(k: 3, n: 4, format: .float32, buffer: half.buffer) == nil)  // half the bytes
        #expect(PackedWeights(k: 4, n: 4, format: .bfloat16, buffer: half.buffer) == nil)
    }
}
