@testable import Messages
import TestSupport


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

/// The shared generator, under this target's name for it.
typealias SeededRandom = SplitMix64
