/// A bounds-checked cursor over a frame's payload.
///
/// Every read checks the remaining length first and throws `FrameError.truncated` rather than
/// reading past the end; counts read from the wire are checked against the bytes left before
/// they size anything.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int = 0
    /// Offset of `bytes` from the start of its frame (alignment is relative to the frame).
    private let frameOffset: Int

    /// A reader over a frame payload (which starts 32 bytes into its frame).
    public init(payload: UnsafeRawBufferPointer) {
        self.bytes = payload
        self.frameOffset = FrameHeader.size
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    @inline(__always)
    private mutating func need(_ n: Int, _ field: StaticString) throws(FrameError) {
        guard n >= 0, n <= remaining else { throw .truncated(field: "\(field)") }
    }

    public mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ field: StaticString) throws(FrameError) -> T {
        try need(MemoryLayout<T>.size, field)
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    public mutating func readDouble(_ field: StaticString) throws(FrameError) -> Double {
        Double(bitPattern: try read(UInt64.self, field))
    }

    /// A count that must fit `elementSize`-byte elements in the rest of the payload.
    public mutating func readCount(_ field: StaticString, elementSize: Int) throws(FrameError) -> Int {
        let n = Int(try read(UInt32.self, field))
        guard n <= remaining / max(elementSize, 1) else { throw .truncated(field: "\(field)") }
        return n
    }

    public mutating func skip(to alignment: Int) throws(FrameError) {
        let relative = frameOffset + offset
        let padding = (alignment - relative % alignment) % alignment
        try need(padding, "padding")
        offset += padding
    }

    /// The next `n` bytes, in place.
    public mutating func bytes(_ n: Int, _ field: StaticString) throws(FrameError) -> UnsafeRawBufferPointer {
        try need(n, field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        offset += n
        return slice
    }

    /// A u32 length and that many bytes, in place.
    public mutating func lengthPrefixed(_ field: StaticString) throws(FrameError) -> UnsafeRawBufferPointer {
        let n = try readCount(field, elementSize: 1)
        return try bytes(n, field)
    }

    /// A u32 length and that many bytes of valid UTF-8.
    public mutating func string(_ field: StaticString) throws(FrameError) -> String {
        let raw = try lengthPrefixed(field)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw .invalid(field: "\(field)", reason: "not valid UTF-8")
        }
        return s
    }

    /// `n` elements of `T` read in place (aligned to `alignment` relative to the frame first).
    /// - Throws: when they do not fit, or the receive buffer is not aligned for `T`.
    public mutating func array<T>(_ type: T.Type, count n: Int, alignment: Int = MemoryLayout<T>.alignment,
                                  _ field: StaticString) throws(FrameError) -> UnsafeBufferPointer<T> {
        try skip(to: alignment)
        guard n >= 0, n <= remaining / MemoryLayout<T>.stride else { throw .truncated(field: "\(field)") }
        let raw = try bytes(n * MemoryLayout<T>.stride, field)
        guard n > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        guard Int(bitPattern: raw.baseAddress!) % MemoryLayout<T>.alignment == 0 else {
            throw .invalid(field: "\(field)", reason: "receive buffer is not aligned")
        }
        return raw.bindMemory(to: T.self)
    }
}
