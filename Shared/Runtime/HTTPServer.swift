import Glibc
import Messages

/// A small HTTP/1.1 server for a metrics endpoint, run by its owner's poll loop: one request per
/// connection, answered by the owner's `respond`, then closed.
///
/// No step waits for a client: the listener and every connection are non-blocking, a response
/// goes out as fast as the client reads it (the rest waits, queued, for the socket to take more),
/// and each connection has a deadline, checked in `handle`, so the loop can bound its poll
/// timeout with `nextDeadline`. A connection must send its whole request head (at most
/// `Limits.headLimit` bytes, else 431) within `Limits.readDeadlineNanos` of being accepted, or it
/// is closed without an answer; it must then read the whole response within
/// `Limits.writeDeadlineNanos`, or it is dropped (reset, so the kernel frees what it still holds).
/// After the response the sending side is shut and what the client still sends is read and
/// dropped until it closes, for at most `Limits.lingerNanos`: closing with unread bytes would
/// reset the connection, and the client could lose the end of its response.
///
/// At most `Limits.maxConnections` are open at once. A newcomer over the limit closes the oldest
/// connection that is done, or else the oldest that has not sent its whole request (an idle client
/// cannot keep others out); responses being sent are never cut short, and while they fill every
/// place the listener waits. When `accept` fails for want of descriptors (EMFILE, ENFILE), such a
/// connection makes room; with none, the listener is left out of the poll set for
/// `Limits.pauseNanos`, so the loop never spins on it. Episodes (full, out of descriptors) are
/// logged once each.
///
/// - Important: call `handle` after every `register` (and every poll), with `now` from the
///   monotonic clock (`Sys.monotonicNanos`), and wait no longer than `nextDeadline`.
public final class HTTPServer {
    public struct Limits: Sendable, Equatable {
        public var maxConnections: Int
        /// The most bytes a request head may have.
        public var headLimit: Int
        /// From accept to the end of the request head.
        public var readDeadlineNanos: UInt64
        /// From the start of the response to its last byte written.
        public var writeDeadlineNanos: UInt64
        /// How long a connection is kept, after its response, for the client to close it.
        public var lingerNanos: UInt64
        /// How long the listener rests after `accept` failed with nothing to close.
        public var pauseNanos: UInt64

        public init(maxConnections: Int = 8, headLimit: Int = 8192, readDeadlineNanos: UInt64 = 5_000_000_000,
                    writeDeadlineNanos: UInt64 = 10_000_000_000, lingerNanos: UInt64 = 2_000_000_000,
                    pauseNanos: UInt64 = 100_000_000) {
            precondition(maxConnections > 0, "a server that admits nobody")
            precondition(headLimit > 0, "a request head needs some bytes")
            self.maxConnections = maxConnections
            self.headLimit = headLimit
            self.readDeadlineNanos = readDeadlineNanos
            self.writeDeadlineNanos = writeDeadlineNanos
            self.lingerNanos = lingerNanos
            self.pauseNanos = pauseNanos
        }
    }

    /// Where `register` put the server's descriptors in a poll set.
    public struct Slots {
        fileprivate let listener: Int?
        fileprivate let connections: [(HTTPConnection, Int)]
    }

    public let listener: Int32
    /// The address bound, with the port the kernel chose for port 0: `127.0.0.1:9464`, `[::1]:9464`.
    public let boundAddress: String
    public let limits: Limits
    /// Open connections, oldest first.
    private var connections: [HTTPConnection] = []
    /// Read and lingering bytes go through here (and are copied out, or dropped). Allocated last
    /// in `init`: an init that throws earlier runs no `deinit` to free it.
    private let scratch: UnsafeMutableRawBufferPointer
    /// The listener is left out of the poll set until then (0: not resting).
    private(set) var pausedUntil: UInt64 = 0
    /// In an episode of failing accepts (logged when it starts and when it ends).
    private lazy var acceptFailures = AcceptFailures(listenerName: "HTTP \(boundAddress)")
    /// In an episode of connections at the limit (logged when it starts and when it ends).
    private var full = false
    private var pushedOut = 0

    /// The system call behind `accept`: tests put a stand-in here to fail it as a process out of
    /// descriptors would.
    var acceptCall: (Int32) throws(SystemError) -> Int32? = Sys.accept
    /// Most connections accepted per `handle`, so that a flood leaves the loop time for its work.
    static let acceptBurst = 64
    /// Most bytes read and dropped from a client after its response.
    static let lingerByteLimit = 64 << 10

    /// Listens on `address` (`HOST:PORT`: `127.0.0.1:9464`, `localhost:9464`, `0.0.0.0:9464`,
    /// `[::1]:9464`, `[::]:9464`; port 0 picks a free port). The socket is non-blocking and
    /// close-on-exec, with SO_REUSEADDR (a restart can bind while old connections linger in
    /// TIME_WAIT). `[::]` takes IPv4 connections too, whatever the system's default.
    /// - Throws: `HTTPServerError` for an address it cannot parse, or that the kernel refuses.
    public init(address: String, limits: Limits = Limits()) throws(HTTPServerError) {
        let requested = try HTTPServerError.parse(address)
        let fd: Int32
        do throws(SystemError) { fd = try Sys.tcpSocket(requested.family) } catch { throw .cannotListen(address, error) }
        do throws(SystemError) {
            try Sys.setSocketOption(fd, level: SOL_SOCKET, option: SO_REUSEADDR, Int32(1), name: "SO_REUSEADDR")
            if requested.family == .ipv6 && requested.isUnspecified {
                try Sys.setSocketOption(fd, level: Int32(IPPROTO_IPV6), option: IPV6_V6ONLY, Int32(0), name: "IPV6_V6ONLY")
            }
            try Sys.bind(fd, to: requested)
            try Sys.listen(fd, backlog: 64)
            boundAddress = try Sys.localAddress(fd).description
        } catch {
            Sys.close(fd)
            throw .cannotListen(address, error)
        }
        listener = fd
        self.limits = limits
        scratch = .allocate(byteCount: 64 << 10, alignment: 16)
    }

    deinit {
        for connection in connections { connection.close() }
        Sys.close(listener)
        scratch.deallocate()
    }

    /// Connections open now (reading a request, sending a response, or waiting for the close).
    public var connectionCount: Int { connections.count }

    /// The earliest time at which `handle` has something to do even if no descriptor is ready
    /// (a connection's deadline, the end of the listener's rest); nil when there is none.
    public var nextDeadline: UInt64? {
        let earliest = connections.lazy.map(\.deadline).min()
        guard pausedUntil > 0 else { return earliest }
        return min(earliest ?? .max, pausedUntil)
    }

    /// Adds the listener (unless it rests, or every place is taken by a response being sent) and
    /// the connections to `poll`.
    public func register(in poll: inout PollSet, now: UInt64 = Sys.monotonicNanos()) -> Slots {
        if pausedUntil > 0 && now >= pausedUntil { pausedUntil = 0 }
        let listening = pausedUntil == 0 && (connections.count < limits.maxConnections || oldestToPushOut() != nil)
        return Slots(listener: listening ? poll.add(listener) : nil,
                     connections: connections.map { ($0, poll.add($0.fd, read: $0.phase != .writing, write: $0.phase == .writing)) })
    }

    /// Reads requests, answers each complete one with `respond` (GET and HEAD; others get 405,
    /// malformed ones 400, over-long heads 431), writes what the sockets take, closes the
    /// connections that are done or past their deadline, and accepts new ones.
    /// - Parameter respond: called at most once per connection, on the loop's thread; its
    ///   response to a HEAD request is sent without the body.
    public func handle(_ poll: PollSet, slots: Slots, now: UInt64 = Sys.monotonicNanos(),
                       respond: (HTTPRequest) -> HTTPResponse) {
        for (connection, slot) in slots.connections where !connection.isClosed {
            switch connection.phase {
            case .reading where poll.readable(slot): read(connection, now: now, respond: respond)
            case .writing where poll.writable(slot): write(connection, now: now)
            case .lingering where poll.readable(slot): drain(connection)
            default: break
            }
        }
        expire(now: now)
        if let slot = slots.listener, poll.readable(slot) { acceptNew(now: now, respond: respond) }
        connections.removeAll { $0.isClosed }
        if full && connections.isEmpty {
            Log.info("HTTP on \(boundAddress): no connection open any more; \(pushedOut) \(pushedOut == 1 ? "was" : "were") closed to make room for newer ones")
            full = false
            pushedOut = 0
        }
    }

    /// Reads what the client sent (up to one byte over the head limit) and answers once the head
    /// is complete or refused. A client that closes before that gets no answer.
    private func read(_ connection: HTTPConnection, now: UInt64, respond: (HTTPRequest) -> HTTPResponse) {
        var ended = false
        do throws(SystemError) {
            while connection.decoder.buffer.count <= limits.headLimit {
                let room = min(scratch.count, limits.headLimit + 1 - connection.decoder.buffer.count)
                guard let n = try Sys.read(connection.fd, into: scratch.baseAddress!, count: room) else { break }
                if n == 0 { ended = true; break }
                connection.decoder.append(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            }
        } catch {
            connection.close()  // reset by the client: nobody to answer
            return
        }
        let response: [UInt8]
        do throws(HTTPRequestError) {
            guard let request = try connection.decoder.decode() else {
                if ended { connection.close() }
                return
            }
            response = respond(request).serialized(includeBody: request.method != .head)
        } catch {
            // A refused HEAD request gets no body either (its method is known once the request
            // line has come; without one, a body is sent).
            let head = connection.decoder.buffer.drop { $0 == Ascii.cr || $0 == Ascii.lf }.starts(with: "HEAD ".utf8)
            response = HTTPResponse(refusing: error).serialized(includeBody: !head)
        }
        connection.startResponse(response, deadline: Self.after(now, limits.writeDeadlineNanos))
        write(connection, now: now)
    }

    /// Writes what the socket takes; once all is written, shuts the sending side and lingers.
    private func write(_ connection: HTTPConnection, now: UInt64) {
        do throws(SystemError) {
            guard try connection.writeQueued() else { return }
        } catch {
            connection.close()  // the client went away (EPIPE, ECONNRESET)
            return
        }
        Sys.shutdownWrite(connection.fd)
        connection.startLingering(deadline: Self.after(now, limits.lingerNanos))
        drain(connection)
    }

    /// Reads and drops what the client sends after its response; closes at its end of file.
    private func drain(_ connection: HTTPConnection) {
        do throws(SystemError) {
            while connection.discarded <= Self.lingerByteLimit {
                guard let n = try Sys.read(connection.fd, into: scratch.baseAddress!, count: scratch.count) else { return }
                if n == 0 { break }
                connection.discarded += n
            }
        } catch {
            // Reset by the client: it has its response, or will never read it.
        }
        connection.close()
    }

    /// Closes the connections past their deadline; a response not fully read is reset.
    private func expire(now: UInt64) {
        var dropped = 0
        for connection in connections where !connection.isClosed && now >= connection.deadline {
            if connection.phase == .writing {
                dropped += 1
                // SO_LINGER 0: close resets the connection and frees what the kernel still
                // holds for this client, instead of trying to deliver it on its own.
                try? Sys.setSocketOption(connection.fd, level: SOL_SOCKET, option: SO_LINGER, linger(l_onoff: 1, l_linger: 0),
                                         name: "SO_LINGER")
            }
            connection.close()
        }
        if dropped > 0 {
            Log.error("HTTP on \(boundAddress): dropped \(counted(dropped, "client")) that did not read "
                      + "\(dropped == 1 ? "its" : "their") response within \(AcceptFailures.seconds(limits.writeDeadlineNanos)) s")
        }
    }

    /// Accepts what the backlog holds (up to `acceptBurst`) while there is room; a newcomer whose
    /// request is already there is answered at once.
    private func acceptNew(now: UInt64, respond: (HTTPRequest) -> HTTPResponse) {
        var failed = false, accepted = false
        for _ in 0..<Self.acceptBurst {
            connections.removeAll { $0.isClosed }
            guard connections.count < limits.maxConnections || oldestToPushOut() != nil else { break }
            let fd: Int32
            do throws(SystemError) {
                guard let next = try acceptCall(listener) else { break }
                fd = next
                accepted = true
            } catch {
                let exhausted = AcceptFailures.isShortage(error)
                if exhausted && !AcceptFailures.backlogHasConnections(listener) { break }
                failed = true
                acceptFailures.failed(error, remedy: exhausted ? "closing the oldest idle connection to make room, or, with none, " : "",
                                      pauseNanos: limits.pauseNanos)
                if exhausted, let oldest = oldestToPushOut() {
                    oldest.close()
                    continue
                }
                pausedUntil = Self.after(now, limits.pauseNanos)
                return
            }
            let connection = HTTPConnection(fd: fd, decoder: HTTPRequestDecoder(limit: limits.headLimit),
                                            deadline: Self.after(now, limits.readDeadlineNanos))
            connections.append(connection)
            read(connection, now: now, respond: respond)
            if connections.count(where: { !$0.isClosed }) > limits.maxConnections, let oldest = oldestToPushOut() {
                if !full {
                    full = true
                    Log.error("HTTP on \(boundAddress): \(counted(limits.maxConnections, "connection")) open, the most allowed: closing the oldest idle one as new ones come")
                }
                oldest.close()
                pushedOut += 1
            }
        }
        // Not on a bare EMFILE with an empty backlog: that says nothing about the next accept.
        if accepted && !failed { acceptFailures.recovered() }
    }

    /// The connection to close for a newcomer: the oldest that is done (lingering), else the
    /// oldest still sending its request; nil when every one is being sent a response.
    private func oldestToPushOut() -> HTTPConnection? {
        connections.first { !$0.isClosed && $0.phase == .lingering }
            ?? connections.first { !$0.isClosed && $0.phase == .reading }
    }

    /// `nanos` after `now`, or the end of time (a limit of `UInt64.max` means "never", not a trap).
    private static func after(_ now: UInt64, _ nanos: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(nanos)
        return overflow ? .max : sum
    }
}

/// One client of an `HTTPServer`: its request head coming in, then its response going out.
final class HTTPConnection {
    enum Phase {
        /// Until the request head is complete.
        case reading
        /// Until the response is written.
        case writing
        /// Response sent, sending side shut: until the client closes.
        case lingering
    }

    let fd: Int32
    private(set) var phase = Phase.reading
    /// When this phase ends, whatever the client does.
    private(set) var deadline: UInt64
    var decoder: HTTPRequestDecoder
    private var output: [UInt8] = []
    private var written = 0
    /// Bytes read and dropped while lingering.
    var discarded = 0
    private(set) var isClosed = false

    init(fd: Int32, decoder: HTTPRequestDecoder, deadline: UInt64) {
        self.fd = fd
        self.decoder = decoder
        self.deadline = deadline
    }

    deinit { close() }

    func startResponse(_ bytes: [UInt8], deadline: UInt64) {
        decoder = HTTPRequestDecoder(limit: decoder.limit)  // the request is done with
        output = bytes
        written = 0
        phase = .writing
        self.deadline = deadline
    }

    /// Writes what the socket takes; true once the whole response is written.
    func writeQueued() throws(SystemError) -> Bool {
        var failure: SystemError?
        let done = output.withUnsafeBytes { bytes in
            do throws(SystemError) {
                while written < bytes.count {
                    guard let n = try Sys.send(fd, from: bytes.baseAddress! + written, count: bytes.count - written) else { return false }
                    written += n
                }
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return done
    }

    func startLingering(deadline: UInt64) {
        output = []
        phase = .lingering
        self.deadline = deadline
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Sys.close(fd)
        output = []
    }
}
