/// Float32 in its shortest round-trip decimal text, spelled as `Float.description` spells it
/// ("0.93", "1e-05", "16777216.0", "-0.0", "3.4028235e+38"), written straight to memory.
///
/// The digits: among the decimals that read back as the same Float32 (its rounding interval,
/// ends included when the significand is even, as round-half-even parsing gives them to it), the
/// one with the fewest significant digits; among those, the nearest to the exact value (ties to
/// an even last digit). This is R. Giulietti's Schubfach method ("The Schubfach way to render
/// doubles", 2020), here for Float32 with one 64-bit multiplier per power of ten:
///
/// - with v = c·2^q, choose k with 10^k ≤ 2^q < 10^(k+1) (the interval's width, 2^q, is then 1 to
///   10 units of 10^k), and scale the value and both interval ends by 10^-k into units of
///   10^k / 4 (so that the interval's ends and the midpoint between two candidates are integers);
/// - the interval holds at most one multiple of 10 (width under 10 units): if exactly one of the
///   two multiples of 10 around the value lies inside, it is the shortest answer;
/// - else one of s = ⌊v·10^-k⌋ and s + 1 lies inside (width at least 1 unit); if both, the nearer.
///
/// The products are 64 × 64 → 128 bits with 10^-k rounded up to 64 bits and the discarded low
/// bits kept as a sticky bit (round to odd), which keeps every comparison with a multiple of 4
/// exact. Float32 has 2^32 values: the whole range was checked against `Float.description`
/// (Tests/AggregateTests/ShortestFloatTests.swift says how), so that the proof does not rest on
/// the bounds alone. The record writer takes the digits from `FloatDigits`, which computes the
/// same steps for a whole batch in SIMD lanes (also checked on the whole range).
enum ShortestFloat {
    /// The digits and decimal exponent (value = digits × 10^exponent) of a finite, nonzero
    /// magnitude given by its bits (sign bit clear). Trailing zeros are not removed.
    @inline(__always)
    static func decimal(magnitude bits: UInt32) -> (digits: UInt64, exponent: Int) {
        // Wrapping arithmetic and masking shifts throughout: every value is in range by
        // construction, and the overflow checks would be branches in the way.
        let biased = Int(bits &>> 23)
        let fraction = UInt64(bits & 0x7F_FFFF)
        let c = biased == 0 ? fraction : fraction | 0x80_0000
        let q = biased == 0 ? -149 : biased &- 150
        // Integers up to 2^24 with no bit below the point: the interval (under 1 wide) holds no
        // other integer, so the integer itself is the answer.
        if q <= 0 && q >= -23 {
            let shift = UInt64(truncatingIfNeeded: 0 &- q)
            let f = c &>> shift
            if f &<< shift == c { return (f, 0) }
        }
        // A power of two above the smallest normal: the gap below is half the gap above.
        let irregular = fraction == 0 && biased > 1
        let cb = c &<< 2
        let cbr = cb &+ 2
        let cbl = cb &- (irregular ? 1 : 2)
        // ⌊q·log10(2)⌋, or ⌊log10(3/4·2^q)⌋ when irregular (exact for |q| ≤ 1650).
        let k = (q &* 315_653 &- (irregular ? 131_237 : 0)) &>> 20
        let e = 0 &- k
        let g = tenPowers.withUnsafeBufferPointer { $0[e &+ 31] }
        // ⌊log2(10^e)⌋ = (e·1741647) >> 19; h is 0...4.
        let h = UInt64(truncatingIfNeeded: q &+ ((e &* 1_741_647) &>> 19) &+ 1)
        @inline(__always) func scaled(_ x: UInt64) -> UInt64 {
            let (high, low) = g.multipliedFullWidth(by: x &<< h)
            return high | (low &>> 32 != 0 ? 1 : 0)
        }
        let vb = scaled(cb), vbl = scaled(cbl), vbr = scaled(cbr)
        // An odd significand: its interval's ends round to its neighbours, so they are outside.
        let out = c & 1
        let s = vb &>> 2
        let t = s &+ 1
        let sp10 = s / 10 &* 10
        let tp10 = sp10 &+ 10
        // Every choice computed, then selected with masks: which one applies varies from value to
        // value, and branches on it mispredict (twice as slow, measured).
        @inline(__always) func bit(_ condition: Bool) -> UInt64 { condition ? 1 : 0 }
        let wide = bit(s >= 10)
        let shortLow = wide & bit(vbl &+ out <= sp10 &<< 2)
        let shortHigh = wide & bit((tp10 &<< 2) &+ out <= vbr)
        let lowIn = bit(vbl &+ out <= s &<< 2)
        let highIn = bit((t &<< 2) &+ out <= vbr)
        // Both s and t inside: the nearer; vb is 4 × the scaled value, the midpoint is 4s + 2.
        let midpoint = (s &+ t) &<< 1
        let nearer = s &+ (bit(vb > midpoint) | (bit(vb == midpoint) & s & 1))
        let oneIn = 0 &- (lowIn ^ highIn)  // all ones when exactly one of s, t is inside
        let long = ((s &+ highIn) & oneIn) | (nearer & ~oneIn)
        let oneShortIn = 0 &- (shortLow ^ shortHigh)
        let digits = ((sp10 &+ 10 &* shortHigh) & oneShortIn) | (long & ~oneShortIn)
        return (digits, k)
    }

    /// Most bytes `write` stores from where it starts: up to `maxLength` of text, then garbage
    /// that the caller overwrites or ignores (whole 8- and 16-byte stores instead of byte loops).
    static let reach = 32
    /// Most bytes of text: "-1.17549435e-38".
    static let maxLength = 15

    /// Writes finite `value` as `Float.description` does; returns the length of the text (at
    /// most `maxLength`), having stored up to `reach` bytes from `p`.
    @inline(__always)
    static func write(_ value: Float, to p: UnsafeMutablePointer<UInt8>) -> Int {
        write(value, to: p) { magnitude in
            let (digits, exponent) = decimal(magnitude: magnitude)
            let (first, eight) = DecimalDigits.nine(digits)
            return (first, eight, exponent)
        }
    }

    /// `write`, with the digits computed beforehand by `FloatDigits` (`head` and `eight`).
    @inline(__always)
    static func write(_ value: Float, head: UInt64, eight: UInt64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        write(value, to: p) { _ in (head & 0xFF, eight, Int(Int64(bitPattern: head) &>> 8)) }
    }

    /// Writes `value` given its digits: `digits(magnitude)` returns the first of nine digits
    /// (a number), the other eight in ASCII (the second in the lowest byte) and the exponent of
    /// the last one, for a finite, nonzero magnitude (the bits without the sign).
    @inline(__always)
    private static func write(_ value: Float, to p: UnsafeMutablePointer<UInt8>,
                              digits: (UInt32) -> (first: UInt64, eight: UInt64, exponent: Int)) -> Int {
        let bits = value.bitPattern
        let magnitude = bits & 0x7FFF_FFFF
        let sign = Int(bits >> 31)
        p[0] = UInt8(ascii: "-")  // kept only for a negative value
        let q = p + sign
        if magnitude == 0 {
            store(UInt32(0x30_2E30), at: q)  // "0.0"
            return sign &+ 3
        }
        // At most 9 digits: the first one of nine, then eight in one word ("00001234" for 1234).
        let (high, eight, exponent) = digits(magnitude)
        let padding = (eight ^ 0x3030_3030_3030_3030).trailingZeroBitCount >> 3  // leading zeros of `eight`
        let zeros = (eight ^ 0x3030_3030_3030_3030).leadingZeroBitCount >> 3  // trailing zeros of the value
        // The digits from the first significant one, as bytes in memory order; selected with a
        // mask, not a branch (whether there are nine digits varies from value to value).
        let nine: UInt64 = 0 &- (high > 0 ? 1 : 0)
        let first = (((0x30 | high) | eight &<< 8) & nine) | ((eight &>> UInt64(8 &* padding)) & ~nine)
        let digits = UInt128((eight &>> 56) & nine) &<< 64 | UInt128(first)
        let n = 8 &- (padding & ~Int(bitPattern: UInt(nine))) &+ Int(nine & 1)
        let significant = n &- zeros
        let leading = n &+ exponent &- 1  // value = d.ddd × 10^leading
        // Swift's choice: exponential form above 2^24 and below 10^-4.
        if magnitude > 0x4B80_0000 || leading < -4 {
            // d.ddde±XX
            q[0] = UInt8(truncatingIfNeeded: digits)
            store(digits &>> 8, at: q + 2)
            q[1] = UInt8(ascii: ".")
            let length = significant > 1 ? significant &+ 1 : 1
            let x = UInt32(truncatingIfNeeded: leading < 0 ? 0 &- leading : leading)  // at most 45: two digits
            let signByte: UInt32 = leading < 0 ? 0x2D : 0x2B  // '-', '+'
            let tens: UInt32 = (0x30 | x / 10) << 16
            let ones: UInt32 = (0x30 | x % 10) << 24
            store(0x65 | signByte << 8 | tens | ones, at: q + length)  // "e±XX"
            return sign &+ length &+ 4
        }
        let trailing = exponent &+ zeros  // the exponent of the last significant digit
        if trailing >= 0 {
            // An integer (below 2^24, so at most 8 digits in all): its digits, zeros, ".0".
            store(digits, at: q)
            store(UInt64(0x3030_3030_3030_3030), at: q + significant)
            store(UInt16(0x302E), at: q + (significant &+ trailing))
            return sign &+ significant &+ trailing &+ 2
        }
        if leading >= 0 {
            // ddd.ddd: all the digits, then the fraction's again one byte further, after the point.
            store(digits, at: q)
            store(digits &>> UInt64(8 &* (leading &+ 1)), at: q + (leading &+ 2))
            q[leading &+ 1] = UInt8(ascii: ".")
            return sign &+ significant &+ 1
        }
        // 0.000ddd (one to four zeros after the point, the first of them before it).
        store(UInt64(0x3030_3030_3030_2E30), at: q)
        store(digits, at: q + (1 &- leading))
        return sign &+ 1 &- leading &+ significant
    }

    @inline(__always)
    static func store<T: FixedWidthInteger>(_ x: T, at p: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x.littleEndian, as: T.self)
    }

    /// 10^e rounded up to 64 significant bits, for e = -31...45: ⌊10^e · 2^(63 − ⌊log2 10^e⌋)⌋ + 1
    /// (so each lies in [2^63, 2^64)). Computed exactly, and checked by ShortestFloatTests.
    static let tenPowers: [UInt64] = [
        0x81CE_B32C_4B43_FCF5, 0xA242_5FF7_5E14_FC32, 0xCAD2_F7F5_359A_3B3F, 0xFD87_B5F2_8300_CA0E,
        0x9E74_D1B7_91E0_7E49, 0xC612_0625_7658_9DDB, 0xF796_87AE_D3EE_C552, 0x9ABE_14CD_4475_3B53,
        0xC16D_9A00_9592_8A28, 0xF1C9_0080_BAF7_2CB2, 0x971D_A050_74DA_7BEF, 0xBCE5_0864_9211_1AEB,
        0xEC1E_4A7D_B695_61A6, 0x9392_EE8E_921D_5D08, 0xB877_AA32_36A4_B44A, 0xE695_94BE_C44D_E15C,
        0x901D_7CF7_3AB0_ACDA, 0xB424_DC35_095C_D810, 0xE12E_1342_4BB4_0E14, 0x8CBC_CC09_6F50_88CC,
        0xAFEB_FF0B_CB24_AAFF, 0xDBE6_FECE_BDED_D5BF, 0x8970_5F41_36B4_A598, 0xABCC_7711_8461_CEFD,
        0xD6BF_94D5_E57A_42BD, 0x8637_BD05_AF6C_69B6, 0xA7C5_AC47_1B47_8424, 0xD1B7_1758_E219_652C,
        0x8312_6E97_8D4F_DF3C, 0xA3D7_0A3D_70A3_D70B, 0xCCCC_CCCC_CCCC_CCCD, 0x8000_0000_0000_0001,
        0xA000_0000_0000_0001, 0xC800_0000_0000_0001, 0xFA00_0000_0000_0001, 0x9C40_0000_0000_0001,
        0xC350_0000_0000_0001, 0xF424_0000_0000_0001, 0x9896_8000_0000_0001, 0xBEBC_2000_0000_0001,
        0xEE6B_2800_0000_0001, 0x9502_F900_0000_0001, 0xBA43_B740_0000_0001, 0xE8D4_A510_0000_0001,
        0x9184_E72A_0000_0001, 0xB5E6_20F4_8000_0001, 0xE35F_A931_A000_0001, 0x8E1B_C9BF_0400_0001,
        0xB1A2_BC2E_C500_0001, 0xDE0B_6B3A_7640_0001, 0x8AC7_2304_89E8_0001, 0xAD78_EBC5_AC62_0001,
        0xD8D7_26B7_177A_8001, 0x8786_7832_6EAC_9001, 0xA968_163F_0A57_B401, 0xD3C2_1BCE_CCED_A101,
        0x8459_5161_4014_84A1, 0xA56F_A5B9_9019_A5C9, 0xCECB_8F27_F420_0F3B, 0x813F_3978_F894_0985,
        0xA18F_07D7_36B9_0BE6, 0xC9F2_C9CD_0467_4EDF, 0xFC6F_7C40_4581_2297, 0x9DC5_ADA8_2B70_B59E,
        0xC537_1912_364C_E306, 0xF684_DF56_C3E0_1BC7, 0x9A13_0B96_3A6C_115D, 0xC097_CE7B_C907_15B4,
        0xF0BD_C21A_BB48_DB21, 0x9676_9950_B50D_88F5, 0xBC14_3FA4_E250_EB32, 0xEB19_4F8E_1AE5_25FE,
        0x92EF_D1B8_D0CF_37BF, 0xB7AB_C627_0503_05AE, 0xE596_B7B0_C643_C71A, 0x8F7E_32CE_7BEA_5C70,
        0xB35D_BF82_1AE4_F38C,
    ]
}
