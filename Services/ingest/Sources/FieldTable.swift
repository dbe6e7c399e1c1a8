import Glibc

/// Finds which schema field a JSON key or CSV header name names, by its bytes: no String is made
/// on the hot path.
///
/// An open-addressing hash table (FNV-1a over the key bytes, linear probing, load factor at
/// most 1/4) whose hits are confirmed by comparing the bytes. `matches(_:_:_:)` lets the JSON
/// parser test its guess (the field after the previous one) without hashing at all.
final class FieldTable {
    let count: Int
    private let names: UnsafeMutablePointer<UInt8>
    private let starts: UnsafeMutablePointer<Int>  // count + 1 offsets into `names`
    private let slots: UnsafeMutablePointer<Int32>  // field index or -1
    private let mask: Int
    /// Per field: its name's bytes as a little-endian word when it has at most 8 bytes and none
    /// that a JSON string would escape (else `wordLength` is -1), for `quotedKeyEnd`.
    private let words: UnsafeMutablePointer<UInt64>
    private let wordLengths: UnsafeMutablePointer<Int>

    /// - Throws: `IngestError.duplicateField` when two names are equal.
    init(names fieldNames: [String]) throws(IngestError) {
        count = fieldNames.count
        let utf8 = fieldNames.map { Array($0.utf8) }
        let total = utf8.reduce(0) { $0 + $1.count }
        names = .allocate(capacity: max(total, 1))
        starts = .allocate(capacity: count + 1)
        var size = 16
        while size < 4 * count { size *= 2 }
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: -1, count: size)
        words = .allocate(capacity: max(count, 1))
        wordLengths = .allocate(capacity: max(count, 1))
        for (index, bytes) in utf8.enumerated() {
            let plain = bytes.count <= 8 && !bytes.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
            words[index] = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            wordLengths[index] = plain ? bytes.count : -1
        }
        var offset = 0
        starts[0] = 0
        for (index, bytes) in utf8.enumerated() {
            for b in bytes {
                names[offset] = b
                offset += 1
            }
            starts[index + 1] = offset
        }
        for index in 0..<count {
            let key = UnsafePointer(names + starts[index])
            let length = starts[index + 1] - starts[index]
            guard lookup(key, length) < 0 else { throw .duplicateField(name: fieldNames[index]) }
            var slot = Self.hash(key, length) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    deinit {
        names.deallocate()
        starts.deallocate()
        slots.deallocate()
        words.deallocate()
        wordLengths.deallocate()
    }

    /// The index of the field named by `key[0..<length]`, or -1.
    func lookup(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int {
        var slot = Self.hash(key, length) & mask
        while true {
            let field = Int(slots[slot])
            if field < 0 || matches(field, key, length) { return field }
            slot = (slot + 1) & mask
        }
    }

    /// When the JSON string whose content starts at `p[start]` is exactly field `field`'s name
    /// (a valid index), the index of its closing quote; else nil. One 8-byte compare, no scan:
    /// the test for the usual key, the one the schema order predicts.
    func quotedKeyEnd(_ field: Int, _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        let length = wordLengths[field]
        guard length >= 0 && end &- start > 8 else { return nil }
        let word = UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)
        let mask: UInt64 = length == 8 ? ~0 : (1 << (UInt64(length) &* 8)) &- 1
        guard word & mask == words[field] && p[start &+ length] == 0x22 else { return nil }
        return start &+ length
    }

    /// True when field `field` (which must be a valid index) is named `key[0..<length]`.
    func matches(_ field: Int, _ key: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        let start = starts[field]
        guard starts[field + 1] - start == length else { return false }
        // Keys are short: a byte loop beats a call to memcmp.
        if length > 16 { return memcmp(names + start, key, length) == 0 }
        let name = names + start
        var i = 0
        while i < length {
            if name[i] != key[i] { return false }
            i += 1
        }
        return true
    }

    private static func hash(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var i = 0
        while i < length {
            h = (h ^ UInt64(key[i])) &* 0x0000_0100_0000_01B3
            i += 1
        }
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}
