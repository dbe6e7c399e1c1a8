/// SHA-256 (FIPS 180-4), fed in pieces of any size.
///
/// Pure Swift, written for `-O`: the block function reads whole 64-byte blocks through one raw
/// pointer whose range is checked once per `update`, and works on `UInt32` with wrapping
/// arithmetic, so the optimizer sees plain rotates and adds (no bounds or overflow checks).
public struct SHA256: Sendable {
    public static let digestByteCount = 32
    public static let blockByteCount = 64

    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19)
    /// The bytes of an incomplete block (the first `partialCount` are used).
    private var partial: [UInt8] = Array(repeating: 0, count: SHA256.blockByteCount)
    private var partialCount = 0
    /// Bytes given to `update` so far.
    private var length: UInt64 = 0

    public init() {}

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var next = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        length &+= UInt64(remaining)
        if partialCount > 0 {
            let take = min(remaining, Self.blockByteCount - partialCount)
            partial.withUnsafeMutableBytes { ($0.baseAddress! + partialCount).copyMemory(from: next, byteCount: take) }
            partialCount += take
            next += take
            remaining -= take
            guard partialCount == Self.blockByteCount else { return }
            partial.withUnsafeBytes { compress(blocks: $0.baseAddress!, count: 1) }
            partialCount = 0
        }
        let whole = remaining / Self.blockByteCount
        if whole > 0 {
            compress(blocks: next, count: whole)
            next += whole * Self.blockByteCount
            remaining -= whole * Self.blockByteCount
        }
        if remaining > 0 {
            partial.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: next, byteCount: remaining) }
            partialCount = remaining
        }
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Adds the UTF-8 bytes of `text` to the message.
    public mutating func update(_ text: String) {
        update(Array(text.utf8))
    }

    /// The digest of the bytes given so far (32 bytes). The hash itself is left as it was, so more
    /// bytes may follow for a longer message.
    public func finalize() -> [UInt8] {
        var last = self
        // Padding: 0x80, zeros up to 56 bytes into a block, then the length in bits, big-endian.
        let bits = length &* 8
        var tail: [UInt8] = [0x80]
        let zeros = (Self.blockByteCount * 2 - 9 - partialCount) % Self.blockByteCount
        tail += repeatElement(0, count: zeros)
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        last.update(tail)
        precondition(last.partialCount == 0, "SHA-256 padding must end on a block boundary")
        var digest: [UInt8] = []
        digest.reserveCapacity(Self.digestByteCount)
        let s = last.state
        for word in [s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7] {
            digest += [UInt8(truncatingIfNeeded: word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                       UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
        }
        return digest
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hash = SHA256()
        hash.update(bytes)
        return hash.finalize()
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// Lowercase hexadecimal, two digits a byte (as `sha256sum` prints digests).
    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Runs the block function over `count` consecutive 64-byte blocks at `blocks`.
    private mutating func compress(blocks: UnsafeRawPointer, count: Int) {
        var (h0, h1, h2, h3, h4, h5, h6, h7) = state
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            Self.roundConstants.withUnsafeBufferPointer { constants in
                let w = schedule.baseAddress!, k = constants.baseAddress!
                for block in 0..<count {
                    let p = blocks + block * Self.blockByteCount
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let x = w[t - 15], y = w[t - 2]
                        let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3)
                        let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y &>> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    // Eight rounds per pass, the variables' roles rotating through the calls,
                    // so that no round spends moves on shifting a…h along.
                    var t = 0
                    while t < 64 {
                        step(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                        step(h, a, b, &c, d, e, f, &g, k[t + 1] &+ w[t + 1])
                        step(g, h, a, &b, c, d, e, &f, k[t + 2] &+ w[t + 2])
                        step(f, g, h, &a, b, c, d, &e, k[t + 3] &+ w[t + 3])
                        step(e, f, g, &h, a, b, c, &d, k[t + 4] &+ w[t + 4])
                        step(d, e, f, &g, h, a, b, &c, k[t + 5] &+ w[t + 5])
                        step(c, d, e, &f, g, h, a, &b, k[t + 6] &+ w[t + 6])
                        step(b, c, d, &e, f, g, h, &a, k[t + 7] &+ w[t + 7])
                        t += 8
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
                }
            }
        }
        state = (h0, h1, h2, h3, h4, h5, h6, h7)
    }

    /// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

/// One SHA-256 round (FIPS 180-4, 6.2.2 step 3): `d` takes T1 added, `h` becomes T1 + T2 (the new `a`); the caller renames
/// the rest.
private func step(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
                   _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32) {
    let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ kw
    let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
    d &+= t1
    h = t1 &+ t2
}

private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &>> n) | (x &<< (32 &- n))
}
