@testable import AggregateStage
import Testing
import TestSupport

/// `ShortestFloat` against the definition of its output, `Float.description` (what the stage
/// wrote before it, through `Float.write(to:)`): same bytes for every value tried.
///
/// The whole Float32 range (2^32 bit patterns) was compared the same way once, with a release
/// build (about 7 minutes on one core), all equal: see the commit that added this file. Again when
/// the writer began taking the digits from `FloatDigits` (SIMD lanes): every bit pattern, written
/// alone and from the batch's digits (chunks of 65536), against `Float.description`: 0 mismatches
/// of 4,278,190,080 finite values (683 s on a shared machine; see that commit). Here: the special
/// values, a million random bit patterns, and every value of a few binades, both ways, so that
/// the suite stays fast.
@Suite struct ShortestFloatTests {
    /// The formatter's text for `x`.
    static func text(_ x: Float) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            let n = ShortestFloat.write(x, to: buffer.baseAddress!)
            precondition(n <= ByteCursor.maxFloat)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
        }
    }

    /// The texts of `values` from digits computed for all of them together (`FloatDigits`, as
    /// the record writer does), non-finite values as "-".
    static func batchTexts(_ values: [Float]) -> [String] {
        let digits = FloatDigits(capacity: 8)
        values.withUnsafeBufferPointer { digits.compute($0) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            values.indices.map { i in
                guard values[i].isFinite else { return "-" }
                let n = ShortestFloat.write(values[i], head: digits.heads[i], eight: digits.eights[i], to: buffer.baseAddress!)
                precondition(n <= ByteCursor.maxFloat)
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
            }
        }
    }

    /// Compares the bit patterns `bits` (NaNs and infinities skipped), each written alone and in
    /// a batch (SIMD lanes, in every lane position and in a batch's tail); returns the mismatches.
    static func mismatches<S: Sequence>(_ bits: S) -> [String] where S.Element == UInt32 {
        var found: [String] = []
        let values = bits.map { Float(bitPattern: $0) }
        // Batches of 1 to 17 values: every tail length, every lane.
        var batched: [String] = []
        var start = 0, size = 1
        while start < values.count {
            let end = min(start + size, values.count)
            batched += batchTexts(Array(values[start..<end]))
            start = end
            size = size % 17 + 1
        }
        for (x, batchText) in zip(values, batched) {
            guard x.isFinite else { continue }
            let ours = text(x), reference = x.description
            if (ours != reference || batchText != reference) && found.count < 10 {
                found.append("0x\(String(x.bitPattern, radix: 16)): \(ours) (batch \(batchText)) instead of \(reference)")
            }
        }
        return found
    }

    @Test func specialValues() {
        var values: [Float] = [0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 0.5, 1e-4, 1e-5, Float(bitPattern: 1), 1e7, 1e8,
                               16_777_215, 16_777_216, 16_777_218, 33_554_430, 123_456_792, 8_388_608.5,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, .ulpOfOne,
                               .pi, 9.999999e-5, 0.001, 100, 1e10, 1e-10, 1e38, 3.4e38, Float(bitPattern: 0x0080_0000)]
        for e in -149...127 {
            let p = Float(sign: .plus, exponent: e, significand: 1)
            values += [p, p.nextUp, p.nextDown]
        }
        for e in -45...38 {
            let p = Float("1e\(e)")!
            values += [p, p.nextUp, p.nextDown, 5 * p, 9.999999 * p]
        }
        values += values.map { -$0 }
        #expect(Self.mismatches(values.map(\.bitPattern)) == [])
        #expect(Self.text(0.07) == "0.07" && Self.text(1e-5) == "1e-05" && Self.text(1e8) == "1e+08")
        #expect(Self.text(-0.0) == "-0.0" && Self.text(16_777_216) == "16777216.0")
        #expect(Self.text(.greatestFiniteMagnitude) == "3.4028235e+38" && Self.text(-.leastNormalMagnitude) == "-1.1754944e-38")
    }

    @Test func randomBitPatterns() {
        var random = SplitMix64(seed: 61)
        #expect(Self.mismatches((0..<1_000_000).map { _ in UInt32(truncatingIfNeeded: random.next()) }) == [])
    }

    /// Every value of some binades: the subnormals' first ones, around 1, the ends of the
    /// decimal form (1e-4 and 2^24), up to the largest.
    static let slices: [ClosedRange<UInt32>] = [
        0x0000_0001...0x0004_0000,  // the least subnormals (1 to 6 digits)
        0x3F80_0000...0x3F84_0000,  // [1, 1.03)
        0x38CF_B717...0x38D3_B717,  // around 1e-4
        0x4B7E_0000...0x4B82_0000,  // around 2^24
        0x7F7B_FFFF...0x7F7F_FFFF,  // up to the greatest finite
    ]

    @Test(arguments: slices)
    func binadeSlices(_ bits: ClosedRange<UInt32>) {
        #expect(Self.mismatches(bits) == [])
    }

    /// The low halves of every binade's first significands: the power-of-two neighbourhoods,
    /// where the rounding interval is lopsided.
    @Test func everyBinadeStart() {
        let bits = (0..<255).flatMap { e in (UInt32(e) << 23)..<(UInt32(e) << 23 + 512) }
        #expect(Self.mismatches(bits) == [])
        #expect(Self.mismatches(bits.map { $0 | 0x8000_0000 }) == [])
    }

    /// The multipliers are 10^e rounded up to 64 bits: recomputed exactly, in big integers.
    @Test func tenPowersAreExact() {
        for e in -31...45 {
            var x = BigNatural(1)
            let shift: Int
            if e >= 0 {
                for _ in 0..<e { x.multiply(by: 10) }
                let log2 = x.bitWidth - 1
                #expect((e * 1_741_647) >> 19 == log2, "⌊log2 10^\(e)⌋")
                shift = 63 - log2
                if shift >= 0 { x.shiftLeft(shift) } else { x.shiftRight(-shift) }
            } else {
                var y = BigNatural(1)
                for _ in 0..<(-e) { y.multiply(by: 10) }
                let log2 = -y.bitWidth  // 10^-e is not a power of two: ⌊log2 10^e⌋ = −⌈log2 10^-e⌉
                #expect((e * 1_741_647) >> 19 == log2, "⌊log2 10^\(e)⌋")
                x.shiftLeft(63 - log2)
                for _ in 0..<(-e) { x.divide(by: 10) }
            }
            #expect(x.bitWidth == 64 && x.low64 &+ 1 == ShortestFloat.tenPowers[e + 31], "10^\(e)")
        }
    }
}

/// A natural number in 32-bit limbs (least significant first): just what checking the table needs.
struct BigNatural {
    var limbs: [UInt32]

    init(_ value: UInt32) { limbs = [value] }

    var bitWidth: Int {
        guard let top = limbs.lastIndex(where: { $0 != 0 }) else { return 0 }
        return top * 32 + 32 - limbs[top].leadingZeroBitCount
    }

    var low64: UInt64 { UInt64(limbs[0]) | (limbs.count > 1 ? UInt64(limbs[1]) << 32 : 0) }

    mutating func multiply(by m: UInt32) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let p = UInt64(limbs[i]) * UInt64(m) + carry
            limbs[i] = UInt32(truncatingIfNeeded: p)
            carry = p >> 32
        }
        if carry != 0 { limbs.append(UInt32(carry)) }
    }

    /// Floor division.
    mutating func divide(by d: UInt32) {
        var remainder: UInt64 = 0
        for i in limbs.indices.reversed() {
            let x = remainder << 32 | UInt64(limbs[i])
            limbs[i] = UInt32(x / UInt64(d))
            remainder = x % UInt64(d)
        }
    }

    mutating func shiftLeft(_ n: Int) {
        limbs = [UInt32](repeating: 0, count: n / 32) + limbs + [0]
        let bits = n % 32
        guard bits > 0 else { return }
        for i in limbs.indices.reversed() {
            limbs[i] = limbs[i] << bits | (i > 0 ? limbs[i - 1] >> (32 - bits) : 0)
        }
    }

    /// Floor division by 2^n.
    mutating func shiftRight(_ n: Int) {
        limbs.removeFirst(min(n / 32, limbs.count))
        let bits = n % 32
        guard bits > 0 else { return }
        for i in limbs.indices {
            limbs[i] = limbs[i] >> bits | (i + 1 < limbs.count ? limbs[i + 1] << (32 - bits) : 0)
        }
    }
}
