import Kernels

/// The categories of a `onehot` feature, looked up by their UTF-8 bytes without building a String.
///
/// Categories match byte for byte (no Unicode normalization: "é" and "e\u{301}" differ, as they do
/// for scikit-learn's OneHotEncoder on Python strings). Open addressing over a power-of-two table
/// at most half full, so a lookup is one hash and, almost always, one comparison.
struct CategoryTable: Sendable {
    /// The categories' bytes, back to back.
    private let bytes: [UInt8]
    /// Category i is `bytes[starts[i]..<starts[i + 1]]`.
    private let starts: [Int]
    /// Slot → category index + 1 (0 = empty slot).
    private let slots: [Int32]
    private let mask: Int

    /// Number of categories (the feature's width).
    var count: Int { starts.count - 1 }

    /// - Returns: nil when two categories are equal; the caller reports which.
    init?(_ categories: [String]) {
        var bytes: [UInt8] = []
        var starts = [0]
        for c in categories {
            bytes += c.utf8
            starts.append(bytes.count)
        }
        var size = 4
        while size < categories.count * 2 { size *= 2 }
        var slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        let ok = bytes.withUnsafeBytes { all -> Bool in
            for i in categories.indices {
                let key = UnsafeRawBufferPointer(rebasing: all[starts[i]..<starts[i + 1]])
                var slot = Int(murmurHash3_32(key, seed: 0)) & mask
                while slots[slot] != 0 {
                    let j = Int(slots[slot]) - 1
                    if key.elementsEqual(all[starts[j]..<starts[j + 1]]) { return false }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(i + 1)
            }
            return true
        }
        guard ok else { return nil }
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
        self.mask = mask
    }

    /// The index of the category spelled by `key`, or nil for an unknown one.
    func index(of key: UnsafeRawBufferPointer) -> Int? {
        bytes.withUnsafeBytes { all in
            slots.withUnsafeBufferPointer { slots in
                var slot = Int(murmurHash3_32(key, seed: 0)) & mask
                while slots[slot] != 0 {
                    let i = Int(slots[slot]) - 1
                    let start = starts[i], length = starts[i + 1] - start
                    if length == key.count
                        && (length == 0 || memoryEqual(all.baseAddress! + start, key.baseAddress!, length)) {
                        return i
                    }
                    slot = (slot + 1) & mask
                }
                return nil
            }
        }
    }

    /// The index of the category spelled like `value` in decimal (int fields).
    func index(ofDecimal value: Int64) -> Int? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            let n = writeDecimal(value, into: digits.baseAddress!)
            return index(of: UnsafeRawBufferPointer(start: digits.baseAddress!, count: n))
        }
    }
}

/// Writes `value` in decimal (at most 20 bytes: "-9223372036854775808") and returns the length.
func writeDecimal(_ value: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
    var magnitude = value.magnitude
    var n = 0
    if value < 0 {
        out[0] = UInt8(ascii: "-")
        n = 1
    }
    let first = n
    repeat {
        out[n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
        magnitude /= 10
        n += 1
    } while magnitude > 0
    var i = first, j = n - 1
    while i < j {
        (out[i], out[j]) = (out[j], out[i])
        i += 1
        j -= 1
    }
    return n
}

@inline(__always)
private func memoryEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    for i in 0..<count where a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) {
        return false
    }
    return true
}
