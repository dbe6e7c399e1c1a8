/// The digits of a batch's Float32 values, computed together in SIMD lanes before the records are
/// written, so that writing a value is only placing its digits (`ShortestFloat.write(_:head:eight:to:)`).
///
/// Value i's digits: `eights[i]`, the last eight of nine in ASCII (second digit in the lowest
/// byte), and `heads[i]`, the first digit (a number, low byte) and the exponent of the last digit
/// (the rest, signed). Exactly `ShortestFloat.decimal` and `DecimalDigits.nine`, lane by lane.
/// Garbage for zeros, infinities and NaNs, which the writer spells without their digits.
final class FloatDigits {
    private(set) var eights: UnsafeMutablePointer<UInt64>
    private(set) var heads: UnsafeMutablePointer<UInt64>
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 8)
        eights = .allocate(capacity: self.capacity)
        heads = .allocate(capacity: self.capacity)
    }

    deinit {
        eights.deallocate()
        heads.deallocate()
    }

    /// Computes the digits of every value of `values`, replacing those of the last batch.
    func compute(_ values: UnsafeBufferPointer<Float>) {
        let n = values.count
        guard n > 0, let base = values.baseAddress else { return }
        if n > capacity {
            eights.deallocate()
            heads.deallocate()
            capacity = max(n, capacity * 2)
            eights = .allocate(capacity: capacity)
            heads = .allocate(capacity: capacity)
        }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i &+ 8 <= n {
            let (eight, head) = Self.lanes(raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<UInt32>.self))
            UnsafeMutableRawPointer(eights + i).storeBytes(of: eight, as: SIMD8<UInt64>.self)
            UnsafeMutableRawPointer(heads + i).storeBytes(of: head, as: SIMD8<UInt64>.self)
            i &+= 8
        }
        if i < n {
            var last = SIMD8<UInt32>()
            for j in i..<n { last[j &- i] = base[j].bitPattern }
            let (eight, head) = Self.lanes(last)
            for j in i..<n {
                eights[j] = eight[j &- i]
                heads[j] = head[j &- i]
            }
        }
    }

    typealias Lanes = SIMD8<UInt64>

    /// The digits of 8 values given by their bits: `ShortestFloat.decimal(magnitude:)` (see it
    /// for the method) and `DecimalDigits.nine`, the same operations in 64-bit lanes.
    ///
    /// Conditions are 0/1 lanes taken from the sign bit of a difference (every operand is below
    /// 2^62), masks all ones or zeros: SIMDMask's operations compile to lane-by-lane loops
    /// (measured: 19 ns per value with them, 5–8 without; the scalar path takes 13–17).
    /// Products of two numbers below 2^32 (masked so, for the compiler) are single vpmuludq.
    @inline(__always)
    static func lanes(_ bits32: SIMD8<UInt32>) -> (eight: Lanes, head: Lanes) {
        @inline(__always) func less(_ a: Lanes, _ b: Lanes) -> Lanes { (a &- b) &>> 63 }
        @inline(__always) func lessOrEqual(_ a: Lanes, _ b: Lanes) -> Lanes { less(b, a) ^ 1 }
        @inline(__always) func isZero(_ a: Lanes) -> Lanes { (a &- 1) &>> 63 }
        @inline(__always) func mask(_ bit: Lanes) -> Lanes { 0 &- bit }
        @inline(__always) func select(_ m: Lanes, _ a: Lanes, _ b: Lanes) -> Lanes { (a & m) | (b & ~m) }

        let bits = Lanes(truncatingIfNeeded: bits32) & 0x7FFF_FFFF
        let biased = bits &>> 23
        let fraction = bits & 0x7F_FFFF
        let subnormal = isZero(biased)
        let c = fraction | ((subnormal ^ 1) &<< 23)
        let q = biased &- 150 &+ subnormal  // −149 for subnormals; two's complement
        let one = Lanes(repeating: 1)
        let irregular = isZero(fraction) & less(one, biased)
        let cb = c &<< 2
        let cbr = cb &+ 2
        let cbl = cb &- 2 &+ irregular
        // Floor divisions by 2^20 and 2^19 of values that may be negative, made nonnegative
        // first (q ≥ −149, e ≥ −31) so that the shifts are logical.
        let kBiased: Lanes = q &* 315_653 &- irregular &* 131_237 &+ UInt64(64 << 20)
        let k = (kBiased &>> 20) &- 64
        let e = 0 &- k
        let index = e &+ 31  // 0...76 for every bit pattern, zeros, infinities and NaNs included
        let g = ShortestFloat.tenPowers.withUnsafeBufferPointer { t in
            Lanes(t[Int(truncatingIfNeeded: index[0])], t[Int(truncatingIfNeeded: index[1])],
                  t[Int(truncatingIfNeeded: index[2])], t[Int(truncatingIfNeeded: index[3])],
                  t[Int(truncatingIfNeeded: index[4])], t[Int(truncatingIfNeeded: index[5])],
                  t[Int(truncatingIfNeeded: index[6])], t[Int(truncatingIfNeeded: index[7])])
        }
        let log2Biased: Lanes = e &* 1_741_647 &+ UInt64(128 << 19)
        let h = (q &+ (log2Biased &>> 19) &- 127) & 7  // 0...4 for finite values
        let gLow = g & 0xFFFF_FFFF, gHigh = g &>> 32
        // The high 64 bits of g · (x << h), x << h < 2^30, from two 32 × 32-bit products; the
        // low 64 bits' upper half, ORed in as the sticky bit, is the sum's low half.
        @inline(__always) func scaled(_ x: Lanes) -> Lanes {
            let y = (x &<< h) & 0xFFFF_FFFF
            let sum = gHigh &* y &+ ((gLow &* y) &>> 32)
            return (sum &>> 32) | (isZero(sum & 0xFFFF_FFFF) ^ 1)
        }
        let vb = scaled(cb), vbl = scaled(cbl), vbr = scaled(cbr)
        let out = c & 1
        let s = vb &>> 2  // below 2^28
        let t = s &+ 1
        let sp10 = (((s & 0xFFFF_FFFF) &* 0xCCCC_CCCD) &>> 35) &* 10  // ⌊s / 10⌋ · 10 for s < 2^32
        let tp10 = sp10 &+ 10
        let wide = lessOrEqual(Lanes(repeating: 10), s)
        let shortLow = wide & lessOrEqual(vbl &+ out, sp10 &<< 2)
        let shortHigh = wide & lessOrEqual((tp10 &<< 2) &+ out, vbr)
        let lowIn = lessOrEqual(vbl &+ out, s &<< 2)
        let highIn = lessOrEqual((t &<< 2) &+ out, vbr)
        let midpoint = (s &+ t) &<< 1
        let nearer = s &+ (less(midpoint, vb) | (isZero(vb ^ midpoint) & s & 1))
        let long = select(mask(lowIn ^ highIn), s &+ highIn, nearer)
        var digits = select(mask(shortLow ^ shortHigh), sp10 &+ 10 &* shortHigh, long)
        // Integers up to 2^24 with no bit below the point: q in −23...0, no bit shifted out.
        let shift = (0 &- q) & 63
        let f = c &>> shift
        let nonpositive = (q &- 1) &>> 63
        let atLeastMinus23 = (UInt64(bitPattern: -24) &- q) &>> 63
        let integer = mask(nonpositive & atLeastMinus23 & isZero((f &<< shift) ^ c))
        digits = select(integer, f, digits) & 0x3FFF_FFFF  // < 10^9 where it matters: 32-bit products below
        let exponent = k & ~integer
        // The first digit of nine; the other eight as DecimalDigits' SWAR split: 4 + 4 digits in
        // 32-bit halves, then 2 + 2 in 16-bit quarters, then 1 + 1 in bytes (table lookups
        // would be eight scalar loads per vector).
        let first = (digits &* 1_441_151_881) &>> 57
        let x = digits &- first &* 100_000_000
        let high4 = ((x & 0xFFFF_FFFF) &* 0xD1B7_1759) &>> 45  // ⌊x / 10^4⌋ for x < 2^32
        var v = high4 | (x &- high4 &* 10_000) &<< 32
        let hundreds = ((v &* 10_486) &>> 20) & 0x0000_007F_0000_007F  // ⌊y / 100⌋ for y < 10^4
        v = hundreds | (v &- hundreds &* 100) &<< 16
        let tens = ((v &* 103) &>> 10) & 0x000F_000F_000F_000F  // ⌊y / 10⌋ for y < 100
        v = tens | (v &- tens &* 10) &<< 8
        return (v | 0x3030_3030_3030_3030, first | exponent &<< 8)
    }
}
