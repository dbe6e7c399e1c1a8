/// The bytes `JSONFastPath` expects from each field's separator to its value, for one way of
/// writing records: compact (`"name":`) or as Python's `json.dumps` writes them, one space
/// after each ',' and ':' (` "name": `, no space after the '{').
///
/// Owns its memory; `deallocate()` frees it (the fast path's deinit).
struct JSONFastPathKeys {
    /// 8-byte words compared per key: 1, 2 or 4, enough for the longest key and the value's
    /// first byte (its sign, for `eightFloats`). A fixed count, known where the fast path's loop
    /// is compiled, so that the compare is straight-line code.
    let words: Int
    /// Every field's key as little-endian words, and masks for its bytes: word k of field f at
    /// [k × count + f], so that eight fields' words are adjacent.
    let patterns: UnsafeMutablePointer<UInt64>
    let masks: UnsafeMutablePointer<UInt64>
    /// Per field: the key's length (from the byte after the separator to the value).
    let lengths: UnsafeMutablePointer<Int>

    /// The keys of fields named `names` (UTF-8), with a space before every key but the first
    /// and after every colon when `spaced`; nil when a key and a byte do not fit in 4 words.
    init?(names: [[UInt8]], spaced: Bool) {
        let quote = UInt8(ascii: "\""), colon = UInt8(ascii: ":"), space = UInt8(ascii: " ")
        let keys = names.enumerated().map { f, name in
            (spaced && f > 0 ? [space] : []) + [quote] + name + [quote, colon] + (spaced ? [space] : [])
        }
        let n = names.count
        let longest = keys.map(\.count).max()! + 1  // and the value's first byte
        guard longest <= 32 else { return nil }
        words = longest <= 8 ? 1 : longest <= 16 ? 2 : 4
        patterns = .allocate(capacity: n * words)
        masks = .allocate(capacity: n * words)
        lengths = .allocate(capacity: n)
        for (f, key) in keys.enumerated() {
            lengths[f] = key.count
            for w in 0..<words {
                var word: UInt64 = 0, mask: UInt64 = 0
                for b in 0..<8 where w * 8 + b < key.count {
                    word |= UInt64(key[w * 8 + b]) << UInt64(8 * b)
                    mask |= 0xFF << UInt64(8 * b)
                }
                patterns[w * n + f] = word
                masks[w * n + f] = mask
            }
        }
    }

    func deallocate() {
        patterns.deallocate()
        masks.deallocate()
        lengths.deallocate()
    }
}
