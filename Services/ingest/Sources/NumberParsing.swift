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

    @inline(__always)
    mutating func addIntegerDigit(_ d: UInt8) {
        if digits < Self.maxDigits {
            mantissa = mantissa &* 10 &+ UInt64(d)
            if mantissa != 0 { digits += 1 }
        } else {
            exponent += 1
            if d != 0 { inexact = true }
        }
    }

    @inline(__always)
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
    private static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    /// A literal, so that it is laid out at compile time (no lazy initialization check per use).
    private static let integerPowers: [UInt64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ]

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// Scans an RFC 8259 number starting at `p[i]` (a '-' or a digit).
    ///
    /// - Returns: the index just past the number. What follows it is the caller's to check.
    /// - Throws: the position and reason of the first byte that breaks the grammar.
    @inline(__always)
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
    @inline(__always)
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
    @inline(__always)
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

    /// The fast path for the common number: `-?digits(.digits)?` with at most 19 digits, a
    /// mantissa below 2^53 and at most 22 decimals, followed by something that cannot continue
    /// a number. Its Double is then one exact division away (Clinger).
    ///
    /// - Returns: the index past the number and its value, or nil to take the general path (an
    ///   exponent, more digits, or bad grammar, which the general path reports).
    @inline(__always)
    static func fastDouble(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, json: Bool) -> (Int, Double)? {
        // Signs are random in real data: no branch on them (a mispredicted branch per number
        // cost more than the whole division).
        let negative = p[start] == UInt8(ascii: "-")
        let signed = negative || (!json && p[start] == UInt8(ascii: "+"))
        let intStart = start &+ (signed ? 1 : 0)
        // Short numbers in one word (small enough to inline into the parsers' loops), longer
        // ones out of line.
        guard end &- intStart >= 8, let (length, digits, decimals) = shortNumber(p, intStart, json: json) else {
            return runDouble(p, intStart, end, negative: negative, json: json)
        }
        let value = Double(digits) / exactPowers[decimals]
        return (intStart &+ length, Double(bitPattern: value.bitPattern | UInt64(negative ? 1 : 0) << 63))
    }

    /// `fastDouble` for numbers too long for one word or too near the end of the record.
    @inline(never)
    private static func runDouble(_ p: UnsafePointer<UInt8>, _ intStart: Int, _ end: Int, negative: Bool,
                                  json: Bool) -> (Int, Double)? {
        var m: UInt64 = 0
        var i = digitRun(p, intStart, end, &m)
        var digits = i &- intStart
        // JSON: one integer digit at least, and no leading zero.
        if json && (digits == 0 || (digits > 1 && p[intStart] == UInt8(ascii: "0"))) { return nil }
        var decimals = 0
        if i < end && p[i] == UInt8(ascii: ".") {
            let fracStart = i &+ 1
            i = digitRun(p, fracStart, end, &m)
            decimals = i &- fracStart
            if json && decimals == 0 { return nil }
            digits &+= decimals
        }
        if i < end && p[i] | 0x20 == UInt8(ascii: "e") { return nil }
        guard digits > 0 && digits <= DecimalNumber.maxDigits && m <= 1 << 53 && decimals <= 22 else { return nil }
        let v = Double(m) / exactPowers[decimals]
        return (i, Double(bitPattern: v.bitPattern | UInt64(negative ? 1 : 0) << 63))
    }

    /// A whole unsigned number (`digits` or `digits.digits`, at most 7 digits in all) inside the
    /// 8 bytes at `p[start]`, which must be readable: its length, digits as an integer, and
    /// decimals. One load, no loop and no branch on the digit counts (they vary from number to
    /// number, so branches on them mispredict). Nil: not that shape; take the longer path.
    @inline(__always)
    static func shortNumber(_ p: UnsafePointer<UInt8>, _ start: Int, json: Bool) -> (Int, UInt64, Int)? {
        let word = UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)
        let x = word ^ 0x3030_3030_3030_3030
        // High bit set in every byte that is not a digit (see `digitRun`).
        let nonDigits = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        guard nonDigits != 0 else { return nil }
        let k = nonDigits.trailingZeroBitCount >> 3  // integer digits
        guard k > 0 && (!json || k == 1 || p[start] != UInt8(ascii: "0")) else { return nil }
        let stop = UInt8(truncatingIfNeeded: word >> (UInt64(k) &* 8))
        if stop | 0x20 == UInt8(ascii: "e") { return nil }
        if stop != UInt8(ascii: ".") {
            return (k, eightDigits(x << (64 &- UInt64(k) &* 8)), 0)
        }
        // The '.' adds 0x76 without a carry, so the next flag is the fraction's end.
        let rest = nonDigits & ~(0x80 << (UInt64(k) &* 8))
        guard rest != 0 else { return nil }
        let j = rest.trailingZeroBitCount >> 3  // index of the byte after the number
        guard j > k &+ 1, UInt8(truncatingIfNeeded: word >> (UInt64(j) &* 8)) | 0x20 != UInt8(ascii: "e") else { return nil }
        // Drop the '.' byte: the j - 1 digits become adjacent.
        let low = x & ((1 << (UInt64(k) &* 8)) &- 1)
        let high = (x >> (UInt64(k &+ 1) &* 8)) << (UInt64(k) &* 8)
        let digits = UInt64(j &- 1)
        return (j, eightDigits((low | high) << (64 &- digits &* 8)), j &- k &- 1)
    }

    /// The value of 8 digit bytes (0...9 each, the first one most significant, little-endian).
    @inline(__always)
    static func eightDigits(_ x: UInt64) -> UInt64 {
        var v = ((x &* 10) &+ (x >> 8)) & 0x00FF_00FF_00FF_00FF
        v = ((v &* 100) &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
        return ((v &* 10_000) &+ (v >> 32)) & 0xFFFF_FFFF
    }

    /// Appends the decimal digits at `p[start...]` to `m` (wrapping past 19 digits: callers
    /// count them) and returns the index of the first non-digit. Eight bytes at a time where
    /// eight bytes remain (SWAR), one at a time near the end.
    @inline(__always)
    static func digitRun(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ m: inout UInt64) -> Int {
        var i = start
        while end &- i >= 8 {
            // Digits become 0...9 per byte; any other byte gets its high bit set by adding 0x76
            // (a carry out of a non-digit byte only disturbs bytes after it, which are ignored).
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) ^ 0x3030_3030_3030_3030
            let nonDigits = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
            let n = nonDigits == 0 ? 8 : nonDigits.trailingZeroBitCount >> 3
            if n == 0 { return i }
            // The n digits, moved to the top (lower bytes become leading zeros).
            m = m &* integerPowers[n] &+ eightDigits(x << (64 &- 8 &* UInt64(n)))
            i &+= n
            if n < 8 { return i }
        }
        while i < end, case let d = p[i] &- 0x30, d < 10 {
            m = m &* 10 &+ UInt64(d)
            i &+= 1
        }
        return i
    }

    /// The fast path for a plain integer `-?digits` of at most 18 digits (JSON: no leading zero)
    /// not followed by a fraction or an exponent. Nil: take the general path.
    @inline(__always)
    static func fastInt(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, json: Bool) -> (Int, Int64)? {
        let negative = p[start] == UInt8(ascii: "-")
        let signed = negative || (!json && p[start] == UInt8(ascii: "+"))
        var i = start &+ (signed ? 1 : 0)
        let intStart = i
        var m: Int64 = 0
        while i < end, case let d = p[i] &- 0x30, d < 10 {
            m = m &* 10 &+ Int64(d)
            i &+= 1
        }
        let digits = i &- intStart
        if digits == 0 || digits > 18 || (json && digits > 1 && p[intStart] == UInt8(ascii: "0")) { return nil }
        if i < end && (p[i] == UInt8(ascii: ".") || p[i] | 0x20 == UInt8(ascii: "e")) { return nil }
        return (i, negative ? -m : m)
    }

    /// The correctly rounded Double of a scanned number whose text is `p[start..<end]`, or nil
    /// when it overflows to ±infinity. Underflow rounds to ±0 (1e-400 is 0).
    @inline(__always)
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
        return slowDouble(p, start, end)
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
