import Glibc
import Messages

/// The receiving side of one data-path hop: a listening socket behind a `HandshakeGate`, the
/// upstream connections it admitted (each checked: same user, right cookie, its own pid, right
/// stage), their queued frames, and the credits this side grants.
public final class UpstreamSet {
    public final class Link {
        public let connection: Connection
        /// Credits earned by consuming frames, not yet sent back.
        var owedCredits = 0
        /// When each whole frame waiting on the link had arrived, oldest first.
        var arrivals: [UInt64] = []
        var arrivalsHead = 0
        init(connection: Connection) { self.connection = connection }

        /// Stamps the frames that became whole since the last call with `now`.
        func stampArrivals(now: UInt64) {
            let waiting = arrivals.count - arrivalsHead
            let whole = connection.completeFrameCount()
            if whole > waiting { arrivals += repeatElement(now, count: whole - waiting) }
        }
        public var isAuthenticated: Bool { connection.hello != nil }
    }

    /// Where `register` put the set's descriptors in a poll set.
    public struct Slots {
        fileprivate let gate: HandshakeGate.Slots
        fileprivate let links: [Int]
    }

    private let gate: HandshakeGate
    public var path: String { gate.path }
    private let expected: NodeKind
    private let initialCredits: UInt32
    private let scratch = FrameBuffer(capacity: 4096)
    public private(set) var links: [Link] = []
    private var roundRobin = 0
    private var invalidPeers: [Int32] = []
    /// Set when the run is ending: peers going away then is expected, not worth a log line.
    public var expectClosing = false

    /// Listens at `path` for `expected` nodes.
    public init(path: String, cookie: String, expected: NodeKind, initialCredits: UInt32,
                limits: HandshakeGate.Limits = .standard()) throws {
        self.gate = try HandshakeGate(path: path, cookie: cookie, limits: limits)
        self.expected = expected
        self.initialCredits = initialCredits
    }

    /// Adds the listener, the connections waiting for their hello, and every link to `poll`.
    public func register(in poll: inout PollSet) -> Slots {
        let gateSlots = gate.register(in: &poll)
        return Slots(gate: gateSlots, links: links.map {
            poll.add($0.connection.fd, read: !$0.connection.peerClosed, write: $0.connection.wantsWrite)
        })
    }

    /// Accepts new connections and reads from ready ones; frames that arrive whole are stamped
    /// with the time (see `waited`).
    public func handle(_ poll: PollSet, slots: Slots) {
        let now = Sys.monotonicNanos()
        for (link, slot) in zip(links, slots.links) {
            if poll.writable(slot) && link.connection.wantsWrite { flushLink(link) }
            if poll.readable(slot) {
                read(link)
                link.stampArrivals(now: now)
            }
        }
        for connection in gate.handle(poll, slots: slots.gate) {
            admit(connection)
            links.last.map { if $0.connection === connection { $0.stampArrivals(now: now) } }
        }
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

    /// How long the frame `next` returned from `link` has waited since it arrived whole.
    public func waited(on link: Link, now: UInt64) -> UInt64 {
        guard link.arrivalsHead < link.arrivals.count else { return 0 }
        return now - min(now, link.arrivals[link.arrivalsHead])
    }

    /// Marks `frame` (from `next`) as processed: it leaves the buffer and earns its sender a credit.
    public func consumed(_ frame: Frame, from link: Link) {
        link.connection.consume(frame)
        link.owedCredits += 1
        if link.arrivalsHead < link.arrivals.count { link.arrivalsHead += 1 }
        if link.arrivalsHead > 64 && link.arrivalsHead * 2 > link.arrivals.count {
            link.arrivals.removeFirst(link.arrivalsHead)
            link.arrivalsHead = 0
        }
    }

    /// Closes `link` after a frame that failed validation: the peer's failure, not ours. The
    /// process that connected (the kernel's pid, not the one its hello claims) is remembered
    /// (`takeInvalidPeer`) for the supervisor to replace, if it is one of the run's replicas.
    public func reject(_ link: Link, because error: any Error) {
        guard !link.connection.isClosed else { return }
        Log.error("closing connection from \(link.connection.name): \(error)")
        // Over the size limit too: a replica fails a batch whose output would be (Replica.loop).
        if let pid = link.connection.peerPID, pid > 0 { invalidPeers.append(pid) }
        link.connection.close()
    }

    /// The pid (SO_PEERCRED) of a peer whose frame failed validation since the last call, if any.
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
            var drained = false, cutShort = false
            if link.connection.peerClosed {
                // Peeking first takes a ring offer still unread, so that it is not taken for a
                // frame cut short; a frame that fails validation is the peer's fault.
                do {
                    if try link.connection.peekFrame() == nil {
                        drained = link.connection.bufferedInputBytes == 0
                        cutShort = !drained
                    }
                } catch {
                    reject(link, because: error)
                    continue
                }
            }
            if link.owedCredits > 0 && !link.connection.peerClosed {
                let credit = Credit(count: UInt32(link.owedCredits), released: link.connection.ring?.copied ?? 0,
                                    ringTaken: link.connection.ring != nil)
                link.owedCredits = 0
                do { try link.connection.send(using: scratch) { credit.encode(into: $0) } } catch {
                    drop(link, because: "\(error)")
                }
            }
            if drained {
                link.connection.close()
            } else if cutShort {
                drop(link, because: "closed in the middle of a frame")
            }
        }
        links.removeAll { $0.connection.isClosed }
    }

    /// Complete frames waiting over all links.
    public var hasQueuedFrames: Bool { links.contains { $0.connection.bufferedInputBytes > 0 } }

    /// Open links.
    public var openCount: Int { links.count }

    /// Makes a link of a connection whose hello passed the gate, if it is a data connection from
    /// the expected stage, and grants it its credits.
    private func admit(_ connection: Connection) {
        guard let hello = connection.hello, hello.purpose == .data, hello.node == expected else {
            let said = connection.hello.map { "\($0.purpose) from \($0.node.name)" } ?? "nothing"
            Log.error("refused a connection on \(path) from pid \(connection.peerPID ?? 0): expected a data connection from \(expected.name), got \(said)")
            connection.close()
            return
        }
        // The pid is the kernel's: the stage and index are only what the peer says it is.
        connection.name = "\(hello.node.name).\(hello.replica) (pid \(connection.peerPID ?? 0))"
        let link = Link(connection: connection)
        connection.acceptsSharedFrames = true
        links.append(link)
        do { try connection.send(using: scratch) { Credit(count: initialCredits).encode(into: $0) } } catch {
            drop(link, because: "\(error)")
        }
    }

    private func read(_ link: Link) {
        do {
            try link.connection.readAvailable()
        } catch let error as FrameError {
            reject(link, because: error)
        } catch {
            drop(link, because: "\(error)")
        }
    }

    private func flushLink(_ link: Link) {
        do { try link.connection.flush() } catch { drop(link, because: "\(error)") }
    }
}
