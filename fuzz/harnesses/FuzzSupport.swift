// Helpers shared by every harness (compiled into each harness module).

/// SplitMix64: a small deterministic PRNG, seeded from the fuzz input so every run of an input
/// takes the same decisions (libFuzzer needs reproducible inputs).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where the harnesses fold every value they read, so that -O cannot drop a read (and the
/// bounds check or ASan check that comes with it) whose result is otherwise unused.
nonisolated(unsafe) var blackholeSink: UInt64 = 0

@inline(never)
func consume(_ value: UInt64) { blackholeSink &+= value }

@inline(never)
func consume(bytes: UnsafeRawBufferPointer) {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    blackholeSink &+= h
}

@inline(never)
func consume(_ string: String) { for b in string.utf8 { blackholeSink &+= UInt64(b) } }

@inline(never)
func consume(_ value: Double) { blackholeSink &+= value.bitPattern }

@inline(never)
func consume(_ value: Float) { blackholeSink &+= UInt64(value.bitPattern) }

/// Reports a broken invariant: a finding, so the process must die for libFuzzer to save the input.
func violated(_ what: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("fuzz invariant violated: \(what)", file: file, line: line)
}

/// A cursor over the fuzz input that hands out small decisions; past the end it yields zeros.
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: size)
    }

    var remaining: Int { bytes.count - offset }
    var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset...]) }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(truncatingIfNeeded: byte()) << (8 * i) }
        return v
    }

    mutating func take(_ n: Int) -> UnsafeRawBufferPointer {
        let k = max(0, min(n, remaining))
        defer { offset += k }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + k)])
    }
}

/// Cuts `count` bytes into chunks of random sizes (1 byte up to a few KB, sometimes all at
/// once): how a socket or a pipe delivers them.
func chunkSizes(_ count: Int, using rng: inout SplitMix64) -> [Int] {
    var sizes: [Int] = []
    var left = count
    while left > 0 {
        let n: Int
        switch rng.next() % 8 {
        case 0: n = 1
        case 1, 2: n = Int(rng.next() % 16) + 1
        case 3, 4: n = Int(rng.next() % 256) + 1
        case 5: n = Int(rng.next() % 4096) + 1
        case 6: n = 64
        default: n = left
        }
        sizes.append(min(n, left))
        left -= min(n, left)
    }
    return sizes
}
