/// The fast paths for the numbers real data is made of: short decimals like -52.1234 parsed
/// from one 8-byte word (SWAR: no loop, no branch on digit counts), longer ones by 8-byte digit
/// runs, both exact by Clinger's rule. Anything else returns nil and goes the general way
/// (`NumberParsing.scanJSON` / `scanCSV`, then `double`), which also reports the errors.
///
/// The SWAR steps: XOR with 0x30 makes digit bytes 0...9; adding 0x76 sets the high bit of any
/// byte that was not a digit (a carry out of such a byte only disturbs the bytes after it, which
/// are never used). The digits, shifted to the top of the word, fold pairwise into their value
/// with three multiplications (`eightDigits`).
extension NumberParsing {
    /// The fast path for the common number: `-?digits(.digits)?` with at most 19 digits and at
    /// most 22 decimals, followed by something that cannot continue a number. Its Double is then
    /// one exact division away (Clinger) or, past 2^53, one 128-bit division (`wideDouble`).
    ///
    /// - Returns: the index past the number and its value, or nil to take the general path (an
    ///   exponent, more digits, or bad grammar, which the general path reports).
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
    /// (Out of line: the callers' loops stay small; 3-4% faster in Benchmarks/ingest.)
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
        guard digits > 0 && digits <= DecimalNumber.maxDigits && decimals <= 22 else { return nil }
        let v = m <= 1 << 53 ? Double(m) / exactPowers[decimals] : wideDouble(m, -decimals)
        return (i, Double(bitPattern: v.bitPattern | UInt64(negative ? 1 : 0) << 63))
    }

    /// A whole unsigned number (`digits` or `digits.digits`, at most 7 digits in all) inside the
    /// 8 bytes at `p[start]`, which must be readable: its length, digits as an integer, and
    /// decimals. One load, no loop and no branch on the digit counts (they vary from number to
    /// number, so branches on them mispredict). Nil: not that shape; take the longer path.
    static func shortNumber(_ p: UnsafePointer<UInt8>, _ start: Int, json: Bool) -> (Int, UInt64, Int)? {
        let word = UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)
        let x = word ^ 0x3030_3030_3030_3030
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
    static func eightDigits(_ x: UInt64) -> UInt64 {
        var v = ((x &* 10) &+ (x >> 8)) & 0x00FF_00FF_00FF_00FF
        v = ((v &* 100) &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
        return ((v &* 10_000) &+ (v >> 32)) & 0xFFFF_FFFF
    }

    /// Appends the decimal digits at `p[start...]` to `m` (wrapping past 19 digits: callers
    /// count them) and returns the index of the first non-digit. Eight bytes at a time where
    /// eight bytes remain (SWAR), one at a time near the end.
    static func digitRun(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ m: inout UInt64) -> Int {
        var i = start
        while end &- i >= 8 {
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
}
