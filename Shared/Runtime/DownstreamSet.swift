import Glibc
import Messages

/// The sending side of one data-path hop: connections to every replica of the next stage, the
/// credit each has granted, and join-the-shortest-queue choice among them.
public final class DownstreamSet {
    public final class Link {
        public let member: Membership.Member
        public let connection: Connection
        /// Frames the downstream replica will still accept.
        public internal(set) var credits = 0
        /// No longer a member: nothing new is sent; closed once flushed and the peer hangs up.
        public internal(set) var retired = false
        fileprivate var halfClosed = false
        /// The ring of shared memory offered to the replica, if it could be made and sent.
        public fileprivate(set) var ring: SharedRing?
        /// The replica took the ring (said so in a credit): frames may go through it.
        public fileprivate(set) var ringTaken = false

        init(member: Membership.Member, connection: Connection) {
            self.member = member
            self.connection = connection
        }
    }

    public private(set) var links: [Link] = []
    private var generation: UInt64 = 0
    /// The current membership: a member whose link was lost is connected to again.
    private var members: [Membership.Member] = []
    private var nextReconnect: UInt64 = 0
    /// Members that could not be reached, so each failure is logged once.
    private var unreachable: Set<Membership.Member> = []
    private let hello: Hello
    private let scratch = FrameBuffer(capacity: 4096)
    private var roundRobin = 0
    /// Bytes of the ring each new link offers (0: none, everything over the socket).
    public let ringSize: Int
    /// Frames and bytes sent inline over the sockets (those sent through rings: `ring.sentFrames`).
    public private(set) var inlineFrames: UInt64 = 0
    public private(set) var inlineBytes: UInt64 = 0
    /// Set when this kernel cannot seal a ring (before Linux 5.1): no more are tried.
    private var ringsUnavailable = false
    /// Rings of links already closed, so the counters stay whole.
    private var closedRingFrames: UInt64 = 0
    private var closedRingBytes: UInt64 = 0
    /// Called when a link closes before it was retired (the replica died): frames sent on it
    /// that the sink has not committed are lost, and the source must replay them.
    public var onLinkLost: ((Link) -> Void)?

    /// - Parameter hello: what this side says on each new connection (purpose `.data`).
    /// - Parameter ringBytes: the shared ring each link offers (default: `PIPELINE_SHARED_MEMORY_MB`).
    public init(hello: Hello, ringBytes: Int? = nil) {
        self.hello = hello
        ringSize = ringBytes ?? ((try? Tunables.fromEnvironment())?.sharedMemoryMiB ?? Tunables().sharedMemoryMiB) << 20
    }

    /// What this set sent, through shared rings and inline, over every link it has had.
    public var sent: TransportCounts {
        TransportCounts(sharedFrames: links.reduce(closedRingFrames) { $0 + ($1.ring?.sentFrames ?? 0) },
                        sharedBytes: links.reduce(closedRingBytes) { $0 + ($1.ring?.sentBytes ?? 0) },
                        inlineFrames: inlineFrames, inlineBytes: inlineBytes)
    }

    /// Makes the set match `membership`: connects to new members, retires missing ones.
    /// Older generations are ignored.
    public func apply(_ membership: Membership) {
        guard membership.generation > generation else { return }
        generation = membership.generation
        members = membership.members
        unreachable = unreachable.intersection(members)
        let wanted = Set(membership.members)
        for link in links where !link.retired && !wanted.contains(link.member) {
            link.retired = true
        }
        connectMissing()
        retireFlushed()
    }

    /// Connects to every member without a live link (new members, and members whose link was
    /// lost while they stayed in the membership).
    private func connectMissing() {
        let present = Set(links.filter { !$0.retired && !$0.connection.isClosed }.map(\.member))
        for member in members where !present.contains(member) {
            do {
                let fd = try UnixSocket.connect(path: member.path)
                let connection = Connection(fd: fd, name: "\(member.node.name).\(member.replica)")
                try connection.send(using: scratch) { hello.encode(into: $0) }
                let link = Link(member: member, connection: connection)
                link.ring = offerRing(on: connection)
                links.append(link)
                unreachable.remove(member)
            } catch {
                // It died or is being replaced between the membership and now; the supervisor
                // will send a new membership.
                if unreachable.insert(member).inserted {
                    Log.error("cannot connect to \(member.node.name).\(member.replica) at \(member.path): \(error)")
                }
            }
        }
    }

    /// Makes a ring and offers it on a new connection, right after the hello; nil (frames go
    /// over the socket) when rings are off, or the ring cannot be made or sent.
    private func offerRing(on connection: Connection) -> SharedRing? {
        guard ringSize > 0, !ringsUnavailable else { return nil }
        // Under a file size limit (`ulimit -f`) below the ring's size, sizing the memory file
        // would fail, and raise SIGXFSZ: the frames go over the socket, as `ps` shows.
        guard Sys.fileSizeLimit().map({ $0 >= UInt64(ringSize) }) ?? true else { return nil }
        let ring: SharedRing
        do {
            ring = try SharedRing(size: ringSize)
        } catch {
            if error.errno == EINVAL || error.errno == ENOSYS {
                ringsUnavailable = true
                Log.error("no shared memory rings on this kernel (\(error)): frames go over the sockets")
            } else {
                Log.error("no shared memory for \(connection.name) (frames go over the socket): \(error)")
            }
            return nil
        }
        // The receiver holds its own descriptor once it is sent.
        defer { ring.closeFile() }
        scratch.removeAll()
        SharedRingOffer(size: UInt64(ringSize)).encode(into: scratch)
        defer { scratch.removeAll() }
        do {
            return try connection.send(scratch.bytes, attaching: ring.fd) ? ring : nil
        } catch {
            return nil  // the connection's error shows at its next read or write
        }
    }

    /// The live link with the most credit (ties: round robin), or nil when none has any.
    public func pick() -> Link? {
        var best: Link?
        let n = links.count
        guard n > 0 else { return nil }
        for k in 0..<n {
            let link = links[(roundRobin + k) % n]
            guard !link.retired, !link.connection.isClosed, link.credits > 0 else { continue }
            if best == nil || link.credits > best!.credits { best = link }
        }
        roundRobin = (roundRobin + 1) % n
        return best
    }

    /// Total credit over live links.
    public var availableCredit: Int { links.reduce(0) { $0 + ($1.retired ? 0 : $1.credits) } }

    /// Live (not retired) links.
    public var liveCount: Int { links.reduce(0) { $0 + ($1.retired || $1.connection.isClosed ? 0 : 1) } }

    /// Sends whole frames on `link`, using one credit per data frame. A write error loses the
    /// link (its replica died; what it held is replayed by the source), it is not thrown.
    public func send(_ bytes: UnsafeRawBufferPointer, frames: Int = 1, to link: Link) {
        precondition(link.credits >= frames, "sent without credit")
        link.credits -= frames
        do {
            try link.connection.send(bytes)
        } catch {
            lose(link, because: "\(error)")
        }
    }

    /// Sends the data frame in `buffer` on `link` without copying it (see `Connection.send(frames:)`).
    /// A frame of 4 KiB or more goes through the link's ring when it has room (the buffer is
    /// then free again at once), with a reference to it on the socket.
    public func send(frame buffer: FrameBuffer, to link: Link) {
        precondition(link.credits >= 1, "sent without credit")
        link.credits -= 1
        do {
            if buffer.count >= SharedRing.minimumFrame, link.ringTaken, let ring = link.ring, let ref = ring.place(buffer.bytes) {
                try link.connection.send(using: scratch) { ref.encode(into: $0) }
            } else {
                inlineFrames += 1
                inlineBytes += UInt64(buffer.count)
                try link.connection.send(frames: buffer)
            }
        } catch {
            lose(link, because: "\(error)")
        }
    }

    /// Adds every link's descriptor to `poll`; returns the slots in link order.
    public func register(in poll: inout PollSet) -> [Int] {
        links.map { poll.add($0.connection.fd, read: true, write: $0.connection.wantsWrite) }
    }

    /// Handles what `poll` reported for the slots `register` returned: credits in, bytes out,
    /// hang-ups. Closed links are removed.
    public func handle(_ poll: PollSet, slots: [Int]) {
        for (link, slot) in zip(links, slots) {
            if poll.writable(slot) || link.connection.wantsWrite { flush(link) }
            if poll.readable(slot) { read(link) }
        }
        retireFlushed()
        removeClosed()
        let now = Sys.monotonicNanos()
        if now >= nextReconnect && links.count < members.count {
            nextReconnect = now + 100_000_000
            connectMissing()
        }
    }

    /// True when every queued byte has been written.
    public var allFlushed: Bool { links.allSatisfy { !$0.connection.wantsWrite } }

    /// Retires every link (the sender is done): each closes once flushed and hung up by the peer.
    public func retireAll() {
        members = []
        for link in links { link.retired = true }
        retireFlushed()
    }

    /// True when no link is left open.
    public var isEmpty: Bool { links.isEmpty }

    private func flush(_ link: Link) {
        do {
            try link.connection.flush()
        } catch {
            lose(link, because: "\(error)")
        }
    }

    private func read(_ link: Link) {
        do {
            let open = try link.connection.readAvailable()
            while let frame = try link.connection.peekFrame() {
                guard frame.header.kind == .credit else {
                    throw FrameError.unexpected(kind: frame.header.kind, context: "from a downstream replica")
                }
                let credit = try Credit.decode(frame)
                link.credits += Int(credit.count)
                if let ring = link.ring {
                    if credit.ringTaken { link.ringTaken = true }
                    guard ring.release(through: credit.released) else {
                        throw FrameError.invalid(field: "credit.released", reason: "\(credit.released) frames released, \(ring.allocator.placed) sent through the ring")
                    }
                } else if credit.released != 0 || credit.ringTaken {
                    throw FrameError.invalid(field: "credit", reason: "a ring taken or released where none was offered")
                }
                link.connection.consume(frame)
            }
            if !open {
                if link.retired { link.connection.close() } else { lose(link, because: "closed the connection") }
            }
        } catch {
            lose(link, because: "\(error)")
        }
    }

    private func lose(_ link: Link, because reason: String) {
        guard !link.connection.isClosed else { return }
        link.connection.close()
        if !link.retired {
            Log.error("lost \(link.connection.name): \(reason)")
            onLinkLost?(link)
        }
    }

    /// Half-closes retired links whose queues are empty, so the peer sees end of input.
    private func retireFlushed() {
        for link in links where link.retired && !link.halfClosed && !link.connection.isClosed {
            flush(link)
            if !link.connection.wantsWrite {
                link.connection.shutdownWrite()
                link.halfClosed = true
            }
        }
    }

    private func removeClosed() {
        for link in links where link.connection.isClosed {
            closedRingFrames += link.ring?.sentFrames ?? 0
            closedRingBytes += link.ring?.sentBytes ?? 0
        }
        links.removeAll { $0.connection.isClosed }
    }
}
