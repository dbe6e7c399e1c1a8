/// Finds the commas of a JSON record 64 bytes at a time, so that the record parser's fast path
/// knows where every field ends before it parses any of them: the fields are then independent
/// of one another (no parse waits for the previous one to find its end), and the CPU overlaps
/// them.
enum StructuralScan {
    /// Bit i set when `p[i]` is a comma, for the 64 bytes at `p` (which must all be readable).
    ///
    /// Eight 8-byte words at once (SIMD8<UInt64>): a byte equal to ',' becomes zero after an XOR,
    /// and the exact zero-byte test ((y & 0x7F…) + 0x7F…) | y leaves its high bit clear (no carry
    /// crosses bytes, unlike the cheaper test). Multiplying the high bits by 0x0102040810204080
    /// gathers a word's eight flags into its top byte.
    @inline(__always)
    static func commaBits(_ p: UnsafeRawPointer) -> UInt64 {
        let words = p.loadUnaligned(as: SIMD8<UInt64>.self)
        let y = words ^ SIMD8<UInt64>(repeating: 0x2C2C_2C2C_2C2C_2C2C)
        let low7 = SIMD8<UInt64>(repeating: 0x7F7F_7F7F_7F7F_7F7F)
        let zero = ~(((y & low7) &+ low7) | y) & SIMD8<UInt64>(repeating: 0x8080_8080_8080_8080)
        let gathered = ((zero &>> 7) &* SIMD8<UInt64>(repeating: 0x0102_0408_1020_4080))
            &>> SIMD8<UInt64>(56, 48, 40, 32, 24, 16, 8, 0)
        let placed = gathered & SIMD8<UInt64>(0xFF, 0xFF00, 0xFF_0000, 0xFF00_0000, 0xFF_0000_0000,
                                              0xFF00_0000_0000, 0xFF_0000_0000_0000, 0xFF00_0000_0000_0000)
        return placed.wrappedSum()
    }

    /// The scalar twin of `commaBits`, for the tests: the first `count` (≤ 64) bytes at `p`.
    static func commaBitsScalar(_ p: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        var bits: UInt64 = 0
        for i in 0..<min(count, 64) where p[i] == UInt8(ascii: ",") { bits |= 1 << UInt64(i) }
        return bits
    }

    /// Writes the positions of the commas in `p[start..<end]` to `positions`, in order, and
    /// returns how many there are; stops early, returning a count above `most`, once there are more.
    ///
    /// - Parameters:
    ///   - limit: bytes up to `p[limit - 1]` are readable; a block that would pass it is copied
    ///     to `scratch` (64 bytes) first.
    ///   - positions: room for `most + 64` positions (each block writes up to 8 past its count,
    ///     unconditionally: no branch on how many commas a block holds, unless over 8).
    static func commas(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, limit: Int, most: Int,
                       positions: UnsafeMutablePointer<Int>, scratch: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 0
        var base = start
        while base < end {
            var bits: UInt64
            let remaining = end &- base
            if base &+ 64 <= limit {
                bits = commaBits(UnsafeRawPointer(p + base))
            } else {
                scratch.update(repeating: 0, count: 64)
                scratch.update(from: p + base, count: min(remaining, 64))
                bits = commaBits(UnsafeRawPointer(scratch))
            }
            if remaining < 64 { bits &= (1 << UInt64(remaining)) &- 1 }
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
