/// sender → receiver, once per data connection, right after the hello: the sender's ring of
/// shared memory, attached to this frame as a file descriptor (SCM_RIGHTS). The receiver maps
/// it read-only; the sender has sealed it so that it cannot shrink (no SIGBUS for the reader)
/// and so that nobody else can map it writable.
public struct SharedRingOffer: Sendable, Equatable {
    /// Bytes in the ring (the memory file's size).
    public var size: UInt64
    public init(size: UInt64) { self.size = size }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .sharedRing)) { out in out.append(size) }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> SharedRingOffer {
        var r = try reader(frame, .sharedRing)
        return SharedRingOffer(size: try r.read(UInt64.self, "ring.size"))
    }
}

/// sender → receiver: the next frame on this connection was written into the sender's ring
/// at `offset`, `length` bytes (a whole frame, header included). `index` counts the shared
/// frames of the connection from 0, so a lost or repeated reference is caught.
public struct SharedFrameRef: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
    public var index: UInt64

    public init(offset: UInt64, length: UInt64, index: UInt64) {
        self.offset = offset
        self.length = length
        self.index = index
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .sharedFrame)) { out in
            out.append(offset)
            out.append(length)
            out.append(index)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> SharedFrameRef {
        var r = try reader(frame, .sharedFrame)
        return SharedFrameRef(offset: try r.read(UInt64.self, "shared.offset"), length: try r.read(UInt64.self, "shared.length"),
                              index: try r.read(UInt64.self, "shared.index"))
    }
}
