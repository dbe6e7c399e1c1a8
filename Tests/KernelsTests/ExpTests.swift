import Testing
import Kernels
import TestSupport

@Suite struct ExpTests {
    /// Error allowed to the vector exp over libm's `expf` (itself correctly rounded or within
    /// 1 ulp), in ulps of the reference; subnormal results count in units of the smallest one.
    static let maxUlps: Float = 2

    /// Runs both versions on `input` and returns the worst ulp distance and where it was.
    private static func worst(_ input: [Float]) -> (ulps: Float, at: Float) {
        var fast = input
        var slow = input
        expInPlace(&fast, count: fast.count)
        expInPlaceReference(&slow, count: slow.count)
        var worst: (ulps: Float, at: Float) = (0, 0)
        for i in input.indices {
            let d = ulpDistance(fast[i], slow[i])
            if !(d <= worst.ulps) { worst = (d, input[i]) }
        }
        return worst
    }

    @Test("special values: overflow to +inf, underflow to 0, NaN passes through")
    func specials() {
        let input: [Float] = [-.infinity, -104, -103.97, -103.9, -100, -88, -87.3, -1, -0.0, 0, 1e-30,
                              1, 88, 88.72, 88.7228, 88.73, 89, 100, .infinity, .nan,
                              .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        var fast = input
        expInPlace(&fast, count: fast.count)
        #expect(fast[0] == 0)
        #expect(fast[1] == 0)
        #expect(fast[8] == 1 && fast[9] == 1 && fast[10] == 1)
        #expect(fast[15] == .infinity && fast[16] == .infinity && fast[17] == .infinity)
        #expect(fast[18] == .infinity && fast[20] == .infinity && fast[21] == 0)
        #expect(fast[19].isNaN)
        let (ulps, at) = Self.worst(input)
        #expect(ulps <= Self.maxUlps, "worst \(ulps) ulp at x = \(at)")
    }

    /// Every float from -104 to 89 with a stride through the bit patterns, both signs.
    @Test("dense sweep over the whole useful range, by bit pattern", arguments: [UInt32(0), 0x8000_0000])
    func sweep(sign: UInt32) {
        let top = sign == 0 ? Float(89).bitPattern : Float(104).bitPattern
        var input: [Float] = []
        var bits: UInt32 = 0
        while bits <= top {
            input.append(Float(bitPattern: bits | sign))
            bits += 1999
        }
        let (ulps, at) = Self.worst(input)
        #expect(ulps <= Self.maxUlps, "worst \(ulps) ulp at x = \(at)")
    }

    @Test("every length, so the vector tails are covered", arguments: awkwardSizes)
    func lengths(count: Int) {
        var rng = SplitMix64(seed: UInt64(count))
        let (ulps, at) = Self.worst(rng.floats(count, in: -90...90))
        #expect(ulps <= Self.maxUlps, "worst \(ulps) ulp at x = \(at)")
    }
}
