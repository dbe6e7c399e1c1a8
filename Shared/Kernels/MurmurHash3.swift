/// MurmurHash3, x86 32-bit variant, as used by scikit-learn's `FeatureHasher` and
/// `HashingVectorizer` (`sklearn.utils.murmurhash3_32(..., positive=True)`).
///
/// - Parameters:
///   - bytes: the key (for strings: their UTF-8 bytes, as scikit-learn encodes them).
///   - seed: the seed (scikit-learn uses 0).
/// - Returns: the hash as an unsigned value.
public func murmurHash3_32(_ bytes: UnsafeRawBufferPointer, seed: UInt32) -> UInt32 {
    let c1: UInt32 = 0xcc9e_2d51
    let c2: UInt32 = 0x1b87_3593
    let count = bytes.count
    var h = seed

    let blocks = count / 4
    for i in 0..<blocks {
        var k = bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian
        k &*= c1
        k = rotateLeft(k, 15)
        k &*= c2
        h ^= k
        h = rotateLeft(h, 13)
        h = h &* 5 &+ 0xe654_6b64
    }

    let tail = blocks * 4
    var k: UInt32 = 0
    switch count & 3 {
    case 3:
        k ^= UInt32(bytes[tail + 2]) << 16
        fallthrough
    case 2:
        k ^= UInt32(bytes[tail + 1]) << 8
        fallthrough
    case 1:
        k ^= UInt32(bytes[tail])
        k &*= c1
        k = rotateLeft(k, 15)
        k &*= c2
        h ^= k
    default:
        break
    }

    h ^= UInt32(truncatingIfNeeded: count)
    h ^= h >> 16
    h &*= 0x85eb_ca6b
    h ^= h >> 13
    h &*= 0xc2b2_ae35
    h ^= h >> 16
    return h
}

/// The same hash as `murmurHash3_32`, reinterpreted as signed, like scikit-learn's default
/// `murmurhash3_32(..., positive=False)`.
public func murmurHash3_32Signed(_ bytes: UnsafeRawBufferPointer, seed: UInt32) -> Int32 {
    Int32(bitPattern: murmurHash3_32(bytes, seed: seed))
}

/// Hashes the UTF-8 bytes of `string`, as scikit-learn does for `str` keys.
public func murmurHash3_32(_ string: String, seed: UInt32) -> UInt32 {
    var copy = string
    return copy.withUTF8 { murmurHash3_32(UnsafeRawBufferPointer($0), seed: seed) }
}

private func rotateLeft(_ x: UInt32, _ r: UInt32) -> UInt32 {
    (x << r) | (x >> (32 - r))
}
