/// A decimal number as scanned from text: `±mantissa × 10^exponent`.
///
/// The mantissa keeps the first 19 significant digits (leading zeros are not significant);
/// dropped integer digits raise the exponent. When a dropped digit was not zero, `inexact` is set
/// and only the slow path (which rereads the text) may turn the number into a Double.
struct DecimalNumber {
    var negative = false
    var mantissa: UInt64 = 0
    /// Digits held in `mantissa` (at most 19; leading zeros may count).
    var digits = 0
    var exponent = 0
    /// A nonzero digit past the 19th significant one was dropped.
    var inexact = false

    init(negative: Bool = false, mantissa: UInt64 = 0, digits: Int = 0, exponent: Int = 0) {
        self.negative = negative
        self.mantissa = mantissa
        self.digits = digits
        self.exponent = exponent
    }

    static let maxDigits = 19
    /// Exponents are clamped here while scanning: far past any Double, far from Int overflow.
    static let exponentLimit = 100_000

    mutating func addIntegerDigit(_ d: UInt8) {
        if digits < Self.maxDigits {
            mantissa = mantissa &* 10 &+ UInt64(d)
            if mantissa != 0 { digits += 1 }
        } else {
            exponent += 1
            if d != 0 { inexact = true }
        }
    }

    mutating func addFractionDigit(_ d: UInt8) {
        if digits < Self.maxDigits {
            mantissa = mantissa &* 10 &+ UInt64(d)
            if mantissa != 0 { digits += 1 }
            exponent -= 1
        } else if d != 0 {
            inexact = true
        }
    }

    mutating func addExponent(negative: Bool, _ value: Int) {
        exponent += negative ? -value : value
    }
}

/// What an integral conversion found.
enum IntegralResult: Equatable {
    case value(Int64)
    /// The number has a nonzero fraction (1.5).
    case notIntegral
    /// The number is integral but outside Int64.
    case outOfRange
}

/// Number grammars (JSON's exact one, CSV's lenient one) and the conversions to Double and Int64.
enum NumberParsing {
    /// Powers of ten that are exact Doubles (Clinger's fast path).
    static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    /// A literal, so that it is laid out at compile time (no lazy initialization check per use).
    static let integerPowers: [UInt64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ]

    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// Scans an RFC 8259 number starting at `p[i]` (a '-' or a digit).
    ///
    /// - Returns: the index just past the number. What follows it is the caller's to check.
    /// - Throws: the position and reason of the first byte that breaks the grammar.
    static func scanJSON(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
                         into n: inout DecimalNumber) throws(RecordError) -> Int {
        var i = start
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let intStart = i
        guard i < end, isDigit(p[i]) else { throw .syntax(at: i, "expected a digit after '-'") }
        // Digits go straight into one UInt64; `decimal` redoes it carefully past 19 of them.
        var m: UInt64 = 0
        if p[i] == UInt8(ascii: "0") {
            i += 1
            if i < end, isDigit(p[i]) { throw .syntax(at: i - 1, "a number must not start with a leading zero") }
        } else {
            repeat {
                m = m &* 10 &+ UInt64(p[i] &- 0x30)
                i += 1
            } while i < end && isDigit(p[i])
        }
        let intEnd = i
        var fracStart = i
        if i < end, p[i] == UInt8(ascii: ".") {
            i += 1
            fracStart = i
            guard i < end, isDigit(p[i]) else { throw .syntax(at: i, "expected a digit after the decimal point") }
            repeat {
                m = m &* 10 &+ UInt64(p[i] &- 0x30)
                i += 1
            } while i < end && isDigit(p[i])
        }
        let fracEnd = i
        var e10 = 0
        if i < end, p[i] | 0x20 == UInt8(ascii: "e") {
            i = try scanExponent(p, i + 1, end, into: &e10)
        }
        n = decimal(p, negative: negative, accumulated: m, intStart, intEnd, fracStart, fracEnd, exponent: e10)
        return i
    }

    /// The number whose digits are `p[intStart..<intEnd]` and `p[fracStart..<fracEnd]` (the
    /// fraction), `m` having accumulated all of them (exact only if there are at most 19).
    private static func decimal(_ p: UnsafePointer<UInt8>, negative: Bool, accumulated m: UInt64,
                                _ intStart: Int, _ intEnd: Int, _ fracStart: Int, _ fracEnd: Int,
                                exponent e10: Int) -> DecimalNumber {
        let digits = (intEnd - intStart) + (fracEnd - fracStart)
        if digits <= DecimalNumber.maxDigits {
            return DecimalNumber(negative: negative, mantissa: m, digits: digits, exponent: e10 - (fracEnd - fracStart))
        }
        var n = DecimalNumber(negative: negative)
        for k in intStart..<intEnd { n.addIntegerDigit(p[k] &- 0x30) }
        for k in fracStart..<fracEnd { n.addFractionDigit(p[k] &- 0x30) }
        n.addExponent(negative: false, e10)
        return n
    }

    /// Scans the digits of an exponent (after the 'e'), with an optional sign.
    private static func scanExponent(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
                                     into e10: inout Int) throws(RecordError) -> Int {
        var i = start
        var negative = false
        if i < end, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < end, isDigit(p[i]) else { throw .syntax(at: i, "expected a digit in the exponent") }
        var e = 0
        while i < end, case let d = p[i] &- 0x30, d < 10 {
            if e < DecimalNumber.exponentLimit { e = e * 10 + Int(d) }
            i += 1
        }
        e10 = negative ? -e : e
        return i
    }

    /// Scans all of `p[start..<end]` as a CSV number: an optional sign, digits with an optional
    /// decimal point (".5" and "5." allowed), an optional exponent. Nil when it is not one.
    static func scanCSV(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> DecimalNumber? {
        var i = start
        var negative = false
        if i < end, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        var m: UInt64 = 0
        let intStart = i
        while i < end, case let d = p[i] &- 0x30, d < 10 {
            m = m &* 10 &+ UInt64(d)
            i += 1
        }
        let intEnd = i
        var fracStart = i
        if i < end, p[i] == UInt8(ascii: ".") {
            i += 1
            fracStart = i
            while i < end, case let d = p[i] &- 0x30, d < 10 {
                m = m &* 10 &+ UInt64(d)
                i += 1
            }
        }
        let fracEnd = i
        guard intEnd > intStart || fracEnd > fracStart else { return nil }
        var e10 = 0
        if i < end, p[i] | 0x20 == UInt8(ascii: "e") {
            guard let next = try? scanExponent(p, i + 1, end, into: &e10) else { return nil }
            i = next
        }
        guard i == end else { return nil }
        return decimal(p, negative: negative, accumulated: m, intStart, intEnd, fracStart, fracEnd, exponent: e10)
    }

    /// The correctly rounded Double of a scanned number whose text is `p[start..<end]`, or nil
    /// when it overflows to ±infinity. Underflow rounds to ±0 (1e-400 is 0).
    static func double(_ n: DecimalNumber, _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        if !n.inexact && n.mantissa <= 1 << 53 {
            // Clinger: the mantissa and the power of ten are both exact, so one IEEE operation
            // rounds correctly.
            let m = Double(n.mantissa)
            var value: Double?
            let e = n.exponent
            if n.mantissa == 0 {
                value = 0
            } else if e >= 0 && e <= 22 {
                value = e == 0 ? m : m * exactPowers[e]
            } else if e < 0 && e >= -22 {
                value = m / exactPowers[-e]
            } else if e > 22 && e <= 22 + 15 {
                // 123e30 = 123000000000000000e15 ... as long as the scaled mantissa stays exact.
                let (scaled, overflow) = n.mantissa.multipliedReportingOverflow(by: integerPowers[e - 22])
                if !overflow && scaled <= 1 << 53 { value = Double(scaled) * 1e22 }
            }
            if let v = value { return n.negative ? -v : v }
        }
        if !n.inexact && n.exponent >= -22 && n.exponent <= 19 {
            // 16 to 19 digits (printed doubles: Python's repr, pandas' CSV): exact in 128 bits.
            let v = wideDouble(n.mantissa, n.exponent)
            return n.negative ? -v : v
        }
        return slowDouble(p, start, end)
    }

    /// The correctly rounded Double of `m × 10^e` (m > 0, -22 ≤ e ≤ 19), exactly, in 128-bit
    /// integers: a product for e ≥ 0; for e < 0 a quotient m·2^s / 10^-e scaled to 54 or 55 bits,
    /// rounded half to even on its remainder. The value stays far from overflow and subnormals.
    static func wideDouble(_ m: UInt64, _ e: Int) -> Double {
        if e >= 0 {
            // Below 10^38 < 2^127; Swift's integer-to-Double conversion rounds to nearest even.
            return Double(UInt128(m) * UInt128(integerPowers[e]))
        }
        let divisor = e >= -19 ? UInt128(integerPowers[-e]) : UInt128(integerPowers[19]) * UInt128(integerPowers[-e - 19])
        let mBits = 64 - m.leadingZeroBitCount
        let dBits = 128 - divisor.leadingZeroBitCount
        // m·2^shift / divisor lies in (2^53, 2^55), and m·2^shift < 2^128. A negative shift
        // (a long m over a small power of ten) scales the divisor up instead.
        let shift = 54 - mBits + dBits
        let (quotient, remainder) = (UInt128(m) << max(shift, 0))
            .quotientAndRemainder(dividingBy: divisor << max(-shift, 0))
        let extra = quotient >> 54 == 0 ? 0 : 1  // bits beyond the 53 kept, besides the round bit
        var significand = UInt64(truncatingIfNeeded: quotient >> (1 + extra))
        let roundBit = (quotient >> extra) & 1 == 1
        let sticky = remainder != 0 || (extra == 1 && quotient & 1 == 1)
        if roundBit && (sticky || significand & 1 == 1) { significand += 1 }
        return Double(sign: .plus, exponent: 1 + extra - shift, significand: Double(significand))
    }

    /// The slow, always correct path: the standard library's decimal parser on the exact text.
    private static func slowDouble(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
        guard let v = Double(text), v.isFinite else { return nil }
        return v
    }

    /// The exact Int64 value of a scanned number, if it is integral and in range
    /// (1.0 and 1e3 are integral; 1.5 is not; -0 is 0).
    static func integral(_ n: DecimalNumber) -> IntegralResult {
        if n.inexact {
            // Over 19 significant digits with a nonzero one dropped: either the integer part alone
            // has over 19 digits, or the dropped digit lies in the fraction.
            return n.digits + n.exponent > DecimalNumber.maxDigits ? .outOfRange : .notIntegral
        }
        var m = n.mantissa
        var e = n.exponent
        if m == 0 { return .value(0) }
        while e < 0 && m % 10 == 0 {
            m /= 10
            e += 1
        }
        if e < 0 { return .notIntegral }
        if e > 18 { return .outOfRange }
        let (magnitude, overflow) = m.multipliedReportingOverflow(by: integerPowers[e])
        if overflow { return .outOfRange }
        if n.negative {
            return magnitude <= 1 << 63 ? .value(Int64(bitPattern: 0 &- magnitude)) : .outOfRange
        }
        return magnitude <= UInt64(Int64.max) ? .value(Int64(magnitude)) : .outOfRange
    }
}
