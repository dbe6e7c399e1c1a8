/// Formats a Float32 as the shortest decimal that reads back as the same Float32, byte for byte
/// as `Float.description` does, without creating a String.
///
/// The digits are found with Double arithmetic: a Float32, its neighbours and the midpoints
/// between them are exact Doubles; scaled by a power of ten to about ten digits they carry an
/// error below 3e-16 relative, while the interval that rounds to the float is 2^-24 wide. Every
/// decision that the error could flip (a bound within 1e-15 relative of an integer that cannot
/// be proved exact, or a tie between two shortest candidates) falls back to
/// `Float.description`; in practice that happens for few values. The result
/// is checked against `Float.description` for every Float32 by an opt-in test.
///
/// Format (Swift's): decimal with at least one fractional digit ("0.5", "16777216.0") when
/// 1e-4 <= |x| <= 2^24, else exponential with a signed exponent of at least two digits ("1e-05",
/// "1.2345679e+08"). Both are valid JSON numbers; non-finite values are the caller's business.
enum ShortestFloat {
    /// Longest output: "-1.17549435e-38" is 15 bytes.
    static let maxLength = 16

    /// Writes `value` (finite) at `out` and returns the number of bytes written.
    static func write(_ value: Float, to out: UnsafeMutablePointer<UInt8>) -> Int {
        precondition(value.isFinite, "ShortestFloat.write: \(value) is not finite")
        var n = 0
        if value.sign == .minus {
            out[0] = UInt8(ascii: "-")
            n = 1
        }
        let magnitude = value.magnitude
        if magnitude == 0 {
            return n + copy("0.0", to: out + n)
        }
        guard let (digits, exponent) = shortestDigits(magnitude) else {
            return n + fallback(magnitude, to: out + n)
        }
        return n + format(digits: digits, exponent: exponent, exponential: magnitude > 16_777_216, to: out + n)
    }

    /// Significant digits `d` and the exponent `x` of their first digit (value = 0.d × 10^(x+1)),
    /// or nil when Double arithmetic cannot decide.
    static func shortestDigits(_ f: Float) -> (digits: UInt64, exponent: Int)? {
        let v = Double(f)
        let up = f == .greatestFiniteMagnitude ? v + Double(f.ulp) : Double(f.nextUp)
        let hi = (v + up) * 0.5, lo = (v + Double(f.nextDown)) * 0.5  // exact: 26-bit values
        // Parsing rounds half to even: a decimal exactly on a bound reads back as f iff f is even.
        let inclusive = f.bitPattern & 1 == 0

        // floor(e2 × log10 2) is the decimal exponent of v or one less; scale to 10–11 digits.
        let e10 = (Int(v.exponent) * 78_913) >> 18
        let p = 9 - e10
        let s = powersOfTen[p - minPower]
        let sExact = p >= 0 && p <= 22
        let hs = hi * s, ls = lo * s
        let margin = hs * 1e-15

        var high = hs.rounded(.down)
        if hs - high < margin || high + 1 - hs < margin {
            // hs is within the error of an integer: decide only when it is exactly one.
            guard sExact, hs == hs.rounded(), (-hs).addingProduct(hi, s) == 0 else { return nil }
            high = inclusive ? hs : hs - 1
        }
        var low = ls.rounded(.up)
        if low - ls < margin || ls - (low - 1) < margin {
            guard sExact, ls == ls.rounded(), (-ls).addingProduct(lo, s) == 0 else { return nil }
            low = inclusive ? ls : ls + 1
        }
        let hInt = UInt64(high), lInt = UInt64(low)
        guard lInt <= hInt else { return nil }

        // The coarsest power of ten with a multiple in [low, high] gives the fewest digits.
        var t = 0
        var unit: UInt64 = 1
        while true {
            let next = unit * 10
            guard hInt / next >= (lInt + next - 1) / next else { break }
            unit = next
            t += 1
        }
        let minDigits = (lInt + unit - 1) / unit, maxDigits = hInt / unit
        var digits = minDigits
        if minDigits < maxDigits {
            // Several candidates of that length: the one closest to v.
            let q = v * s / Double(unit)
            let nearest = q.rounded(.toNearestOrAwayFromZero)
            if abs(abs(q - q.rounded(.down)) - 0.5) < q * 1e-15 { return nil }
            digits = min(max(UInt64(nearest), minDigits), maxDigits)
        }
        return (digits, t - p + decimalLength(digits) - 1)
    }

    private static func format(digits: UInt64, exponent x: Int, exponential: Bool,
                               to out: UnsafeMutablePointer<UInt8>) -> Int {
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        return withUnsafeMutableBytes(of: &buffer) { raw in
            let text = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let count = writeDigits(digits, to: text)
            var n = 0
            if exponential || x < -4 {
                out[n] = text[0]
                n += 1
                if count > 1 {
                    out[n] = UInt8(ascii: ".")
                    n += 1
                    for i in 1..<count { out[n] = text[i]; n += 1 }
                }
                out[n] = UInt8(ascii: "e")
                out[n + 1] = x < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
                n += 2
                let e = abs(x)
                if e >= 100 { out[n] = UInt8(ascii: "0") + UInt8(e / 100); n += 1 }
                out[n] = UInt8(ascii: "0") + UInt8(e / 10 % 10)
                out[n + 1] = UInt8(ascii: "0") + UInt8(e % 10)
                return n + 2
            }
            if x >= 0 {
                for i in 0...x { out[n] = i < count ? text[i] : UInt8(ascii: "0"); n += 1 }
                out[n] = UInt8(ascii: ".")
                n += 1
                if count > x + 1 {
                    for i in (x + 1)..<count { out[n] = text[i]; n += 1 }
                } else {
                    out[n] = UInt8(ascii: "0")
                    n += 1
                }
                return n
            }
            out[0] = UInt8(ascii: "0")
            out[1] = UInt8(ascii: ".")
            n = 2
            for _ in 0..<(-x - 1) { out[n] = UInt8(ascii: "0"); n += 1 }
            for i in 0..<count { out[n] = text[i]; n += 1 }
            return n
        }
    }

    /// `Float.description`, for the values the fast path cannot decide.
    private static func fallback(_ f: Float, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var text = f.description
        return text.withUTF8 { utf8 in
            out.update(from: utf8.baseAddress!, count: utf8.count)
            return utf8.count
        }
    }

    private static func copy(_ text: StaticString, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        return text.utf8CodeUnitCount
    }

    /// 10^p for p in minPower...maxPower, each correctly rounded (the parser rounds correctly).
    private static let minPower = -30, maxPower = 56
    private static let powersOfTen: [Double] = (minPower...maxPower).map { Double("1e\($0)")! }
}

/// Number of decimal digits of `x` (1 for 0).
@inline(__always)
func decimalLength(_ x: UInt64) -> Int {
    var n = 1
    var x = x
    while x >= 10 {
        x /= 10
        n += 1
    }
    return n
}

/// Writes the decimal digits of `x` at `out` and returns how many.
@inline(__always)
func writeDigits(_ x: UInt64, to out: UnsafeMutablePointer<UInt8>) -> Int {
    let n = decimalLength(x)
    var x = x
    var i = n - 1
    while i >= 0 {
        out[i] = UInt8(ascii: "0") + UInt8(x % 10)
        x /= 10
        i -= 1
    }
    return n
}
