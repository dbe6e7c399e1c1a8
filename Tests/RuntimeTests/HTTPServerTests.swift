import Glibc
import Testing
@testable import Runtime

/// The metrics server through real TCP sockets on the loopback. The test plays the owner's loop
/// (register, poll, handle) with `now` given, so deadlines pass without waiting for them; plain
/// sockets play the clients, in the same thread (blocking connect and sends, non-blocking reads).
@Suite struct HTTPServerTests {
    static let ms: UInt64 = 1_000_000
    /// Where the tests' clock starts (any time will do: the server only compares).
    static let t0: UInt64 = 1_000_000_000

    /// A client on a plain socket; `pump` reads what has come without waiting.
    final class Client {
        let fd: Int32
        private(set) var received: [UInt8] = []
        /// The server ended the connection (end of file, or the error in `failure`).
        private(set) var ended = false
        /// The errno that ended the connection (ECONNRESET for a reset); nil for an end of file.
        private(set) var failure: Int32?
        private var open = true

        /// Connects to `address` (`HOST:PORT`); `receiveBuffer` shrinks SO_RCVBUF before the
        /// connect, so that the server cannot park a large response in this side's kernel.
        init(_ address: String, receiveBuffer: Int32? = nil) throws {
            let target = try HTTPServerError.parse(address)
            fd = socket(target.family.constant, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemError("socket", errno: errno) }
            do {
                if let receiveBuffer {
                    try Sys.setSocketOption(fd, level: SOL_SOCKET, option: SO_RCVBUF, receiveBuffer, name: "SO_RCVBUF")
                }
                guard target.withSockaddr({ connect(fd, $0, $1) }) == 0 else { throw SystemError("connect", errno: errno) }
            } catch {
                Glibc.close(fd)
                throw error
            }
        }

        deinit { close() }

        var text: String { String(decoding: received, as: UTF8.self) }

        /// Sends all of `text` (small enough for the socket buffers: the send does not wait).
        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            var done = 0
            while done < bytes.count {
                let n = bytes[done...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw SystemError("send", errno: errno) }
                done += n
            }
        }

        /// Reads everything that has come, without waiting.
        func pump() {
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while open && !ended {
                let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if n > 0 {
                    received += chunk[..<n]
                } else if n == 0 {
                    ended = true
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    return
                } else if errno != EINTR {
                    failure = errno
                    ended = true
                }
            }
        }

        func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

        func close() {
            guard open else { return }
            open = false
            Glibc.close(fd)
        }
    }

    /// The owner's responder: `/metrics`; `/large`, 4 MiB in a pattern that shows any byte out of
    /// place; `/big`, far over what the kernel buffers for a connection; 404 for any other path.
    /// Remembers the requests it was given.
    final class Router {
        static let large = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        static let big = [UInt8](repeating: UInt8(ascii: "x"), count: 16 << 20)
        var requests: [HTTPRequest] = []

        func respond(_ request: HTTPRequest) -> HTTPResponse {
            requests.append(request)
            return switch request.path {
            case "/metrics": HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4", body: "up 1\n")
            case "/large": HTTPResponse(status: 200, contentType: "application/octet-stream", body: Self.large)
            case "/big": HTTPResponse(status: 200, body: Self.big)
            default: HTTPResponse(status: 404, body: "no \(request.path) here\n")
            }
        }
    }

    /// One turn of the owner's loop at `now`: register, poll (also for what comes to the
    /// `watching` clients, at most `waitMillis`), handle; then those clients read what came.
    static func turn(_ server: HTTPServer, _ router: Router, now: UInt64, watching clients: [Client] = [],
                     waitMillis: Int32 = 0) throws {
        var poll = PollSet()
        let slots = server.register(in: &poll, now: now)
        for client in clients where !client.ended { poll.add(client.fd) }
        try poll.wait(timeoutMillis: waitMillis)
        server.handle(poll, slots: slots, now: now, respond: router.respond)
        for client in clients { client.pump() }
    }

    /// Turns at `now` until `done` holds; false if it still does not after `turns` turns. Each
    /// poll ends as soon as a descriptor is ready, so its timeout only bounds how long a test
    /// takes to fail (10 s).
    static func run(_ server: HTTPServer, _ router: Router, now: UInt64 = t0, watching clients: [Client] = [],
                    turns: Int = 40, until done: () -> Bool) throws -> Bool {
        for _ in 0..<turns {
            if done() { return true }
            try turn(server, router, now: now, watching: clients, waitMillis: 250)
        }
        return done()
    }

    /// Sends `request` from a new client and runs the loop until the server has ended the
    /// connection; the client, with what it received.
    static func exchange(_ server: HTTPServer, _ router: Router, _ request: String) throws -> Client {
        let client = try Client(server.boundAddress)
        try client.send(request)
        #expect(try run(server, router, watching: [client]) { client.ended }, "the server ends its side")
        return client
    }

    /// How many descriptors `register` puts in a poll set at `now` (slots are numbered from 0).
    static func registered(_ server: HTTPServer, now: UInt64) -> Int {
        var poll = PollSet()
        _ = server.register(in: &poll, now: now)
        return poll.add(-1)
    }

    /// Waits until a connection is in the listener's backlog (the kernel has done the handshake).
    static func waitForBacklog(_ server: HTTPServer) throws {
        var poll = PollSet()
        let slot = poll.add(server.listener)
        try poll.wait(timeoutMillis: 5000)
        #expect(poll.readable(slot), "a connection waits to be accepted")
    }

    /// A response as the server must send it: status line, Content-Type, Content-Length, extra
    /// header lines, Connection: close, the empty line, and the body unless `head`.
    static func answer(_ status: String, type: String = "text/plain; charset=utf-8", extra: String = "", body: String,
                       head: Bool = false) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)Connection: close\r\n\r\n"
            + (head ? "" : body)
    }

    static let metrics = answer("200 OK", type: "text/plain; version=0.0.4", body: "up 1\n")

    static let hasIPv6Loopback: Bool = {
        guard let fd = try? Sys.tcpSocket(.ipv6) else { return false }
        defer { Sys.close(fd) }
        return (try? Sys.bind(fd, to: SocketAddress(ipv6: Array(repeating: 0, count: 15) + [1], port: 0))) != nil
    }()

    // MARK: Answers

    @Test func aGETIsAnsweredWithItsBodyItsLengthAndConnectionClose() throws {
        let server = try HTTPServer(address: "localhost:0")
        #expect(server.boundAddress.hasPrefix("127.0.0.1:") && !server.boundAddress.hasSuffix(":0"), "\(server.boundAddress)")
        #expect(server.nextDeadline == nil && server.connectionCount == 0)
        let router = Router()
        let client = try Self.exchange(server, router, "GET /metrics?x=1 HTTP/1.1\r\nHost: prometheus\r\n\r\n")
        #expect(client.text == Self.metrics && client.failure == nil)
        #expect(router.requests == [HTTPRequest(method: .get, path: "/metrics", query: "x=1", minorVersion: 1,
                                                headers: [HTTPHeader(name: "Host", value: "prometheus")])])
        // The server waits for the client to close (so that nothing it sends resets the response).
        #expect(server.connectionCount == 1)
        client.close()
        #expect(try Self.run(server, router) { server.connectionCount == 0 })
    }

    @Test func aHEADGetsTheHeadOfItsGETAndNoBodyNotEvenWhenRefused() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let head = try Self.exchange(server, router, "HEAD /metrics HTTP/1.1\r\n\r\n")
        #expect(head.text == Self.answer("200 OK", type: "text/plain; version=0.0.4", body: "up 1\n", head: true))
        #expect(router.requests.map(\.method) == [.head])
        let refused = try Self.exchange(server, router, "HEAD /metrics HTTP/2.0\r\n\r\n")
        #expect(refused.text == Self.answer("505 HTTP Version Not Supported",
                                            body: "HTTP/2.0 is not supported (only HTTP/1.0 and HTTP/1.1)\n", head: true))
    }

    @Test func aLargeResponseGoesOutAsTheClientReadsItAndArrivesWhole() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let client = try Client(server.boundAddress)
        try client.send("GET /large HTTP/1.1\r\n\r\n")
        // Many turns: each writes what the socket takes (and the client reads it).
        #expect(try Self.run(server, router, watching: [client], turns: 100_000) { client.ended })
        let head = Array(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4194304\r\n"
            + "Connection: close\r\n\r\n").utf8)
        #expect(client.received.count == head.count + Router.large.count && client.failure == nil)
        #expect(client.received.starts(with: head) && client.received.dropFirst(head.count).elementsEqual(Router.large))
        let headOnly = try Self.exchange(server, router, "HEAD /large HTTP/1.1\r\n\r\n")
        #expect(headOnly.received == head)
    }

    @Test func anUnknownPathGetsTheRespondersNotFound() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let client = try Self.exchange(server, router, "GET /nothing HTTP/1.0\r\n\r\n")
        #expect(client.text == Self.answer("404 Not Found", body: "no /nothing here\n"))
        #expect(router.requests.map(\.minorVersion) == [0])
    }

    @Test func aPOSTGets405AndNeverReachesTheResponder() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let client = try Self.exchange(server, router, "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        #expect(client.text == Self.answer("405 Method Not Allowed", extra: "Allow: GET, HEAD\r\n",
                                           body: "method POST is not allowed (only GET and HEAD)\n"))
        #expect(router.requests.isEmpty && client.failure == nil)
    }

    @Test func garbageGets400AtOnceWithoutWaitingForAnEndOfLine() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let words = try Self.exchange(server, router, "hello there\r\n\r\n")
        #expect(words.text == Self.answer("400 Bad Request",
                                          body: "bad request: a request line is METHOD TARGET VERSION, with one space between\n"))
        // The start of a TLS client hello: no line ever ends, and nothing more is needed.
        let tls = try Self.exchange(server, router, "\u{16}\u{3}\u{1}\u{0}")
        #expect(tls.text == Self.answer("400 Bad Request",
                                        body: "bad request: a request line may hold only visible ASCII characters and spaces\n"))
        #expect(router.requests.isEmpty)
    }

    @Test func aHeadOver8KiBGets431() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let padding = String(repeating: "a", count: 9000)
        let client = try Self.exchange(server, router, "GET /metrics HTTP/1.1\r\nX-Padding: \(padding)\r\n\r\n")
        #expect(client.text == Self.answer("431 Request Header Fields Too Large", body: "the request head is over 8192 bytes\n"))
        #expect(router.requests.isEmpty && client.failure == nil, "the rest of the head is read and dropped, not reset")
        // Exactly at the limit is still a request.
        let fill = 8192 - "GET /metrics HTTP/1.1\r\nX-Padding: \r\n\r\n".utf8.count
        let atLimit = try Self.exchange(server, router, "GET /metrics HTTP/1.1\r\nX-Padding: \(String(repeating: "a", count: fill))\r\n\r\n")
        #expect(atLimit.text == Self.metrics)
    }

    @Test func aHeadInPiecesIsAnsweredOnceComplete() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let client = try Client(server.boundAddress)
        try client.send("GET /met")
        #expect(try Self.run(server, router) { server.connectionCount == 1 })
        for _ in 0..<3 { try Self.turn(server, router, now: Self.t0, watching: [client]) }
        #expect(client.received.isEmpty && router.requests.isEmpty)
        try client.send("rics HTTP/1.1\r\n")
        try client.send("\r\n")
        #expect(try Self.run(server, router, watching: [client]) { client.ended })
        #expect(client.text == Self.metrics && router.requests.count == 1)
    }

    @Test func pipelinedRequestsAfterTheFirstAreIgnored() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let client = try Self.exchange(server, router, "GET /metrics HTTP/1.1\r\n\r\nGET /other HTTP/1.1\r\n\r\nGET /x")
        #expect(client.text == Self.metrics)
        #expect(router.requests.map(\.path) == ["/metrics"])
        client.close()
        #expect(try Self.run(server, router) { server.connectionCount == 0 })
    }

    @Test func aClientThatClosesRightAfterItsRequestIsForgotten() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        // Closed at once: the request is answered into the void, and the connection closed.
        let gone = try Client(server.boundAddress)
        try gone.send("GET /big HTTP/1.1\r\n\r\n")
        gone.close()
        #expect(try Self.run(server, router) { router.requests.count == 1 && server.connectionCount == 0 })
        // Half closed (as `nc -N` does): still gets its whole response.
        let halfClosed = try Client(server.boundAddress)
        try halfClosed.send("GET /metrics HTTP/1.1\r\n\r\n")
        halfClosed.shutdownWrite()
        #expect(try Self.run(server, router, watching: [halfClosed]) { halfClosed.ended && server.connectionCount == 0 })
        #expect(halfClosed.text == Self.metrics)
        // Gone before its head was complete: no answer, no request.
        let quitter = try Client(server.boundAddress)
        try quitter.send("GET /met")
        #expect(try Self.run(server, router) { server.connectionCount == 1 })
        quitter.close()
        #expect(try Self.run(server, router) { server.connectionCount == 0 })
        #expect(router.requests.count == 2)
    }

    // MARK: Deadlines

    static let short = HTTPServer.Limits(readDeadlineNanos: 50 * ms, writeDeadlineNanos: 80 * ms, lingerNanos: 30 * ms)

    @Test func aClientThatSendsNothingIsClosedAtTheReadDeadline() throws {
        let server = try HTTPServer(address: "127.0.0.1:0", limits: Self.short)
        let router = Router()
        let silent = try Client(server.boundAddress)
        #expect(try Self.run(server, router) { server.connectionCount == 1 })
        #expect(server.nextDeadline == Self.t0 + 50 * Self.ms)
        try Self.turn(server, router, now: Self.t0 + 50 * Self.ms - 1, watching: [silent])
        #expect(server.connectionCount == 1 && !silent.ended, "not before its deadline")
        try Self.turn(server, router, now: Self.t0 + 50 * Self.ms)
        #expect(server.connectionCount == 0 && server.nextDeadline == nil)
        #expect(try Self.run(server, router, watching: [silent]) { silent.ended })
        #expect(silent.received.isEmpty && silent.failure == nil && router.requests.isEmpty)
    }

    @Test func aClientThatDoesNotReadItsResponseIsResetAtTheWriteDeadline() throws {
        let server = try HTTPServer(address: "127.0.0.1:0", limits: Self.short)
        let router = Router()
        let stuck = try Client(server.boundAddress, receiveBuffer: 4096)
        try stuck.send("GET /big HTTP/1.1\r\n\r\n")
        // The response has started (its deadline is the write deadline), and cannot all go out.
        #expect(try Self.run(server, router) { server.nextDeadline == Self.t0 + 80 * Self.ms })
        for _ in 0..<3 { try Self.turn(server, router, now: Self.t0 + 80 * Self.ms - 1) }
        #expect(server.connectionCount == 1, "not before its deadline")
        try Self.turn(server, router, now: Self.t0 + 80 * Self.ms)
        #expect(server.connectionCount == 0 && server.nextDeadline == nil)
        #expect(try Self.run(server, router, watching: [stuck]) { stuck.ended })
        #expect(stuck.failure == ECONNRESET, "reset, not ended as if the response were whole")
        #expect(stuck.text.hasPrefix("HTTP/1.1 200 OK\r\n") && stuck.received.count < Router.big.count)
    }

    @Test func aClientThatKeepsItsConnectionAfterTheResponseIsClosedAfterTheLinger() throws {
        let server = try HTTPServer(address: "127.0.0.1:0", limits: Self.short)
        let router = Router()
        let client = try Self.exchange(server, router, "GET /metrics HTTP/1.1\r\n\r\n")
        #expect(client.text == Self.metrics)
        #expect(server.connectionCount == 1 && server.nextDeadline == Self.t0 + 30 * Self.ms)
        try Self.turn(server, router, now: Self.t0 + 30 * Self.ms - 1)
        #expect(server.connectionCount == 1)
        try Self.turn(server, router, now: Self.t0 + 30 * Self.ms)
        #expect(server.connectionCount == 0)
    }

    // MARK: Limits

    @Test func overTheLimitTheOldestIdleClientMakesRoomForANewOne() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let limit = server.limits.maxConnections
        #expect(limit == 8)
        let idle = try (0..<limit).map { _ in try Client(server.boundAddress) }
        #expect(try Self.run(server, router) { server.connectionCount == limit })
        let newcomer = try Client(server.boundAddress)
        #expect(try Self.run(server, router, watching: idle) { idle[0].ended })
        #expect(idle[0].received.isEmpty && server.connectionCount == limit)
        for client in idle { client.pump() }
        #expect(idle.map(\.ended) == [true] + Array(repeating: false, count: limit - 1), "only the oldest")
        try newcomer.send("GET /metrics HTTP/1.1\r\n\r\n")
        #expect(try Self.run(server, router, watching: [newcomer]) { newcomer.ended })
        #expect(newcomer.text == Self.metrics)
    }

    @Test func whileResponsesFillEveryPlaceTheListenerWaits() throws {
        var limits = Self.short
        limits.maxConnections = 1
        let server = try HTTPServer(address: "127.0.0.1:0", limits: limits)
        let router = Router()
        let stuck = try Client(server.boundAddress, receiveBuffer: 4096)
        try stuck.send("GET /big HTTP/1.1\r\n\r\n")
        #expect(try Self.run(server, router) { server.nextDeadline == Self.t0 + 80 * Self.ms })
        let next = try Client(server.boundAddress)
        try next.send("GET /metrics HTTP/1.1\r\n\r\n")
        try Self.waitForBacklog(server)
        for _ in 0..<3 { try Self.turn(server, router, now: Self.t0 + 80 * Self.ms - 1, watching: [next]) }
        #expect(next.received.isEmpty && router.requests.count == 1, "not accepted: a response being sent is never cut short")
        #expect(Self.registered(server, now: Self.t0 + 80 * Self.ms - 1) == 1, "only the response: the listener, which has nothing to give, is left out")
        try Self.turn(server, router, now: Self.t0 + 80 * Self.ms)
        #expect(try Self.run(server, router, now: Self.t0 + 80 * Self.ms, watching: [next]) { next.ended })
        #expect(next.text == Self.metrics)
        #expect(try Self.run(server, router, watching: [stuck]) { stuck.ended })
        #expect(stuck.failure == ECONNRESET)
    }

    /// Accept as a process at its file limit sees it: EMFILE on the calls `fails` picks, the real
    /// accept otherwise.
    final class ShortOfDescriptors {
        var calls = 0
        var fails: (Int) -> Bool = { _ in true }

        func install(on server: HTTPServer) {
            server.acceptCall = { [self] (listener: Int32) throws(SystemError) -> Int32? in
                calls += 1
                if fails(calls) { throw SystemError("accept", errno: EMFILE) }
                return try Sys.accept(listener)
            }
        }
    }

    @Test func outOfDescriptorsWithNobodyIdleTheListenerRests() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let shortage = ShortOfDescriptors()
        shortage.install(on: server)
        let client = try Client(server.boundAddress)
        try client.send("GET /metrics HTTP/1.1\r\n\r\n")
        try Self.waitForBacklog(server)
        let pause = server.limits.pauseNanos
        try Self.turn(server, router, now: Self.t0)
        #expect(shortage.calls == 1 && server.pausedUntil == Self.t0 + pause, "one failed accept, then a rest")
        #expect(server.nextDeadline == Self.t0 + pause && server.connectionCount == 0)
        for _ in 0..<5 { try Self.turn(server, router, now: Self.t0 + pause - 1) }
        #expect(shortage.calls == 1 && Self.registered(server, now: Self.t0 + pause - 1) == 0,
                "a resting listener is not polled, so the loop cannot spin on it")
        shortage.fails = { _ in false }
        #expect(try Self.run(server, router, now: Self.t0 + pause, watching: [client]) { client.ended })
        #expect(client.text == Self.metrics && server.pausedUntil == 0 && shortage.calls >= 2)
    }

    @Test func outOfDescriptorsTheOldestIdleClientMakesRoom() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let router = Router()
        let idle = try Client(server.boundAddress)
        #expect(try Self.run(server, router) { server.connectionCount == 1 })
        let shortage = ShortOfDescriptors()
        shortage.fails = { $0 == 1 }
        shortage.install(on: server)
        let newcomer = try Client(server.boundAddress)
        try newcomer.send("GET /metrics HTTP/1.1\r\n\r\n")
        #expect(try Self.run(server, router, watching: [idle, newcomer]) { idle.ended && newcomer.ended })
        #expect(idle.received.isEmpty && newcomer.text == Self.metrics)
        #expect(server.pausedUntil == 0 && shortage.calls >= 2)
    }

    // MARK: Addresses

    static let badAddresses: [(address: String, description: String)] = [
        ("nohost", "invalid listen address \"nohost\": no port"),
        ("", "invalid listen address \"\": it is empty"),
        ("1.2.3.4:99999", "invalid listen address \"1.2.3.4:99999\": port 99999 is out of range (0–65535)"),
        ("[::1", "invalid listen address \"[::1\": no \"]\" after the IPv6 address"),
        ("[::1]80", "invalid listen address \"[::1]80\": no \":PORT\" after \"]\""),
        ("::1:80", "invalid listen address \"::1:80\": an IPv6 address goes in brackets"),
        ("[127.0.0.1]:80", "invalid listen address \"[127.0.0.1]:80\": \"127.0.0.1\" is not an IPv6 address"),
        ("127.0.0.1:", "invalid listen address \"127.0.0.1:\": no port"),
        (":9464", "invalid listen address \":9464\": no host"),
        ("127.0.0.1:http", "invalid listen address \"127.0.0.1:http\": the port \"http\" is not a number"),
        ("example.com:80", "invalid listen address \"example.com:80\": \"example.com\" is not an IP address or localhost"),
    ]

    @Test(arguments: badAddresses.indices)
    func aBadAddressIsAClearError(index: Int) {
        let (address, description) = Self.badAddresses[index]
        do {
            let server = try HTTPServer(address: address)
            Issue.record("\(address.debugDescription) was accepted: \(server.boundAddress)")
        } catch {
            #expect("\(error)".hasPrefix(description), "\(error)")
            if case .cannotListen = error { Issue.record("\(address.debugDescription) was tried: \(error)") }
        }
    }

    @Test func anAddressInUseIsAClearError() throws {
        let first = try HTTPServer(address: "127.0.0.1:0")
        do {
            let second = try HTTPServer(address: first.boundAddress)
            Issue.record("two listeners on \(second.boundAddress)")
        } catch {
            guard case .cannotListen(_, let cause) = error else { Issue.record("\(error)"); return }
            #expect(cause.errno == EADDRINUSE)
            #expect("\(error)" == "cannot listen on \(first.boundAddress): bind: address already in use")
        }
    }

    @Test(.enabled(if: hasIPv6Loopback, "needs the IPv6 loopback ::1"))
    func IPv6LoopbackAndTheUnspecifiedAddressTakingIPv4Too() throws {
        let server = try HTTPServer(address: "[::1]:0")
        #expect(server.boundAddress.hasPrefix("[::1]:") && !server.boundAddress.hasSuffix(":0"), "\(server.boundAddress)")
        let router = Router()
        #expect(try Self.exchange(server, router, "GET /metrics HTTP/1.1\r\n\r\n").text == Self.metrics)
        let any = try HTTPServer(address: "[::]:0")
        let port = try #require(any.boundAddress.split(separator: ":").last)
        #expect(any.boundAddress == "[::]:\(port)")
        let client = try Client("127.0.0.1:\(port)")
        try client.send("GET /metrics HTTP/1.1\r\n\r\n")
        #expect(try Self.run(any, router, watching: [client]) { client.ended })
        #expect(client.text == Self.metrics)
    }
}
