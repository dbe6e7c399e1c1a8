import Glibc
import Messages

/// One framed, non-blocking stream connection: frames in (read in place), bytes out (queued).
public final class Connection {
    public let fd: Int32
    /// How log lines name this connection ("infer.2", "control", ...).
    public var name: String
    private let receive = ByteQueue()
    private let outgoing = SendQueue()
    public var decoder: FrameDecoder
    /// The peer closed its sending side (end of file seen); frames already received remain.
    public private(set) var peerClosed = false
    public private(set) var isClosed = false
    /// Set by the owner after the first frame (the hello) was accepted.
    public var hello: Hello?
    /// For an accepted connection, the process that connected, from the kernel (SO_PEERCRED),
    /// recorded at accept: every decision about the peer uses this, never `hello.pid`.
    /// nil for connections this process made.
    public internal(set) var peerPID: pid_t?

    /// Descriptors that came with received bytes (SCM_RIGHTS), not yet taken.
    private var receivedDescriptors: [Int32] = []
    /// The kernel dropped a descriptor sent here (this process had no room for it).
    private var lostDescriptors = false
    /// Set on a data connection's receiving side: the peer may offer a ring of shared memory
    /// and send frames through it (`SharedRingOffer`, `SharedFrameRef`).
    public var acceptsSharedFrames = false
    /// The sender's ring, once offered and taken (credits then say so, and the sender uses it).
    public private(set) var ring: SharedRingView?
    /// Where a frame sent through the ring is copied to, and the reference it came as.
    private var expansion: FrameBuffer?
    private var expanded: (frame: Frame, referenceLength: Int)?

    /// Most bytes read in one `readAvailable` call, so one busy peer cannot starve the others.
    static let readBurst = 4 << 20

    public init(fd: Int32, name: String, decoder: FrameDecoder = FrameDecoder()) {
        self.fd = fd
        self.name = name
        self.decoder = decoder
        // Room for a whole batch in the socket: with the default 208 KiB, a batch of wide
        // records (256 × 1.6 KB) crosses in pieces, each waiting for the receiver to read the
        // last, and the sender's loop wakes for every piece. Measured (1/1/1/1, release, AMD
        // EPYC, 4 alternating pairs): 200k records of 1.6 KB in 0.9 s instead of 1.2 s; the
        // bench workloads (0.1–0.9 KB records) unchanged or a little faster. Credits still
        // bound what is in flight; the kernel only uses the room it needs.
        _ = try? Sys.setSocketOption(fd, level: SOL_SOCKET, option: SO_SNDBUF, Int32(2 << 20), name: "SO_SNDBUF")
    }

    deinit { close() }

    /// True while queued bytes wait for the socket to accept them.
    public var wantsWrite: Bool { !outgoing.isEmpty && !isClosed }
    public var queuedOutputBytes: Int { outgoing.count }

    /// Reads what the socket has. Returns false once the peer has closed (end of file).
    /// - Throws: `SystemError` (e.g. ECONNRESET) or `FrameError` when a header is malformed or
    ///   announces a frame over the limit (checked before the buffer grows for it).
    @discardableResult
    public func readAvailable() throws -> Bool {
        guard !peerClosed, !isClosed else { return false }
        // Room for the whole frame at the front, once its header is known and valid.
        var need = 64 << 10
        if let header = try decoder.peekHeader(receive.unread) {
            need = max(need, header.frameLength - receive.unread.count)
        }
        let n = try receive.fill(from: fd, minimumSpace: need, limit: Self.readBurst, descriptors: &receivedDescriptors,
                                     lostDescriptors: &lostDescriptors)
        if receivedDescriptors.count > Self.maxHeldDescriptors {
            // Only a ring offer brings one; more is a peer's mistake, not worth a descriptor each.
            for extra in receivedDescriptors[Self.maxHeldDescriptors...] { Sys.close(extra) }
            receivedDescriptors.removeLast(receivedDescriptors.count - Self.maxHeldDescriptors)
        }
        if n == 0 { peerClosed = true }
        return !peerClosed
    }

    static let maxHeldDescriptors = 2
    /// The largest copy buffer kept for frames read from a ring (a frame larger gets its own).
    static let keptExpansion = 4 << 20

    /// The next complete frame, in place, without consuming it. A ring offer is taken here
    /// (its memory file checked and kept) and a frame sent through the ring is returned as its copy, so
    /// callers see the frames the peer sent whichever way they came.
    /// - Important: the frame's payload is valid until `consume` or the next `readAvailable`.
    public func peekFrame() throws(FrameError) -> Frame? {
        while true {
            if let expanded { return expanded.frame }
            guard let (frame, length) = try decoder.decode(receive.unread) else { return nil }
            switch frame.header.kind {
            case .sharedRing:
                guard acceptsSharedFrames, ring == nil else {
                    throw .unexpected(kind: .sharedRing, context: ring == nil ? "on a connection that takes no ring" : "after a ring was offered")
                }
                let offer = try SharedRingOffer.decode(frame)
                if receivedDescriptors.isEmpty {
                    // Ours to answer for when the kernel dropped it (no descriptor free here):
                    // the ring is declined, unacknowledged, and the frames come inline.
                    guard lostDescriptors else { throw .invalid(field: "ring", reason: "the offer came without a memory file") }
                    Log.error("\(name) offered shared memory, but its memory file could not be received here (out of descriptors): frames come over the socket")
                } else {
                    ring = try SharedRingView(fd: receivedDescriptors.removeFirst(), offer: offer)
                }
                receive.consume(length)
            case .sharedFrame:
                guard let ring else { throw .unexpected(kind: .sharedFrame, context: "before a ring was offered and taken") }
                let copy = expansion ?? FrameBuffer(capacity: 256 << 10)
                expansion = copy
                try ring.copy(try SharedFrameRef.decode(frame), into: copy, decoder: decoder)
                // Decoded and checked from this side's copy, like a frame read from the socket.
                guard let (inner, innerLength) = try decoder.decode(copy.bytes), innerLength == copy.count else {
                    throw .invalid(field: "shared.length", reason: "the ring's bytes are not one whole frame")
                }
                expanded = (inner, length)
                return inner
            default:
                return frame
            }
        }
    }

    /// Blocks until a whole frame has arrived (flushing what is queued meanwhile) and returns
    /// it in place, or nil when the peer closes first or `timeoutMillis` passes (-1: no limit).
    public func awaitFrame(timeoutMillis: Int32 = -1) throws -> Frame? {
        let deadline = timeoutMillis < 0 ? UInt64.max : Sys.monotonicNanos() + UInt64(timeoutMillis) * 1_000_000
        var poll = PollSet()
        while true {
            if let frame = try peekFrame() { return frame }
            try flush()
            let now = Sys.monotonicNanos()
            guard now < deadline else { return nil }
            poll.removeAll()
            poll.add(fd, read: true, write: wantsWrite)
            try poll.wait(timeoutMillis: deadline == .max ? -1 : Int32((deadline - now) / 1_000_000) + 1)
            if !(try readAvailable()), try peekFrame() == nil { return nil }
        }
    }

    /// Whole frames received and not yet consumed (headers walked, payloads not decoded).
    public func completeFrameCount() -> Int {
        var n = 0
        var rest = receive.unread
        while let header = try? decoder.peekHeader(rest), rest.count >= header.frameLength {
            if header.kind != .sharedRing { n += 1 }
            rest = UnsafeRawBufferPointer(rebasing: rest[header.frameLength...])
        }
        return n
    }

    /// Drops the frame `peekFrame` returned.
    public func consume(_ frame: Frame) {
        if let expanded {
            receive.consume(expanded.referenceLength)
            self.expanded = nil
            // After an unusually large frame, its copy's memory goes back.
            if let copy = expansion, copy.capacity > Self.keptExpansion { expansion = nil }
        } else {
            receive.consume(frame.header.frameLength)
        }
    }

    /// Bytes received that do not yet form a whole frame (or wait to be consumed).
    public var bufferedInputBytes: Int { receive.unread.count }

    /// Writes `bytes` (whole frames) now as far as the socket takes them; queues a copy of the rest.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        guard !isClosed else { return }
        let written = outgoing.isEmpty ? try writeNow(bytes) : 0
        outgoing.append(copying: UnsafeRawBufferPointer(rebasing: bytes[written...]))
    }

    /// Writes the frames in `buffer` now as far as the socket takes them and queues the rest
    /// without copying: the connection keeps `buffer` until it is written.
    /// - Important: do not modify `buffer` while `isKnownUniquelyReferenced` says it is shared.
    public func send(frames buffer: FrameBuffer) throws(SystemError) {
        guard !isClosed else { return }
        let written = outgoing.isEmpty ? try writeNow(buffer.bytes) : 0
        if written < buffer.count { outgoing.append(buffer, from: written) }
    }

    /// Sends `bytes` (whole frames) with `descriptor` attached, if nothing is queued and the
    /// socket takes all of it at once; false when nothing was sent. If only part of it went, the
    /// stream is out of step: the connection is closed (and false returned).
    public func send(_ bytes: UnsafeRawBufferPointer, attaching descriptor: Int32) throws(SystemError) -> Bool {
        guard !isClosed, outgoing.isEmpty else { return false }
        guard let n = try Sys.send(fd, bytes, attaching: descriptor), n > 0 else { return false }
        if n < bytes.count { close() }
        return n == bytes.count
    }

    private func writeNow(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        var done = 0
        while done < bytes.count {
            guard let n = try Sys.write(fd, from: bytes.baseAddress! + done, count: bytes.count - done) else { break }
            done += n
        }
        return done
    }

    /// Encodes frames with `body` into `scratch` and sends them.
    public func send(using scratch: FrameBuffer, _ body: (FrameBuffer) -> Void) throws(SystemError) {
        scratch.removeAll()
        body(scratch)
        try send(scratch.bytes)
        scratch.removeAll()
    }

    /// Writes queued bytes; true when nothing is left.
    @discardableResult
    public func flush() throws(SystemError) -> Bool {
        guard !isClosed else { return true }
        return try outgoing.flush(to: fd)
    }

    /// Stops sending (after what is queued has been flushed by the caller).
    public func shutdownWrite() { UnixSocket.shutdownWrite(fd) }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        Sys.close(fd)
        outgoing.removeAll()
        for descriptor in receivedDescriptors { Sys.close(descriptor) }
        receivedDescriptors.removeAll()
        expanded = nil
        ring = nil
    }
}

/// Bytes waiting for a socket: borrowed frame buffers (written without a copy) and copies of
/// small or partly written frames, in order.
final class SendQueue {
    private struct Segment {
        let buffer: FrameBuffer
        var start: Int
        let end: Int
        /// A buffer of this queue's own, which later copies may extend.
        let owned: Bool
    }

    private var segments: [Segment] = []
    private(set) var count = 0

    var isEmpty: Bool { segments.isEmpty }

    func append(copying bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if let last = segments.last, last.owned, last.end == last.buffer.count {
            last.buffer.append(bytes: bytes)
            segments[segments.count - 1] = Segment(buffer: last.buffer, start: last.start, end: last.buffer.count, owned: true)
        } else {
            let buffer = FrameBuffer(capacity: max(bytes.count, 64 << 10))
            buffer.append(bytes: bytes)
            segments.append(Segment(buffer: buffer, start: 0, end: buffer.count, owned: true))
        }
        count += bytes.count
    }

    func append(_ buffer: FrameBuffer, from start: Int) {
        segments.append(Segment(buffer: buffer, start: start, end: buffer.count, owned: false))
        count += buffer.count - start
    }

    /// Writes as much as the descriptor takes; true when everything is sent.
    func flush(to fd: Int32) throws(SystemError) -> Bool {
        while let first = segments.first {
            let pending = first.end - first.start
            guard let n = try Sys.write(fd, from: first.buffer.base + first.start, count: pending) else { return false }
            count -= n
            if n == pending {
                segments.removeFirst()
            } else {
                segments[0].start += n
            }
        }
        return true
    }

    func removeAll() {
        segments.removeAll()
        count = 0
    }
}
