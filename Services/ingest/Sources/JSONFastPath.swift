import Config

/// The JSON record parser's fast path, for schemas of numbers only and records written the way
/// machines write them: `{"k0":n0,"k1":n1,…}`, every schema field once, in schema order, no
/// whitespace, or exactly one space after each ',' and ':' (Python's `json.dumps`: the keys
/// then come from `JSONFastPathKeys`' other table). Such a record has exactly one comma fewer
/// than the schema has fields, and the commas (found 64 bytes at a time, `StructuralScan`) give
/// every field's end up front. The
/// fields are then independent: eight float fields at a time are checked and parsed in SIMD
/// lanes (`eightFloats`: their keys as masked 8-byte compares, their numbers from one 8-byte word
/// each, eight exact divisions in one instruction); any other field, or a group with anything
/// unusual in it, one at a time (`oneField`).
///
/// It either parses the whole record exactly as `JSONRecordParser`'s general path would (same
/// values, from the same arithmetic, or through the same `NumberParsing` functions), or gives up
/// having changed nothing the general path relies on: the values it stored are overwritten by
/// the general path or dropped with the row, and no field is marked until it succeeds. Errors
/// are therefore never its business: any record it does not take goes the general way.
final class JSONFastPath {
    let count: Int
    /// The keys of compact records, and of records with a space after each ',' and ':' (nil
    /// for names over 26 bytes).
    private let compact: JSONFastPathKeys
    private let spaced: JSONFastPathKeys?
    /// The most words either compares: the records closest to the body's end take the general path.
    let keyWords: Int
    private let isFloat: UnsafeMutablePointer<Bool>
    /// Per field: fields f..<f+8 are all floats (a SIMD group may start there).
    private let groupStart: UnsafeMutablePointer<Bool>
    /// [0] the record's '{', then every field's end (its comma, the last one's '}').
    private let bounds: UnsafeMutablePointer<Int>
    private let scratch: UnsafeMutablePointer<UInt8>
    /// Records to leave to the general path before trying again, after one that did not pay:
    /// not taken (whitespace, other key orders: the comma scan was wasted) or taken without a
    /// single SIMD group (long numbers: the scan cost more than it saved, measured 25% slower).
    private let backoff: Int
    var backoffRecords: Int { backoff }
    private var skipping = 0

    /// How many records `backoff` skips unless told otherwise.
    static let defaultBackoff = 64

    /// Names longer than this (in UTF-8 bytes) make the schema take the general path.
    static let longestName = 28

    /// The fast path for `fields`, or nil when the schema is not one it serves: a field that is
    /// not a number, or a name that is long or holds what a JSON key would escape or a comma.
    init?(fields: [FieldSpec], backoff: Int = JSONFastPath.defaultBackoff) {
        guard !fields.isEmpty, fields.allSatisfy({ $0.type == .float || $0.type == .int }) else { return nil }
        let names = fields.map { Array($0.name.utf8) }
        guard names.allSatisfy({ name in
            name.count <= Self.longestName
                && !name.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: ",") || $0 < 0x20 }
        }) else { return nil }
        let n = fields.count
        count = n
        self.backoff = backoff
        compact = JSONFastPathKeys(names: names, spaced: false)!  // names of 28 bytes at most
        spaced = JSONFastPathKeys(names: names, spaced: true)
        keyWords = max(compact.words, spaced?.words ?? 0)
        isFloat = .allocate(capacity: n)
        groupStart = .allocate(capacity: n)
        bounds = .allocate(capacity: n + 65)
        scratch = .allocate(capacity: 64)
        for f in 0..<n { isFloat[f] = fields[f].type == .float }
        for f in 0..<n { groupStart[f] = f + 8 <= n && (f..<f + 8).allSatisfy { fields[$0].type == .float } }
    }

    deinit {
        compact.deallocate()
        spaced?.deallocate()
        isFloat.deallocate()
        groupStart.deallocate()
        bounds.deallocate()
        scratch.deallocate()
    }

    /// Parses the record `p[start..<end]` into `record` and marks every field, or returns false
    /// having marked none (then the general path must parse it); false at once while backing off.
    /// The record need not have been validated as UTF-8: it takes only records of ASCII bytes
    /// (which the comma scan checks on the way), so a taken record is valid UTF-8.
    ///
    /// - Parameter limit: bytes before `p[limit]` are readable (the chunk body's end); the fast
    ///   path reads up to `8 × keyWords + 8` bytes past the record (a last field shorter than its
    ///   key: its value's two word loads start a key's length after it), so the records closest
    ///   to the body's end take the general path.
    func parse(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, limit: Int, into record: inout RecordAssembler) -> Bool {
        if skipping > 0 {
            skipping &-= 1
            return false
        }
        let n = count
        guard end &- start >= 2, end &+ 8 &* keyWords &+ 8 <= limit,
              p[start] == UInt8(ascii: "{"), p[end &- 1] == UInt8(ascii: "}") else { return false }
        var ascii = false
        let commas = StructuralScan.commas(p, start, end, limit: limit, most: n &- 1, positions: bounds + 1, scratch: scratch,
                                           ascii: &ascii)
        guard commas == n &- 1, ascii else {
            skipping = backoff
            return false
        }
        bounds[0] = start
        bounds[n] = end &- 1
        // json.dumps's form when the second key starts after a space (the keys' compares check
        // the rest).
        let keys = n > 1 && p[bounds[1] &+ 1] == UInt8(ascii: " ") ? spaced ?? compact : compact
        let groups = switch keys.words {
        case 1: fields(p, end, record.values, record.row, keys, words: 1)
        case 2: fields(p, end, record.values, record.row, keys, words: 2)
        default: fields(p, end, record.values, record.row, keys, words: 4)
        }
        guard groups >= 0 else {
            skipping = backoff
            return false
        }
        if groups == 0 { skipping = backoff }
        record.markAllValued()
        return true
    }

    /// Checks and parses every field, given their bounds: the number of groups of eight parsed
    /// in SIMD lanes, or -1 at the first field that is not a key and a number as expected.
    /// `words` is `keys.words`, a constant once inlined.
    ///
    /// The pointers are copied to locals first: the stores into the columns could alias the
    /// object's properties as far as the compiler knows, which would reload them at every field.
    @inline(__always)
    private func fields(_ p: UnsafePointer<UInt8>, _ end: Int, _ values: UnsafeMutablePointer<UnsafeMutableRawPointer>,
                        _ row: Int, _ keys: JSONFastPathKeys, words: Int) -> Int {
        let n = count, bounds = bounds, patterns = keys.patterns, masks = keys.masks
        let keyLengths = keys.lengths, isFloat = isFloat, groupStart = groupStart
        let staging = UnsafeMutableRawPointer(scratch)
        let offset = row &* 8
        @inline(__always) func oneField(_ f: Int) -> Bool {
            let keyStart = bounds[f] &+ 1
            let stop = bounds[f &+ 1]
            let key = UnsafeRawPointer(p + keyStart)
            var difference: UInt64 = 0
            for k in 0..<words {
                difference |= (key.loadUnaligned(fromByteOffset: 8 &* k, as: UInt64.self) & masks[k &* n &+ f])
                    ^ patterns[k &* n &+ f]
            }
            guard difference == 0 else { return false }
            let valueStart = keyStart &+ keyLengths[f]
            if isFloat[f] {
                guard let v = Self.double(p, valueStart, stop, end) else { return false }
                values[f].storeBytes(of: v, toByteOffset: offset, as: Double.self)
            } else {
                guard let v = Self.int(p, valueStart, stop, end) else { return false }
                values[f].storeBytes(of: v, toByteOffset: offset, as: Int64.self)
            }
            return true
        }
        var f = 0
        var groups = 0
        while f < n {
            if groupStart[f] {
                if Self.eightFloats(p, f, n, bounds, keyLengths, masks, patterns, words: words, values, offset, staging) {
                    groups &+= 1
                } else {
                    // Something unusual in the group: field by field, each as the general path would.
                    for g in f..<f &+ 8 where !oneField(g) { return -1 }
                }
                f &+= 8
            } else {
                guard oneField(f) else { return -1 }
                f &+= 1
            }
        }
        return groups
    }

    /// Float fields f..<f+8 at once, in SIMD lanes, when each is exactly its key (`"name":`) and a number
    /// `-?digits(.digits)?` of at most 8 bytes after its sign, as JSON allows it (no leading
    /// zero); else false, having stored nothing (`oneField` then decides each field).
    ///
    /// The lanes do what `double` does for one field, without a branch: the 8-byte word that
    /// ends where the field ends (the number's digits at its top; what is below them masked
    /// off), a flag on every byte that is not a digit (only the '.' may have one), the '.'
    /// dropped by moving the integer digits up a byte, the digits folded as
    /// `NumberParsing.eightDigits` does, converted exactly and divided by 10^decimals (IEEE
    /// division, lane by lane: the same correctly rounded result as one `/`). Every condition
    /// sets bits in `bad` instead of branching.
    @inline(__always)
    private static func eightFloats(_ p: UnsafePointer<UInt8>, _ f: Int, _ n: Int, _ bounds: UnsafePointer<Int>,
                                    _ keyLengths: UnsafePointer<Int>, _ masks: UnsafePointer<UInt64>,
                                    _ patterns: UnsafePointer<UInt64>, words: Int,
                                    _ values: UnsafeMutablePointer<UnsafeMutableRawPointer>, _ offset: Int,
                                    _ staging: UnsafeMutableRawPointer) -> Bool {
        typealias Lanes = SIMD8<UInt64>
        @inline(__always) func lanes(_ pointer: UnsafeRawPointer) -> Lanes { pointer.loadUnaligned(as: Lanes.self) }
        @inline(__always) func word(_ at: UInt64, _ plus: Int) -> UInt64 {
            UnsafeRawPointer(p + (Int(truncatingIfNeeded: at) &+ plus)).loadUnaligned(as: UInt64.self)
        }
        let ends = lanes(bounds + (f &+ 1))
        let keyStarts = lanes(bounds + f) &+ 1
        let keyLength = lanes(keyLengths + f)
        let valueStarts = keyStarts &+ keyLength
        var bad = Lanes()
        // The value's first byte, from the key's words (`JSONFastPathKeys` makes room for it).
        var first = Lanes()
        for k in 0..<words {
            var key = Lanes()
            for i in 0..<8 { key[i] = word(keyStarts[i], 8 &* k) }
            bad |= (key & lanes(masks + (k &* n &+ f))) ^ lanes(patterns + (k &* n &+ f))
            let here = 0 &- ((((keyLength &>> 3) ^ UInt64(k)) &- 1) &>> 63)  // in word k
            first |= (key &>> ((keyLength &* 8) & 63)) & here
        }
        // The word ending at the field's end (the number's last 8 bytes at most). A field ending
        // before byte 8 of the body (only at its very start) would load before it: that lane
        // loads at 0 instead, and is bad.
        let last = ends &- 8
        let early = last &>> 63
        bad |= early
        let inside = last & (early &- 1)
        var text = Lanes()
        for i in 0..<8 { text[i] = word(inside[i], 0) }
        // 1 in the lanes whose number starts with '-'.
        let negative = (((first & 0xFF) ^ 0x2D) &- 1) &>> 63
        let length = ends &- valueStarts &- negative  // digits and '.'
        bad |= (length &- 1) &>> 3  // not 1...8
        // The digits at the top of the word, zeros below (what `double` shifts into place).
        let x = (text ^ 0x3030_3030_3030_3030) & ~((Lanes(repeating: 1) &<< ((64 &- 8 &* length) & 63)) &- 1)
        let flags = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        bad |= flags & (flags &- 1)  // two bytes that are not digits
        let isInteger = (flags &- 1) &>> 63  // 1: no flag at all
        let point = flags &>> 7  // the low bit of the '.' byte (0 for an integer)
        bad |= (x ^ 0x1E1E_1E1E_1E1E_1E1E) & (point &* 0xFF)  // the flagged byte must be '.'
        let under = x & (point &- 1)
        let above = x & ~((point &<< 8) &- 1)
        let integerMask = 0 &- isInteger
        let folded = (x & integerMask) | ((above | under &<< 8) & ~integerMask)
        let decimals = (((point.leadingZeroBitCount &+ 1) &>> 3) &- 1) & ~integerMask
        let hasPoint = isInteger ^ 1
        // A '.' needs a digit on each side.
        bad |= (((decimals &- 1) | (length &- decimals &- 2)) &>> 63) & hasPoint
        // JSON: no leading zero before another integer digit.
        let integerDigits = length &- decimals &- hasPoint
        let firstDigit = (x &>> (((8 &- length) &* 8) & 63)) & 0xFF
        bad |= ((firstDigit &- 1) &>> 63) & ((1 &- integerDigits) &>> 63)
        // Folded by hand: SIMD's `==` is a loop over lanes that the compiler does not vectorize.
        let low = bad.lowHalf | bad.highHalf
        let quarter = low.lowHalf | low.highHalf
        guard quarter[0] | quarter[1] == 0 else { return false }
        var v = ((folded &* 10) &+ (folded &>> 8)) & 0x00FF_00FF_00FF_00FF
        v = ((v &* 100) &+ (v &>> 16)) & 0x0000_FFFF_0000_FFFF
        v = ((v &* 10_000) &+ (v &>> 32)) & 0xFFFF_FFFF
        // Exact conversion of v < 2^52 without a conversion instruction: 2^52 + v as bits, minus
        // 2^52 (the generic SIMD conversion initializer is not specialized here, and lane by
        // lane it is eight scalar conversions).
        @inline(__always) func exact(_ integers: Lanes) -> SIMD8<Double> {
            unsafeBitCast(integers | 0x4330_0000_0000_0000, to: SIMD8<Double>.self) - 4_503_599_627_370_496
        }
        // 10^decimals (0...7) from the bits of decimals, in the lanes: a table lookup would be
        // eight scalar loads.
        let ten: Lanes = (decimals & 1) &* 9 &+ 1
        let hundred: Lanes = ((decimals &>> 1) & 1) &* 99 &+ 1
        let tenThousand: Lanes = ((decimals &>> 2) & 1) &* 9999 &+ 1
        let tens = ten &* hundred &* tenThousand
        let quotients = exact(v) / exact(tens)
        let signed = unsafeBitCast(quotients, to: Lanes.self) | negative &<< 63
        // Through memory: taken lane by lane from the register, the compiler splits the
        // division into eight (4 pairs of lanes, measured ~3x slower than one 8-lane division).
        staging.storeBytes(of: signed, as: Lanes.self)
        for i in 0..<8 {
            values[f &+ i].storeBytes(of: staging.load(fromByteOffset: 8 &* i, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
        }
        return true
    }

    /// The JSON number that is exactly `p[start..<stop]`, or nil (not one, or not a finite Double).
    ///
    /// `-?digits(.digits)?` of at most 8 bytes after the sign (real data's usual number): one
    /// 8-byte load, its digits folded as `NumberParsing.shortNumber` does, and Clinger's exact
    /// division, the general path's arithmetic for the same digits. Anything else goes through
    /// the general path's own functions (`fastDouble`, then `scanJSON` and `double`).
    @inline(__always)
    static func double(_ p: UnsafePointer<UInt8>, _ start: Int, _ stop: Int, _ end: Int) -> Double? {
        let negative = p[start] == UInt8(ascii: "-")
        let digitsStart = start &+ (negative ? 1 : 0)
        let length = stop &- digitsStart
        if length >= 1 && length <= 8 {
            // The number's bytes at the top of the word (the first one lowest), zeros below.
            let word = UnsafeRawPointer(p + digitsStart).loadUnaligned(as: UInt64.self)
            let x = (word ^ 0x3030_3030_3030_3030) << (64 &- 8 &* UInt64(length))
            // A flag in every byte that is not a digit (see FastNumbers.swift).
            let flags = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
            let bottom = 8 &- length  // the byte holding the first character
            if flags == 0 {
                if length == 1 || p[digitsStart] != UInt8(ascii: "0") {
                    let v = Double(NumberParsing.eightDigits(x))
                    return Double(bitPattern: v.bitPattern | UInt64(negative ? 1 : 0) << 63)
                }
            } else if flags & (flags &- 1) == 0 {
                let dot = flags.trailingZeroBitCount >> 3
                let integerDigits = dot &- bottom
                // One '.' with digits on both sides, and no leading zero before it.
                if (x >> UInt64(dot &* 8)) & 0xFF == 0x1E && integerDigits >= 1 && dot <= 6
                    && (integerDigits == 1 || p[digitsStart] != UInt8(ascii: "0")) {
                    let below = x & ((1 << UInt64(dot &* 8)) &- 1)
                    let above = x & ~((1 << UInt64(dot &* 8 &+ 8)) &- 1)
                    let digits = NumberParsing.eightDigits(above | below << 8)
                    let v = Double(digits) / NumberParsing.exactPowers[7 &- dot]
                    return Double(bitPattern: v.bitPattern | UInt64(negative ? 1 : 0) << 63)
                }
            }
        }
        return generalDouble(p, start, stop, end)
    }

    /// `double` for numbers of other shapes: the general path's functions, which must end
    /// exactly at `stop`.
    @inline(never)
    private static func generalDouble(_ p: UnsafePointer<UInt8>, _ start: Int, _ stop: Int, _ end: Int) -> Double? {
        let c = p[start]
        guard c == UInt8(ascii: "-") || NumberParsing.isDigit(c) else { return nil }
        if let (next, v) = NumberParsing.fastDouble(p, start, end, json: true) {
            return next == stop ? v : nil
        }
        var n = DecimalNumber()
        guard let next = try? NumberParsing.scanJSON(p, start, end, into: &n), next == stop else { return nil }
        return NumberParsing.double(n, p, start, next)
    }

    /// The JSON integer that is exactly `p[start..<stop]` as an Int64, or nil; through the
    /// general path's functions.
    @inline(__always)
    static func int(_ p: UnsafePointer<UInt8>, _ start: Int, _ stop: Int, _ end: Int) -> Int64? {
        let c = p[start]
        guard c == UInt8(ascii: "-") || NumberParsing.isDigit(c) else { return nil }
        if let (next, v) = NumberParsing.fastInt(p, start, end, json: true) {
            return next == stop ? v : nil
        }
        var n = DecimalNumber()
        guard let next = try? NumberParsing.scanJSON(p, start, end, into: &n), next == stop,
              case .value(let v) = NumberParsing.integral(n) else { return nil }
        return v
    }
}
