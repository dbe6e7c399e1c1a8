import Glibc
import Messages

/// The door of a listening socket: accepts connections and holds each one until its hello has
/// come, so that no process can keep the listener's descriptors without saying who it is.
///
/// Every accepted connection is checked at once (same user) and the kernel's pid for it
/// (SO_PEERCRED) is recorded as `Connection.peerPID`. Its first frame must then be a `Hello`
/// that carries the run's cookie and that same pid, within `Limits.deadlineNanos`; anything else
/// closes it. At most `Limits.maxPending` connections wait at once, and a new one pushes out the
/// oldest: a legitimate peer says hello right after connecting, so it gets in however many idle
/// connections arrive around it. When `accept` fails for want of descriptors (EMFILE, ENFILE),
/// the oldest waiting connection makes room; with none waiting, the listener is left out of the
/// poll set for `Limits.pauseNanos`, so that the owner's loop never spins on a listener it cannot
/// serve. Such episodes (full, out of descriptors) are logged once each, not once per poll.
///
/// The owner polls it with `register` and `handle`, at least every few hundred milliseconds (the
/// deadlines are checked in `handle`), and decides what the admitted connections are for.
public final class HandshakeGate {
    /// How long a connection may wait for its hello, and how many may wait at once.
    public struct Limits: Sendable, Equatable {
        public var deadlineNanos: UInt64
        public var maxPending: Int
        /// How long the listener rests after `accept` failed with nothing to close.
        public var pauseNanos: UInt64

        public init(deadlineNanos: UInt64, maxPending: Int, pauseNanos: UInt64 = 100_000_000) {
            precondition(maxPending > 0, "a gate that admits nobody")
            self.deadlineNanos = deadlineNanos
            self.maxPending = maxPending
            self.pauseNanos = pauseNanos
        }

        /// A deadline of 5 s, or `PIPELINE_HANDSHAKE_SECONDS`; at most 64 waiting connections,
        /// or a quarter of the file limit if that is lower, so that waiting connections can
        /// never take the descriptors the process needs for its work.
        public static func standard() -> Limits {
            // `pipeline up` refuses an unusable value before anything starts; a process started
            // some other way falls back to the default.
            let seconds = (try? Tunables.fromEnvironment())?.handshakeSeconds ?? Tunables().handshakeSeconds
            return Limits(deadlineNanos: UInt64(seconds * 1e9),
                          maxPending: max(1, min(64, Sys.openFileLimit() / 4)))
        }
    }

    /// Where `register` put the gate's descriptors in a poll set.
    public struct Slots {
        fileprivate let listener: Int?
        fileprivate let pending: [Int]
    }

    public let listener: Int32
    public let path: String
    public let limits: Limits
    private let cookie: String
    /// Connections without a hello yet, oldest first, with when each was accepted.
    private var pending: [(connection: Connection, since: UInt64)] = []
    private var accepted = 0
    /// The listener is left out of the poll set until then.
    private(set) var pausedUntil: UInt64 = 0
    /// In an episode of failing accepts (logged when it starts and when it ends).
    private var acceptFailures: AcceptFailures
    /// In an episode of waiting connections at the limit (logged when it starts and when it ends).
    private var full = false
    private var pushedOut = 0

    /// The system call behind `accept`: tests put a stand-in here to fail it as a process out of
    /// descriptors would (other processes and threads make a real shortage unpredictable).
    var acceptCall: (Int32, String) throws(SystemError) -> UnixSocket.AcceptedPeer? = UnixSocket.acceptSameUser

    /// A hello is a few dozen bytes: a waiting connection may not make this side buffer more.
    static let helloLimit = 4096
    /// Most connections accepted per `handle`, so that a flood leaves the loop time for its work.
    static let acceptBurst = 64

    /// Listens at `path` (mode 0600) for connections whose hello carries `cookie`.
    public init(path: String, cookie: String, limits: Limits = .standard()) throws {
        self.listener = try UnixSocket.listen(path: path)
        self.path = path
        self.cookie = cookie
        self.limits = limits
        acceptFailures = AcceptFailures(listenerName: path)
    }

    deinit {
        for entry in pending { entry.connection.close() }
        Sys.close(listener)
        try? Sys.unlink(path)
    }

    /// Connections accepted that have not said hello yet.
    public var pendingCount: Int { pending.count }

    /// Adds the listener (unless it is resting) and the waiting connections to `poll`.
    public func register(in poll: inout PollSet, now: UInt64 = Sys.monotonicNanos()) -> Slots {
        let listenerSlot = now >= pausedUntil ? poll.add(listener) : nil
        return Slots(listener: listenerSlot, pending: pending.map { poll.add($0.connection.fd) })
    }

    /// Reads the hellos that came, closes the connections past their deadline, and accepts new
    /// ones. Returns the connections whose hello passed, in the order they passed: each has
    /// `hello` and `peerPID` set and holds whatever its peer sent after the hello.
    public func handle(_ poll: PollSet, slots: Slots, now: UInt64 = Sys.monotonicNanos()) -> [Connection] {
        var admitted: [Connection] = []
        for (entry, slot) in zip(pending, slots.pending) where poll.readable(slot) {
            read(entry.connection, into: &admitted)
        }
        var expired = 0
        for entry in pending where entry.connection.hello == nil && !entry.connection.isClosed
            && now >= entry.since + limits.deadlineNanos {
            entry.connection.close()
            expired += 1
        }
        if expired > 0 {
            Log.error("closed \(counted(expired, "connection")) on \(path) that sent no hello within \(AcceptFailures.seconds(limits.deadlineNanos)) s")
        }
        removeSettled()
        if let slot = slots.listener, poll.readable(slot) { acceptNew(now: now, into: &admitted) }
        removeSettled()
        if pushedOut > 0 && pending.isEmpty {
            Log.info("\(path): no connection waits for a hello any more; \(pushedOut) \(pushedOut == 1 ? "was" : "were") closed to make room for newer ones")
            full = false
            pushedOut = 0
        }
        return admitted
    }

    /// Accepts what the backlog holds (up to `acceptBurst`); each newcomer whose hello is
    /// already there gets in at once.
    private func acceptNew(now: UInt64, into admitted: inout [Connection]) {
        var failed = false
        for _ in 0..<Self.acceptBurst {
            let peer: UnixSocket.AcceptedPeer
            do {
                guard let next = try acceptCall(listener, path) else { break }
                peer = next
            } catch {
                let exhausted = AcceptFailures.isShortage(error)
                if exhausted && !AcceptFailures.backlogHasConnections(listener) { break }
                failed = true
                acceptFailures.failed(error, remedy: exhausted ? "closing the oldest connection waiting for a hello to make room, or, with none waiting, " : "",
                                      pauseNanos: limits.pauseNanos)
                if exhausted, pushOutOldest() { continue }
                pausedUntil = now + limits.pauseNanos
                return
            }
            accepted += 1
            let connection = Connection(fd: peer.fd, name: "connection \(accepted) on \(path)",
                                        decoder: FrameDecoder(maxPayload: Self.helloLimit))
            connection.peerPID = peer.pid
            read(connection, into: &admitted)
            guard connection.hello == nil && !connection.isClosed else { continue }
            if pending.count >= limits.maxPending {
                if !full {
                    full = true
                    Log.error("\(counted(pending.count, "connection")) on \(path) \(pending.count == 1 ? "is" : "are") waiting for a hello, the most allowed: closing the oldest as new ones come")
                }
                pushOutOldest()
            }
            pending.append((connection, now))
        }
        if !failed { acceptFailures.recovered() }
    }

    /// Closes the connection that has waited longest for its hello; false when none waits.
    @discardableResult
    private func pushOutOldest() -> Bool {
        removeSettled()
        guard !pending.isEmpty else { return false }
        pending.removeFirst().connection.close()
        pushedOut += 1
        return true
    }

    /// Reads what `connection` has sent: admits it once a valid hello is there, closes it on
    /// anything else.
    private func read(_ connection: Connection, into admitted: inout [Connection]) {
        let pid = connection.peerPID ?? 0
        do {
            let open = try connection.readAvailable()
            guard let frame = try connection.peekFrame() else {
                if !open { connection.close() }  // gone without a word
                return
            }
            let hello = try Hello.decode(frame)
            guard hello.cookie == cookie else { throw FrameError.invalid(field: "hello.cookie", reason: "wrong run cookie") }
            guard hello.pid == pid else {
                throw FrameError.invalid(field: "hello.pid", reason: "it claims pid \(hello.pid) (as \(hello.node.name).\(hello.replica)), but the process that connected is pid \(pid)")
            }
            connection.consume(frame)
            connection.decoder = FrameDecoder()
            connection.hello = hello
            admitted.append(connection)
        } catch {
            Log.error("refused a connection on \(path) from pid \(pid): \(error)")
            connection.close()
        }
    }

    /// Forgets connections that were admitted or closed.
    private func removeSettled() {
        pending.removeAll { $0.connection.hello != nil || $0.connection.isClosed }
    }

    /// "1", "0.25": seconds for log lines.
    private static func seconds(_ nanos: UInt64) -> String {
        nanos % 1_000_000_000 == 0 ? "\(nanos / 1_000_000_000)" : "\(Double(nanos) / 1e9)"
    }
}
