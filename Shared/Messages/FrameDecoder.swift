/// One complete frame seen in place: its header and a view of its payload.
///
/// - Important: `payload` points into the caller's receive buffer and is valid only until that
///   buffer is next written to or compacted. Decode what you need inside that window.
public struct Frame {
    public let header: FrameHeader
    public let payload: UnsafeRawBufferPointer

    public init(header: FrameHeader, payload: UnsafeRawBufferPointer) {
        self.header = header
        self.payload = payload
    }
}

/// Pure, incremental frame decoder: give it the bytes received so far, it finds the next frame.
///
/// It never allocates: the caller owns the buffer. The header is validated (magic, version,
/// kind, length limit, alignment) as soon as its 32 bytes are present, so a caller can refuse
/// to grow its buffer for a frame that would exceed the limit.
public struct FrameDecoder: Sendable {
    /// Largest payload accepted, in bytes.
    public var maxPayload: Int

    /// Default limit: 64 MiB, far above any batch the pipeline makes (a batch of 4096 rows of
    /// 2048 floats is 32 MiB), and small enough that a hostile length cannot exhaust memory.
    public static let defaultMaxPayload = 64 << 20

    public init(maxPayload: Int = FrameDecoder.defaultMaxPayload) {
        self.maxPayload = maxPayload
    }

    /// The header of the frame at the start of `bytes`, or nil when fewer than 32 bytes are there.
    public func peekHeader(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> FrameHeader? {
        guard bytes.count >= FrameHeader.size else { return nil }
        return try FrameHeader.load(from: bytes, maxPayload: maxPayload)
    }

    /// The frame at the start of `bytes` and how many bytes it spans, or nil if it is not complete.
    /// - Throws: `FrameError` when the header is malformed.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> (frame: Frame, consumed: Int)? {
        guard let header = try peekHeader(bytes) else { return nil }
        let total = header.frameLength
        guard bytes.count >= total else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[FrameHeader.size..<total])
        return (Frame(header: header, payload: payload), total)
    }
}
