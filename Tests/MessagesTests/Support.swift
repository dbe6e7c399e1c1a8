@testable import Messages

/// A deterministic PRNG for tests (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
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

/// A receive buffer as a connection keeps one: bytes arrive in pieces, complete frames are taken
/// from the front, the rest is moved back to the (aligned) start.
final class TestReceiver {
    let buffer = FrameBuffer(capacity: 64)
    var decoder = FrameDecoder()

    /// Appends `chunk`, then hands every complete frame to `handle`.
    func receive(_ chunk: UnsafeRawBufferPointer, handle: (Frame) throws -> Void) throws {
        buffer.append(bytes: chunk)
        var consumedTotal = 0
        while let (frame, consumed) = try decoder.decode(
            UnsafeRawBufferPointer(rebasing: buffer.bytes[consumedTotal...])) {
            try handle(frame)
            consumedTotal += consumed
        }
        let rest = Array(buffer.bytes[consumedTotal...])
        buffer.removeAll()
        buffer.append(bytes: rest)
    }

    var pending: Int { buffer.count }
}

/// Decodes the single frame in `buffer`.
func onlyFrame(_ buffer: FrameBuffer) throws -> Frame {
    let decoded = try FrameDecoder().decode(buffer.bytes)
    guard let (frame, consumed) = decoded, consumed == buffer.count else {
        throw FrameError.invalid(field: "test", reason: "expected exactly one frame")
    }
    return frame
}

func stringColumn(_ values: [String], missing: [Bool] = []) -> Column {
    var offsets: [UInt32] = [0]
    var bytes: [UInt8] = []
    for v in values {
        bytes += Array(v.utf8)
        offsets.append(UInt32(bytes.count))
    }
    return Column(.string(offsets: offsets, bytes: bytes), missing: missing)
}
