/// A growable, 64-byte-aligned byte buffer that frames are written into.
///
/// Encoders append little-endian fields; `frame(_:)` wraps a payload with its header and pads
/// the frame to a multiple of 64 bytes. One buffer is reused for every batch a stage emits, so
/// steady-state encoding does not allocate.
public final class FrameBuffer {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    /// Bytes written so far.
    public private(set) var count: Int = 0
    /// Offset of the frame being written (payload alignment is relative to it).
    private var frameStart: Int = 0

    public init(capacity: Int = 64 << 10) {
        self.capacity = max(capacity, FrameHeader.alignment)
        self.base = .allocate(byteCount: self.capacity, alignment: FrameHeader.alignment)
    }

    deinit { base.deallocate() }

    /// The bytes written so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Forgets the contents, keeps the memory.
    public func removeAll() {
        count = 0
        frameStart = 0
    }

    /// Makes room for `extra` more bytes without moving them later.
    public func reserve(_ extra: Int) {
        precondition(extra >= 0)
        let needed = count + extra
        guard needed > capacity else { return }
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: FrameHeader.alignment)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    // MARK: Fields

    @inline(__always)
    public func append<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        (base + count).storeBytes(of: value.littleEndian, as: T.self)
        count += MemoryLayout<T>.size
    }

    @inline(__always)
    public func append(_ value: Double) { append(value.bitPattern) }

    @inline(__always)
    public func append(_ value: Float) { append(value.bitPattern) }

    public func append(bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    public func append(bytes: [UInt8]) {
        bytes.withUnsafeBytes { append(bytes: $0) }
    }

    /// A length-prefixed (u32) byte string.
    public func append(lengthPrefixed bytes: UnsafeRawBufferPointer) {
        append(UInt32(bytes.count))
        append(bytes: bytes)
    }

    /// A length-prefixed (u32) UTF-8 string.
    public func append(string: String) {
        var s = string
        s.withUTF8 { append(lengthPrefixed: UnsafeRawBufferPointer($0)) }
    }

    /// Zero bytes until the offset from the current frame's start is a multiple of `alignment`.
    public func pad(to alignment: Int) {
        let relative = count - frameStart
        let padding = (alignment - relative % alignment) % alignment
        guard padding > 0 else { return }
        reserve(padding)
        (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: padding)
        count += padding
    }

    /// Appends `count` uninitialized elements of `T` (aligned for `T` first) and returns their offset.
    /// Use `pointer(at:)` after all appends that may grow the buffer are done.
    public func appendUninitialized<T>(_ type: T.Type, count n: Int, alignment: Int = MemoryLayout<T>.alignment) -> Int {
        pad(to: alignment)
        let offset = count
        reserve(n * MemoryLayout<T>.stride)
        count += n * MemoryLayout<T>.stride
        return offset
    }

    /// A typed pointer to elements written at `offset`.
    /// - Important: invalidated by any later append that grows the buffer.
    public func pointer<T>(at offset: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        precondition(offset % MemoryLayout<T>.alignment == 0 && offset <= count)
        return (base + offset).bindMemory(to: T.self, capacity: (count - offset) / MemoryLayout<T>.stride)
    }

    /// Overwrites a UInt32 already written at `offset` (for counts known only later).
    public func patch(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count)
        (base + offset).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    // MARK: Frames

    /// Appends one frame: the header, then whatever `body` appends, then padding to 64 bytes.
    /// The payload length in the header is filled in afterwards.
    public func frame(_ header: FrameHeader, body: (FrameBuffer) throws -> Void) rethrows {
        pad(to: FrameHeader.alignment)
        let start = count
        frameStart = start
        reserve(FrameHeader.size)
        count += FrameHeader.size
        try body(self)
        pad(to: FrameHeader.alignment)
        var h = header
        h.payloadLength = UInt32(count - start - FrameHeader.size)
        h.store(to: base + start)
        frameStart = count
    }

    /// Appends a frame whose payload is empty (drain, shutdown).
    public func frame(_ kind: FrameKind) {
        frame(FrameHeader(kind: kind)) { _ in }
    }
}
