/// Decimal digits as ASCII without division loops: two at a time from a table of the 100 pairs
/// "00"…"99", the pairs found by multiplying a binary fraction by 100.
enum DecimalDigits {
    /// The pairs back to back ("00", "01", … "99"): pair i at byte offset 2i. A string literal
    /// rather than an array: constant data, no lazy initialization or bounds checks on the way.
    @inline(__always)
    static var pairs: UnsafeRawPointer {
        let text: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        return UnsafeRawPointer(text.utf8Start)
    }

    /// The two ASCII digits of `x` < 100, the tens in the low byte (memory order).
    @inline(__always)
    static func pair(_ x: UInt64) -> UInt64 {
        UInt64(UInt16(littleEndian: pairs.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: x &<< 1), as: UInt16.self)))
    }

    /// The nine decimal digits of `x` < 10^9, zeros in front: the first as a number (0...9), the
    /// other eight as ASCII in one word, the second digit in its lowest byte (memory order).
    ///
    /// x · ⌈2^57 / 10^8⌉ is x / 10^8 as a binary fraction with 57 bits after the point, too large
    /// by x · 1.7e-10 / 10^8 at most, which stays under one unit of the eighth decimal after
    /// the point while x < 5.9e9: its integer part is the first digit, and multiplying the
    /// fraction by 100 four times (exact integer products) brings out the other eight two by two.
    /// Tested on every x below 10^9 (DecimalDigitsTests says how).
    @inline(__always)
    static func nine(_ x: UInt64) -> (first: UInt64, eight: UInt64) {
        let mask: UInt64 = 1 &<< 57 &- 1
        var f = x &* 1_441_151_881
        let first = f &>> 57
        f = (f & mask) &* 100
        let a = pair(f &>> 57)
        f = (f & mask) &* 100
        let b = pair(f &>> 57)
        f = (f & mask) &* 100
        let c = pair(f &>> 57)
        f = (f & mask) &* 100
        let d = pair(f &>> 57)
        return (first, a | b &<< 16 | c &<< 32 | d &<< 48)
    }

    /// Writes `x` in decimal (no sign, no leading zeros; "0" for 0) and returns its length (at
    /// most 20). Stores only within the text's first max(length, 9) bytes.
    @inline(__always)
    static func write(_ x: UInt64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        if x < 1_000_000_000 {
            let (first, eight) = nine(x)
            if first != 0 {
                p[0] = UInt8(truncatingIfNeeded: first) | 0x30
                UnsafeMutableRawPointer(p + 1).storeBytes(of: eight.littleEndian, as: UInt64.self)
                return 9
            }
            // Leading zeros of the eight, the last digit kept: "0" for 0.
            let zeros = min((eight ^ 0x3030_3030_3030_3030).trailingZeroBitCount &>> 3, 7)
            UnsafeMutableRawPointer(p).storeBytes(of: (eight &>> UInt64(zeros &* 8)).littleEndian, as: UInt64.self)
            return 8 &- zeros
        }
        return writeLong(x, to: p)
    }

    /// `write` for x ≥ 10^9: the length first, then pairs from the end.
    private static func writeLong(_ x: UInt64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var length = 10
        var scale: UInt64 = 10_000_000_000
        while length < 20 && x >= scale {
            length &+= 1
            scale = scale &* 10
        }
        var x = x, i = length
        while x >= 100 {
            let q = x / 100
            i &-= 2
            UnsafeMutableRawPointer(p + i).storeBytes(of: UInt16(truncatingIfNeeded: pair(x &- q &* 100)).littleEndian,
                                                      as: UInt16.self)
            x = q
        }
        if i == 2 {
            UnsafeMutableRawPointer(p).storeBytes(of: UInt16(truncatingIfNeeded: pair(x)).littleEndian, as: UInt16.self)
        } else {
            p[0] = UInt8(truncatingIfNeeded: x) | 0x30
        }
        return length
    }
}
