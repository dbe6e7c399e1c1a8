/// UTF-8 validation of a record's bytes, done before any parsing (INVALID_UTF8 wins over every
/// other reject code), so that the parsers can copy string bytes without looking at them.
enum UTF8Validation {
    /// Index of the first byte in `p[from..<to]` that does not belong to a well-formed UTF-8
    /// sequence (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF),
    /// or nil when all of it is valid.
    static func firstInvalid(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var i = from
        while i < to {
            // Mostly ASCII: test 32 bytes, then 8, at a time.
            while to &- i >= 32 {
                let raw = UnsafeRawPointer(p + i)
                let any = raw.loadUnaligned(as: UInt64.self) | raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
                if any & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 32
            }
            if to - i >= 8 {
                let word = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            let lead = p[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + 1 < to, p[i + 1] >= low, p[i + 1] <= high else { return i }
            var k = 2
            while k < length {
                guard i + k < to, p[i + k] & 0xC0 == 0x80 else { return i }
                k += 1
            }
            i += length
        }
        return nil
    }
}
