/// Finds the commas of a JSON record 64 bytes at a time, so that the record parser's fast path
/// knows where every field ends before it parses any of them: the fields are then independent
/// of one another (no parse waits for the previous one to find its end), and the CPU overlaps
/// them.
enum StructuralScan {
    /// Bit i set when `p[i]` is a comma, for the 64 bytes at `p` (which must all be readable).
    @inline(__always)
    static func commaBits(_ p: UnsafeRawPointer) -> UInt64 {
        bits(p.loadUnaligned(as: SIMD64<UInt8>.self) .== SIMD64<UInt8>(repeating: UInt8(ascii: ",")))
    }

    /// Bit i set when byte i of `block` is 0x80 or above (not ASCII).
    @inline(__always)
    static func highBits(_ block: SIMD64<UInt8>) -> UInt64 {
        bits(block .>= SIMD64<UInt8>(repeating: 0x80))
    }

    /// Bit i set when lane i of `mask` is.
    ///
    /// The compare that made `mask` is one instruction (into a mask register), widened back to
    /// bytes of 0 or 0xFF; each 8-byte word then keeps one distinct bit per byte, and
    /// multiplying by 0x0101…01 sums them into its top byte; the eight top bytes, narrowed to
    /// one word, are the 64 bits. LLVM makes vpcmpeqb, vpmovm2b, vpandq, vpmullq, vpsrlq,
    /// vpmovqb of it (AVX-512): 8 instructions; the same bits from a zero-byte test in 64-bit
    /// lanes summed across lanes took ~30. (Operators mixing a SIMD64<UInt8> with a scalar are
    /// lane-by-lane loops here: every constant is spelled as a vector.)
    @inline(__always)
    static func bits(_ mask: SIMDMask<SIMD64<Int8>>) -> UInt64 {
        let words = unsafeBitCast(mask, to: SIMD8<UInt64>.self)
        let sums = ((words & 0x8040_2010_0804_0201) &* 0x0101_0101_0101_0101) &>> 56
        return unsafeBitCast(SIMD8<UInt8>(truncatingIfNeeded: sums), to: UInt64.self)
    }

    /// The scalar twin of `commaBits`, for the tests: the first `count` (≤ 64) bytes at `p`.
    static func commaBitsScalar(_ p: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        var bits: UInt64 = 0
        for i in 0..<min(count, 64) where p[i] == UInt8(ascii: ",") { bits |= 1 << UInt64(i) }
        return bits
    }

    /// Writes the positions of the commas in `p[start..<end]` to `positions`, in order, and
    /// returns how many there are; stops early, returning a count above `most`, once there are more.
    /// `ascii` says whether every byte it looked at is below 0x80 (all of them, unless it stopped
    /// early): the record is then valid UTF-8 without `UTF8Validation` reading it again.
    ///
    /// - Parameters:
    ///   - limit: bytes up to `p[limit - 1]` are readable; a block that would pass it is copied
    ///     to `scratch` (64 bytes) first.
    ///   - positions: room for `most + 64` positions (each block writes up to 8 past its count,
    ///     unconditionally: no branch on how many commas a block holds, unless over 8).
    static func commas(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, limit: Int, most: Int,
                       positions: UnsafeMutablePointer<Int>, scratch: UnsafeMutablePointer<UInt8>,
                       ascii: inout Bool) -> Int {
        var count = 0
        var base = start
        var high: UInt64 = 0
        defer { ascii = high == 0 }
        let comma = SIMD64<UInt8>(repeating: UInt8(ascii: ","))
        while base < end {
            var bits: UInt64
            var highBits: UInt64
            let remaining = end &- base
            if base &+ 64 <= limit {
                let block = UnsafeRawPointer(p + base).loadUnaligned(as: SIMD64<UInt8>.self)
                bits = Self.bits(block .== comma)
                highBits = Self.highBits(block)
            } else {
                scratch.update(repeating: 0, count: 64)
                scratch.update(from: p + base, count: min(remaining, 64))
                let block = UnsafeRawPointer(scratch).loadUnaligned(as: SIMD64<UInt8>.self)
                bits = Self.bits(block .== comma)
                highBits = Self.highBits(block)
            }
            if remaining < 64 {
                bits &= (1 << UInt64(remaining)) &- 1
                highBits &= (1 << UInt64(remaining)) &- 1
            }
            high |= highBits
            let found = bits.nonzeroBitCount
            for k in 0..<8 {
                positions[count &+ k] = base &+ bits.trailingZeroBitCount
                bits &= bits &- 1
            }
            if found > 8 {
                for k in 8..<found {
                    positions[count &+ k] = base &+ bits.trailingZeroBitCount
                    bits &= bits &- 1
                }
            }
            count &+= found
            if count > most { return count }
            base &+= 64
        }
        return count
    }
}
