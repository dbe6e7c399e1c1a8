import Glibc
import Messages

/// The receiving side of one data-path hop: a listening socket, the upstream connections it
/// accepted (each checked: same user, right cookie, right stage), their queued frames, and the
/// credits this side grants.
public final class UpstreamSet {
    public final class Link {
        public let connection: Connection
        /// Credits earned by consuming frames, not yet sent back.
        var owedCredits = 0
        init(connection: Connection) { self.connection = connection }
        public var isAuthenticated: Bool { connection.hello != nil }
    }

    public let listener: Int32
    public let path: String
    private let cookie: String
    private let expected: NodeKind
    private let initialCredits: UInt32
    private let scratch = FrameBuffer(capacity: 4096)
    public private(set) var links: [Link] = []
    private var roundRobin = 0
    private var accepted = 0
    private var invalidPeers: [Int32] = []
    /// Set when the run is ending: peers going away then is expected, not worth a log line.
    public var expectClosing = false

    /// Listens at `path` for `expected` nodes.
    public init(path: String, cookie: String, expected: NodeKind, initialCredits: UInt32) throws {
        self.listener = try UnixSocket.listen(path: path)
        self.path = path
        self.cookie = cookie
        self.expected = expected
        self.initialCredits = initialCredits
    }

    deinit {
        Sys.close(listener)
        try? Sys.unlink(path)
    }

    /// Adds the listener and every link to `poll`; returns (listener slot, link slots).
    public func register(in poll: inout PollSet) -> (Int, [Int]) {
        let l = poll.add(listener)
        return (l, links.map { poll.add($0.connection.fd, read: !$0.connection.peerClosed, write: $0.connection.wantsWrite) })
    }

    /// Accepts new connections and reads from ready ones.
    public func handle(_ poll: PollSet, slots: (Int, [Int])) {
        for (link, slot) in zip(links, slots.1) {
            if poll.writable(slot) && link.connection.wantsWrite { flushLink(link) }
            if poll.readable(slot) { read(link) }
        }
        if poll.readable(slots.0) { acceptAll() }
        links.removeAll { $0.connection.isClosed }
    }

    /// The next data frame to process, taking links in turn; nil when none has a whole frame.
    public func next() -> (Link, Frame)? {
        let n = links.count
        guard n > 0 else { return nil }
        for k in 0..<n {
            let link = links[(roundRobin + k) % n]
            guard link.isAuthenticated, !link.connection.isClosed else { continue }
            do {
                if let frame = try link.connection.peekFrame() {
                    guard frame.header.kind.isData else {
                        throw FrameError.unexpected(kind: frame.header.kind, context: "on a data connection")
                    }
                    roundRobin = (roundRobin + k + 1) % n
                    return (link, frame)
                }
            } catch {
                reject(link, because: error)
            }
        }
        return nil
    }

    /// Marks `frame` (from `next`) as processed: it leaves the buffer and earns its sender a credit.
    public func consumed(_ frame: Frame, from link: Link) {
        link.connection.consume(frame)
        link.owedCredits += 1
    }

    /// Closes `link` after a frame that failed validation: the peer's failure, not ours. An
    /// authenticated peer is remembered (`takeInvalidPeer`) for the supervisor to replace.
    public func reject(_ link: Link, because error: any Error) {
        guard !link.connection.isClosed else { return }
        Log.error("closing connection from \(link.connection.name): \(error)")
        // Over the size limit too: a replica fails a batch whose output would be (Replica.loop).
        if let pid = link.connection.hello?.pid, pid > 0 { invalidPeers.append(pid) }
        link.connection.close()
    }

    /// The pid of a peer whose frame failed validation since the last call, if any.
    public func takeInvalidPeer() -> Int32? {
        invalidPeers.isEmpty ? nil : invalidPeers.removeFirst()
    }

    /// Closes `link` (an I/O error, or a peer gone in the middle of a frame).
    public func drop(_ link: Link, because reason: String) {
        guard !link.connection.isClosed else { return }
        if !expectClosing { Log.error("closing connection from \(link.connection.name): \(reason)") }
        link.connection.close()
    }

    /// Sends owed credits; closes links whose peer has finished and whose frames are all consumed.
    public func settle() {
        for link in links where !link.connection.isClosed {
            let drained = link.connection.peerClosed && link.connection.bufferedInputBytes == 0
            if link.owedCredits > 0 && !link.connection.peerClosed {
                let n = UInt32(link.owedCredits)
                link.owedCredits = 0
                do { try link.connection.send(using: scratch) { Credit(count: n).encode(into: $0) } } catch {
                    drop(link, because: "\(error)")
                }
            }
            if drained {
                link.connection.close()
            } else if link.connection.peerClosed, (try? link.connection.peekFrame()) == nil {
                drop(link, because: "closed in the middle of a frame")
            }
        }
        links.removeAll { $0.connection.isClosed }
    }

    /// Complete frames waiting over all links.
    public var hasQueuedFrames: Bool { links.contains { $0.connection.bufferedInputBytes > 0 } }

    /// Open links.
    public var openCount: Int { links.count }

    private func acceptAll() {
        while true {
            let fd: Int32
            do {
                guard let accepted = try UnixSocket.acceptSameUser(listener, at: path) else { return }
                fd = accepted.fd
            } catch {
                Log.error("accept on \(path): \(error)")
                return
            }
            accepted += 1
            links.append(Link(connection: Connection(fd: fd, name: "\(expected.name) connection \(accepted)")))
        }
    }

    private func read(_ link: Link) {
        do {
            try link.connection.readAvailable()
            if link.connection.hello == nil, let frame = try link.connection.peekFrame() {
                let hello = try Hello.decode(frame)
                guard hello.cookie == cookie else {
                    throw FrameError.invalid(field: "hello.cookie", reason: "wrong run cookie")
                }
                guard hello.purpose == .data, hello.node == expected else {
                    throw FrameError.invalid(field: "hello.node", reason: "expected a data connection from \(expected.name), got \(hello.node.name)")
                }
                link.connection.consume(frame)
                link.connection.hello = hello
                link.connection.name = "\(hello.node.name).\(hello.replica)"
                try link.connection.send(using: scratch) { Credit(count: initialCredits).encode(into: $0) }
            }
        } catch let error as FrameError where link.isAuthenticated {
            reject(link, because: error)
        } catch {
            drop(link, because: "\(error)")
        }
    }

    private func flushLink(_ link: Link) {
        do { try link.connection.flush() } catch { drop(link, because: "\(error)") }
    }
}
