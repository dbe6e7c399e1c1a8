/// sender → receiver, once per data connection, right after the hello: the sender's ring of
/// shared memory, attached to this frame as a file descriptor (SCM_RIGHTS). The sender has
/// sealed it (no resizing, no writer but its own mapping); the receiver checks the seals and
/// reads frames out of it with pread(2), and says in its credits that it took it.
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

/// What one sender put on its data connections, by the way it went: through shared rings or
/// inline over the sockets (frames and bytes). Replicas report theirs in heartbeats.
public struct TransportCounts: Sendable, Equatable {
    public var sharedFrames: UInt64 = 0
    public var sharedBytes: UInt64 = 0
    public var inlineFrames: UInt64 = 0
    public var inlineBytes: UInt64 = 0

    public init(sharedFrames: UInt64 = 0, sharedBytes: UInt64 = 0, inlineFrames: UInt64 = 0, inlineBytes: UInt64 = 0) {
        self.sharedFrames = sharedFrames
        self.sharedBytes = sharedBytes
        self.inlineFrames = inlineFrames
        self.inlineBytes = inlineBytes
    }

    public static func + (a: TransportCounts, b: TransportCounts) -> TransportCounts {
        TransportCounts(sharedFrames: a.sharedFrames + b.sharedFrames, sharedBytes: a.sharedBytes + b.sharedBytes,
                        inlineFrames: a.inlineFrames + b.inlineFrames, inlineBytes: a.inlineBytes + b.inlineBytes)
    }

    public func encode(into out: FrameBuffer) {
        for v in [sharedFrames, sharedBytes, inlineFrames, inlineBytes] { out.append(v) }
    }

    public static func decode(_ r: inout ByteReader, _ field: StaticString) throws(FrameError) -> TransportCounts {
        TransportCounts(sharedFrames: try r.read(UInt64.self, field), sharedBytes: try r.read(UInt64.self, field),
                        inlineFrames: try r.read(UInt64.self, field), inlineBytes: try r.read(UInt64.self, field))
    }
}
