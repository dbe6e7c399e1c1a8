import Glibc
import Messages

/// One framed, non-blocking stream connection: frames in (read in place), bytes out (queued).
public final class Connection {
    public let fd: Int32
    /// How log lines name this connection ("infer.2", "control", ...).
    public var name: String
    private let receive = ByteQueue()
    private let outgoing = ByteQueue(capacity: 64 << 10)
    public var decoder: FrameDecoder
    /// The peer closed its sending side (end of file seen); frames already received remain.
    public private(set) var peerClosed = false
    public private(set) var isClosed = false
    /// Set by the owner after the first frame (the hello) was accepted.
    public var hello: Hello?

    /// Most bytes read in one `readAvailable` call, so one busy peer cannot starve the others.
    static let readBurst = 4 << 20

    public init(fd: Int32, name: String, decoder: FrameDecoder = FrameDecoder()) {
        self.fd = fd
        self.name = name
        self.decoder = decoder
    }

    deinit { close() }

    /// True while queued bytes wait for the socket to accept them.
    public var wantsWrite: Bool { !outgoing.isEmpty && !isClosed }
    public var queuedOutputBytes: Int { outgoing.unread.count }

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
        let n = try receive.fill(from: fd, minimumSpace: need, limit: Self.readBurst)
        if n == 0 { peerClosed = true }
        return !peerClosed
    }

    /// The next complete frame, in place, without consuming it.
    /// - Important: the frame's payload is valid until `consume` or the next `readAvailable`.
    public func peekFrame() throws(FrameError) -> Frame? {
        try decoder.decode(receive.unread)?.frame
    }

    /// Drops the frame `peekFrame` returned.
    public func consume(_ frame: Frame) {
        receive.consume(frame.header.frameLength)
    }

    /// Bytes received that do not yet form a whole frame (or wait to be consumed).
    public var bufferedInputBytes: Int { receive.unread.count }

    /// Queues `bytes` (whole frames) and writes what the socket takes now.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        guard !isClosed else { return }
        var rest = bytes
        if outgoing.isEmpty {
            // Fast path: straight from the caller's buffer, no copy unless the socket is full.
            while rest.count > 0 {
                guard let n = try Sys.write(fd, from: rest.baseAddress!, count: rest.count) else { break }
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
        outgoing.append(rest)
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
    }
}

extension ByteQueue {
    func removeAll() { consume(unread.count) }
}
